"""Forms of the oversight pages. Choices are limited to the user's units; services re-check every rule."""

from django import forms
from django.core.validators import RegexValidator

from schools.models import Region, School

from .models import Failing, Inspection, InspectionItem, RectificationReply
from .sampling import MAX_SAMPLE

DATE_INPUT = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.RadioSelect):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class RegionChoiceField(forms.ModelChoiceField):
    """A region shown with its code, e.g. "瑶海区（340102）"."""

    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.code}）"


class InspectionForm(forms.Form):
    """Draw a sample: the region, how many (a size or a percentage) and the seed."""

    title = forms.CharField(label="名称", max_length=100, initial="学籍信息抽查")
    organiser = RegionChoiceField(label="组织单位", queryset=Region.objects.none(), empty_label=None)
    kind = forms.ChoiceField(label="类型", choices=Inspection.Kind.choices, initial=Inspection.Kind.REGULAR)
    inspected_region = RegionChoiceField(label="被检查单位（抽样范围）", queryset=Region.objects.none())
    inspecting_region = RegionChoiceField(label="检查单位（仅互查）", queryset=Region.objects.none(), required=False,
                                          help_text="互查时由本市另一区县的督查人员核查")
    size = forms.IntegerField(label="抽样数量", required=False, min_value=1, max_value=MAX_SAMPLE)
    percent = forms.DecimalField(label="或抽样比例（%）", required=False, min_value=0.01, max_value=100,
                                 decimal_places=2, max_digits=5)
    seed = forms.CharField(label="随机种子", max_length=32, required=False,
                           help_text="留空则自动生成；相同的种子对相同的学籍抽出相同的样本，可供复核")
    answer_due = forms.DateField(label="学校核实期限", required=False, widget=DATE_INPUT)

    def __init__(self, *args, organisers, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = organisers
        self.fields["inspected_region"].queryset = regions
        self.fields["inspecting_region"].queryset = regions
        _style(self)

    def clean(self):
        data = super().clean()
        if data.get("size") is None and data.get("percent") is None and not self.errors.get("size") \
                and not self.errors.get("percent"):
            self.add_error("size", "请填写抽样数量或抽样比例（二选一）")
        elif data.get("size") is not None and data.get("percent") is not None:
            self.add_error("percent", "抽样数量和抽样比例只能填写一项")
        if data.get("kind") == Inspection.Kind.CROSS and not data.get("inspecting_region"):
            self.add_error("inspecting_region", "互查须指定检查单位")
        return data


class AssignForm(forms.Form):
    answer_due = forms.DateField(label="学校核实期限", required=False, widget=DATE_INPUT)


class AnswerForm(forms.Form):
    """The school's answer on one sampled record."""

    answer = forms.ChoiceField(label="核实结果", widget=forms.RadioSelect,
                               choices=[(InspectionItem.Answer.VERIFIED, "核实无误"),
                                        (InspectionItem.Answer.CORRECTED, "已更正")])
    note = forms.CharField(label="核实说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="已更正时写明更正了哪些信息")
    evidence = forms.FileField(label="佐证材料", required=False, help_text="JPG、PNG 或 PDF，不超过 2 MB")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class JudgeForm(forms.Form):
    """An inspector's verdict on one sampled record."""

    verdict = forms.ChoiceField(label="检查结论", choices=[(InspectionItem.Verdict.CORRECT, "信息准确"),
                                                        (InspectionItem.Verdict.CORRECTED, "已更正"),
                                                        (InspectionItem.Verdict.FALSE, "信息不实")])
    note = forms.CharField(label="结论说明", required=False, max_length=2000)


class NoticeForm(forms.Form):
    """A rectification notice: issuer, target unit (by code), failing, text and deadline."""

    issuer = RegionChoiceField(label="发文单位", queryset=Region.objects.none(), empty_label=None)
    target = forms.CharField(label="整改单位代码", max_length=10,
                             validators=[RegexValidator(r"^(\d{6}|\d{10})$", "请填写6位行政区划代码或10位学校标识码")],
                             help_text="下级教育行政部门的6位行政区划代码，或学校的10位学校标识码")
    failing = forms.ChoiceField(label="问题类别", choices=Failing.choices)
    title = forms.CharField(label="标题", max_length=100)
    details = forms.CharField(label="问题与整改要求", max_length=5000, widget=forms.Textarea(attrs={"rows": 5}))
    deadline = forms.DateField(label="整改期限", widget=DATE_INPUT)

    def __init__(self, *args, issuers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuer"].queryset = issuers
        _style(self)

    def clean_target(self):
        code = self.cleaned_data["target"]
        unit = (Region.objects.filter(code=code).first() if len(code) == 6
                else School.objects.filter(school_code=code).first())
        if unit is None:
            raise forms.ValidationError("找不到该单位")
        return unit


class ReplyForm(forms.Form):
    text = forms.CharField(label="整改情况", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    evidence = forms.FileField(label="佐证材料", required=False, help_text="JPG、PNG 或 PDF，不超过 2 MB")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label="审核结果", widget=forms.RadioSelect,
                                 choices=[(RectificationReply.Decision.CLOSED, "整改到位，关闭"),
                                          (RectificationReply.Decision.RETURNED, "退回重新整改")])
    comment = forms.CharField(label="审核意见", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    new_deadline = forms.DateField(label="新的整改期限（退回时可选）", required=False, widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ReportRequestForm(forms.Form):
    city = RegionChoiceField(label="报送单位", queryset=Region.objects.none(), empty_label=None)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label="季度", coerce=int, choices=[(1, "第一季度"), (2, "第二季度"),
                                                                       (3, "第三季度"), (4, "第四季度")])

    def __init__(self, *args, cities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].queryset = cities
        _style(self)


class SubmitForm(forms.Form):
    note = forms.CharField(label="审阅说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
