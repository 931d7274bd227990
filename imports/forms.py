"""Forms of the import and export pages."""

from django import forms

from schools.models import School, SchoolClass


class UploadForm(forms.Form):
    """Choose the school (when the user registers for several) and the file."""

    school = forms.ModelChoiceField(label="导入到学校", queryset=School.objects.none(), empty_label=None,
                                    widget=forms.Select(attrs={"class": "form-select"}))
    file = forms.FileField(label="Excel 文件（.xlsx）",
                           widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx"}))
    commit = forms.BooleanField(label="校验全部通过后直接导入并提交注册（不勾选则只校验）", required=False,
                                initial=True, widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class ExportForm(forms.Form):
    """Which students, and whether ID numbers are shown in full (then a reason is required).

    ``classes``: the classes of the school the user may export (view_students, through the access
    layer). ``whole_school``: whether the user may export the whole school; when False (a head
    teacher, who holds view_students on a class only) a class must be chosen.
    """

    school_class = forms.ModelChoiceField(label="班级", queryset=SchoolClass.objects.none(), required=False,
                                          empty_label="全校", widget=forms.Select(attrs={"class": "form-select"}))
    live_only = forms.BooleanField(label="只导出在籍、休学和待审核的学生", required=False, initial=True,
                                   widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    full = forms.BooleanField(label="导出完整身份证件号（将记入审计日志）", required=False,
                              widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    reason = forms.CharField(label="导出原因", max_length=200, required=False,
                             widget=forms.TextInput(attrs={"class": "form-control"}))

    def __init__(self, *args, classes, whole_school: bool, may_reveal: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["school_class"]
        field.queryset = classes.select_related("grade").order_by("grade__stage", "grade__level", "number")
        if not whole_school:
            field.required = True
            field.empty_label = None
            field.error_messages["required"] = "请选择班级"
        if not may_reveal:
            del self.fields["full"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("full") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "导出完整身份证件号须填写导出原因")
        return cleaned
