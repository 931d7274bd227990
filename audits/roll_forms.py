"""Forms of roll checks, follow-ups and the daily roll call. Errors are Chinese, next to the field;
the services re-check every rule."""

from datetime import date

from django import forms

from .models import AbsenceFollowUp, DailyAttendance, UnrecordedChild

DATE_WIDGET = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.RadioSelect | forms.CheckboxInput):
            continue
        widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")


class UnrecordedForm(forms.Form):
    """A child present in class without a record here."""

    name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写姓名"})
    gender = forms.ChoiceField(label="性别", choices=[("", "请选择"), ("1", "男"), ("2", "女")],
                               error_messages={"required": "请选择性别", "invalid_choice": "请选择性别"})
    birth_date = forms.DateField(label="出生日期", widget=DATE_WIDGET,
                                 error_messages={"required": "请填写出生日期", "invalid": "日期格式应为 YYYY-MM-DD"})
    note = forms.CharField(label="说明", max_length=200, required=False, help_text="如：从何处转来、家长联系方式")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > date.today() or value.year < 1990:
            raise forms.ValidationError("出生日期不正确")
        return value


class ResolveForm(forms.Form):
    """How a "present without record" case ended: registered or transferred in (with the record),
    or the child left (with a note)."""

    status = forms.ChoiceField(label="处理结果", choices=[(v, label) for v, label in UnrecordedChild.Status.choices
                                                      if v != UnrecordedChild.Status.OPEN],
                               error_messages={"required": "请选择处理结果", "invalid_choice": "请选择处理结果"})
    student = forms.ModelChoiceField(label="本校学籍", queryset=None, required=False,
                                     error_messages={"invalid_choice": "请选择本校的学籍"})
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, students=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"].queryset = students
        self.fields["student"].label_from_instance = lambda s: f"{s.name}（{s.grade.name}，{s.get_status_display()}）"
        _style(self)

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status in (UnrecordedChild.Status.REGISTERED, UnrecordedChild.Status.TRANSFERRED_IN) \
                and not data.get("student"):
            self.add_error("student", "请选择该生在本校的学籍")
        if status == UnrecordedChild.Status.LEFT and not (data.get("note") or "").strip():
            self.add_error("note", "请说明该生的去向")
        return data


class FollowUpForm(forms.Form):
    """What the follow-up found so far (saved as often as needed)."""

    contacts = forms.CharField(label="联系情况", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="何时以何种方式联系了谁，结果如何",
                               error_messages={"required": "请填写联系情况"})
    reason = forms.CharField(label="缺勤原因", max_length=200, required=False)
    destination = forms.CharField(label="去向", max_length=200, required=False,
                                  help_text="如：随父母迁往外省某市就读")
    evidence = forms.FileField(label="佐证材料", required=False, help_text="JPG、PNG 或 PDF，不超过 2 MB")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class CloseForm(forms.Form):
    """The outcome that closes a follow-up."""

    outcome = forms.ChoiceField(label="随访结果", choices=[("", "请选择"), *AbsenceFollowUp.Outcome.choices],
                                error_messages={"required": "请选择随访结果", "invalid_choice": "请选择随访结果"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class RollCallForm(forms.Form):
    """One choice per child on the roster (出勤 / 请假 / 缺勤); ``absences()`` gives the others."""

    CHOICES = [(DailyAttendance.Status.PRESENT, "出勤"), (DailyAttendance.Status.LEAVE, "请假"),
               (DailyAttendance.Status.ABSENT, "缺勤")]

    def __init__(self, *args, students=(), marks=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.students = list(students)
        marks = marks or {}
        for s in self.students:
            self.fields[f"s_{s.pk}"] = forms.ChoiceField(
                label=s.name, choices=self.CHOICES, initial=marks.get(s.pk, DailyAttendance.Status.PRESENT),
                widget=forms.RadioSelect, required=False, error_messages={"invalid_choice": "请选择出勤情况"})

    def absences(self) -> dict[int, str]:
        """{student pk: "leave" | "absent"} of the children not marked present."""
        return {s.pk: self.cleaned_data[f"s_{s.pk}"] for s in self.students
                if self.cleaned_data.get(f"s_{s.pk}") not in (None, "", DailyAttendance.Status.PRESENT)}

    def rows(self):
        """(student, bound radio field) per child on the roster, for the template."""
        return [(s, self[f"s_{s.pk}"]) for s in self.students]
