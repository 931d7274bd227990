"""Forms of the school year. Errors are Chinese and sit next to their field; services re-check."""

from django import forms

from .models import Outcome


class DecisionForm(forms.Form):
    """Approve or reject a graduation batch's current step; a rejection needs a reason."""

    decision = forms.ChoiceField(label="处理决定", choices=[("approve", "通过"), ("reject", "退回")],
                                 error_messages={"required": "请选择处理决定", "invalid_choice": "请选择处理决定"})
    comment = forms.CharField(label="意见", required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}))

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("comment") or "").strip():
            self.add_error("comment", "退回必须填写理由")
        return data


class ReasonForm(forms.Form):
    """A reason for undoing a graduation."""

    reason = forms.CharField(label="撤销理由", max_length=200, error_messages={"required": "请填写撤销理由"},
                             widget=forms.TextInput(attrs={"class": "form-control"}))


class GraduationForm(forms.Form):
    """Tick the students to graduate and give each an outcome (毕业 / 结业 / 肄业).

    One ``pick_<pk>`` checkbox and one ``outcome_<pk>`` select per eligible student; ``chosen()``
    returns {student pk: outcome} of the ticked ones."""

    def __init__(self, *args, students=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.students = list(students)
        for s in self.students:
            self.fields[f"pick_{s.pk}"] = forms.BooleanField(required=False, initial=True, label=s.name)
            self.fields[f"outcome_{s.pk}"] = forms.ChoiceField(
                choices=Outcome.choices, initial=Outcome.GRADUATED, label="结果",
                error_messages={"invalid_choice": "请选择毕业、结业或肄业"},
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def clean(self):
        data = super().clean()
        if not self.errors and not self.chosen():
            raise forms.ValidationError("请至少选择一名学生")
        return data

    def chosen(self) -> dict[int, str]:
        data = getattr(self, "cleaned_data", {})
        return {s.pk: data.get(f"outcome_{s.pk}") for s in self.students if data.get(f"pick_{s.pk}")}

    def rows(self):
        """(student, pick bound field, outcome bound field) per student, for the template."""
        return [(s, self[f"pick_{s.pk}"], self[f"outcome_{s.pk}"]) for s in self.students]
