"""Forms of status changes. Errors are Chinese and sit next to their field; services re-check."""

from django import forms

from schools.models import SchoolClass
from students import codes

from .models import REASON_CATEGORIES, ChangeKind

DATE_WIDGET = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
KINDS_FROM_STUDENT_PAGE = [k for k in ChangeKind.values if k not in (ChangeKind.REGISTRATION, ChangeKind.TRANSFER)]
KINDS_WITH_CLASS = (ChangeKind.RESUMPTION, ChangeKind.RETENTION, ChangeKind.ACCELERATION)
KINDS_NEEDING_EVIDENCE = (ChangeKind.SUSPENSION, ChangeKind.KEY_DATA_CORRECTION)


class ClassChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.school.name} {obj.name}"


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class TransferLookupForm(forms.Form):
    """The receiving school looks a student up by exact national student number or ID number."""

    query = forms.CharField(label="全国学籍号或身份证件号", max_length=40, strip=True,
                            help_text="须完整、准确，不支持模糊查询")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class TransferForm(forms.Form):
    """Start a transfer into one of the user's classes of the student's grade."""

    query = forms.CharField(widget=forms.HiddenInput, max_length=40)
    target_class = ClassChoiceField(label="转入班级", queryset=SchoolClass.objects.none(),
                                    error_messages={"invalid_choice": "请选择本校同年级的班级"})
    reason_category = forms.ChoiceField(label="转学原因类别", choices=REASON_CATEGORIES[ChangeKind.TRANSFER])
    reason = forms.CharField(label="原因说明", widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)

    def __init__(self, *args, classes=None, **kwargs):
        super().__init__(*args, **kwargs)
        if classes is not None:
            self.fields["target_class"].queryset = classes
        _style(self)


class ChangeForm(forms.Form):
    """A change started from the student's page; the fields depend on the kind."""

    reason_category = forms.ChoiceField(label="原因类别")
    reason = forms.CharField(label="原因说明", widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)
    start_date = forms.DateField(label="开始日期", widget=DATE_WIDGET, required=False)
    end_date = forms.DateField(label="结束日期", widget=DATE_WIDGET, required=False)
    target_class = ClassChoiceField(label="编入班级", queryset=SchoolClass.objects.none(), required=False)
    name = forms.CharField(label="姓名", max_length=50, required=False)
    gender = forms.ChoiceField(label="性别", choices=codes.GENDER_CHOICES, required=False)
    birth_date = forms.DateField(label="出生日期", widget=DATE_WIDGET, required=False)
    id_type = forms.ChoiceField(label="身份证件类型", choices=codes.ID_TYPE_CHOICES, required=False)
    id_number = forms.CharField(label="身份证件号", max_length=40, required=False)
    ethnicity = forms.ChoiceField(label="民族", choices=codes.ETHNICITY_CHOICES, required=False)
    follow_up = forms.CharField(label="随访记录（劝返情况）", widget=forms.Textarea(attrs={"rows": 3}),
                                max_length=2000, required=False)
    evidence = forms.FileField(label="佐证材料（JPG、PNG 或 PDF，不超过 2 MB）", required=False)

    KEY_FIELDS = ("name", "gender", "birth_date", "id_type", "id_number", "ethnicity")

    def __init__(self, *args, kind: str, student, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind, self.student = kind, student
        self.fields["reason_category"].choices = [("", "请选择")] + REASON_CATEGORIES[kind]
        keep = {"reason_category", "reason"}
        if kind == ChangeKind.SUSPENSION:
            keep |= {"start_date", "end_date"}
            self.fields["start_date"].required = self.fields["end_date"].required = True
        if kind in KINDS_WITH_CLASS:
            keep.add("target_class")
            self.fields["target_class"].required = True
            self.fields["target_class"].queryset = (SchoolClass.objects.filter(school=student.school)
                                                    .select_related("school", "grade"))
        if kind == ChangeKind.KEY_DATA_CORRECTION:
            keep |= set(self.KEY_FIELDS)
            for name in self.KEY_FIELDS:
                self.fields[name].required = name != "id_number"
                self.fields[name].initial = getattr(student, name)
            # The current number is shown masked only: seeing it in full is a logged reveal (DESIGN.md §7).
            self.fields["id_number"].initial = ""
            self.fields["id_number"].help_text = f"当前：{student.masked_id_number or '无'}；不修改证件号时请留空"
        if kind == ChangeKind.DROPOUT and not editing:
            keep.add("follow_up")
            self.fields["follow_up"].required = True
        if not editing:
            keep.add("evidence")
            self.fields["evidence"].required = kind in KINDS_NEEDING_EVIDENCE
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        _style(self)

    def key_data(self) -> dict | None:
        """The correction's new values ({field: value}); the ID number only when one was entered."""
        if self.kind != ChangeKind.KEY_DATA_CORRECTION:
            return None
        data = {name: self.cleaned_data.get(name) for name in self.KEY_FIELDS}
        if not data["id_number"]:
            data.pop("id_number")
            if data["id_type"] == self.student.id_type:
                data.pop("id_type")
        return data

    def change_fields(self) -> dict:
        """Keyword arguments for the change services."""
        names = ("reason_category", "reason", "start_date", "end_date", "target_class")
        return {name: self.cleaned_data[name] for name in names if name in self.fields}


class DecisionForm(forms.Form):
    """One decision: approve or reject (a rejection needs a reason)."""

    decision = forms.ChoiceField(choices=[("approve", "通过"), ("reject", "退回")])
    comment = forms.CharField(label="意见", widget=forms.Textarea(attrs={"rows": 2}), required=False,
                              max_length=1000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            self.add_error("comment", "退回必须填写理由")
        return data


class BatchDecisionForm(DecisionForm):
    """Several steps from the queue with one comment."""

    steps = forms.TypedMultipleChoiceField(coerce=int, choices=(), error_messages={"required": "请至少勾选一项"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any integer is accepted here; the view resolves each step through the access layer.
        self.fields["steps"].valid_value = lambda value: str(value).isdigit()


class ReasonForm(forms.Form):
    """A reason (roll-back, withdrawal)."""

    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=500)

    def __init__(self, *args, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        _style(self)


class EvidenceForm(forms.Form):
    file = forms.FileField(label="佐证材料（JPG、PNG 或 PDF，不超过 2 MB）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class FollowUpForm(forms.Form):
    note = forms.CharField(label="随访情况", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
