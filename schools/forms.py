"""Forms of the school pages. They collect input only; the rules live in schools.services."""

from django import forms
from django.urls import reverse

from accounts.models import User
from xueji.forms import BootstrapMixin

from .models import Grade, Region, School, SchoolClass
from .selectors import region_labels


class RegionField(forms.ModelChoiceField):
    """A select of regions labelled with their path inside the offered set ("合肥市 / 瑶海区")."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset=queryset, **kwargs)
        self.set_queryset(queryset)

    def set_queryset(self, queryset):
        """Offer ``queryset`` (evaluated once here, so rendering adds no query)."""
        self.queryset = queryset
        regions = list(queryset)
        labels = region_labels(regions)
        empty = [("", self.empty_label)] if self.empty_label is not None else []
        self.choices = empty + [(r.code, labels[r.code]) for r in regions]


def _model_field(name: str, **kwargs):
    return School._meta.get_field(name).formfield(**kwargs)


class SchoolForm(BootstrapMixin, forms.Form):
    """A school's fields. A plain Form, not a ModelForm: the service compares the old values with
    the new ones, so the form must not write into the instance before the service runs."""

    # Model-field validators (the 10-digit pattern) are not copied to form fields by Django.
    school_code = _model_field("school_code", help_text="10位数字的全国学校标识码",
                               validators=School._meta.get_field("school_code").validators)
    name = _model_field("name")
    stage = _model_field("stage")
    primary_years = _model_field("primary_years", help_text="空白表示默认6年")
    junior_years = _model_field("junior_years", help_text="空白表示默认3年")
    senior_years = _model_field("senior_years", help_text="空白表示默认3年")
    ownership = _model_field("ownership")
    region = RegionField(Region.objects.none(), label="所在行政区划", help_text="学校所在的最低一级行政区划")
    authority = RegionField(Region.objects.none(), label="学籍主管部门",
                            help_text="审核本校学籍的教育行政部门：所在地或其上级（省直属学校选省）")
    is_active = forms.BooleanField(label="在办", required=False, initial=True)

    def __init__(self, *args, regions, authorities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].set_queryset(regions)
        self.fields["authority"].set_queryset(authorities)
        # Choosing the region narrows 学籍主管部门 to the region and its ancestors (htmx); without
        # JavaScript the whole list stays and the service checks the choice.
        self.fields["region"].widget.attrs.update({
            "hx-get": reverse("schools:authority_options"), "hx-target": "#id_authority", "hx-trigger": "change"})

    @staticmethod
    def initial_for(school: School) -> dict:
        """The form's initial data from an existing school."""
        data = {name: getattr(school, name) for name in ("school_code", "name", "stage", "primary_years",
                                                          "junior_years", "senior_years", "ownership", "is_active")}
        data.update(region=school.region_id, authority=school.authority_id)
        return data


class HeadTeacherField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.real_name or obj.username}（{obj.username}）"


class ClassCreateForm(BootstrapMixin, forms.Form):
    """A new class in one of the school's grades."""

    grade = forms.ModelChoiceField(Grade.objects.none(), label="年级")
    number = forms.IntegerField(label="班号", min_value=1, max_value=99)
    name = forms.CharField(label="班级名称", max_length=32, required=False, help_text="留空则为“一年级(1)班”式名称")
    head_teacher = HeadTeacherField(User.objects.none(), label="班主任", required=False)

    def __init__(self, *args, grades, teachers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].queryset = grades
        self.fields["head_teacher"].queryset = teachers


class ClassUpdateForm(BootstrapMixin, forms.Form):
    """Rename a class or change its head teacher."""

    name = forms.CharField(label="班级名称", max_length=32)
    head_teacher = HeadTeacherField(User.objects.none(), label="班主任", required=False)

    def __init__(self, *args, teachers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["head_teacher"].queryset = teachers

    @staticmethod
    def initial_for(school_class: SchoolClass) -> dict:
        return {"name": school_class.name, "head_teacher": school_class.head_teacher_id}
