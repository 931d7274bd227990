"""Forms of the agreements pages (Chinese labels and errors)."""

from django import forms

from xueji.forms import BootstrapMixin

from .models import AgreementTemplate


class SignForm(forms.Form):
    confirmed = forms.BooleanField(label="我已阅读全部条款，同意签署", required=True,
                                   error_messages={"required": "请勾选确认后再签署"})


class GuardianSignForm(forms.Form):
    typed_name = forms.CharField(label="监护人完整姓名", max_length=50,
                                 help_text="请填写学籍中登记的监护人完整姓名，视同签字",
                                 error_messages={"required": "请填写监护人的完整姓名"})
    confirmed = forms.BooleanField(label="我已阅读并理解以上内容，自愿承担相应责任", required=True,
                                   error_messages={"required": "请勾选确认后再签署"})


class PaperSignatureForm(forms.Form):
    signer_name = forms.CharField(label="签字监护人姓名", max_length=50,
                                  error_messages={"required": "请填写签字监护人的姓名"})
    scan = forms.FileField(label="签字页扫描件", help_text="JPG、PNG 或 PDF，不超过 2 MB",
                           error_messages={"required": "请上传签字页扫描件"})


class VoidForm(forms.Form):
    reason = forms.CharField(label="作废原因", max_length=200, error_messages={"required": "请填写作废原因"})


class InvitationForm(forms.Form):
    guardian_name = forms.CharField(label="监护人姓名", max_length=50,
                                    error_messages={"required": "请填写监护人姓名"})


class RedeemForm(forms.Form):
    code = forms.CharField(label="邀请码", max_length=32, help_text="学校发给您的邀请码，如 ABCD-EFGH-JKLM",
                           error_messages={"required": "请填写邀请码"})
    username = forms.RegexField(label="用户名", max_length=30, regex=r"^[A-Za-z0-9_.@+-]{4,30}$",
                                help_text="4–30 位字母、数字或 _ . @ + -",
                                error_messages={"required": "请填写用户名",
                                                "invalid": "用户名只能由4–30位字母、数字或 _ . @ + - 组成"})
    password = forms.CharField(label="密码", widget=forms.PasswordInput(render_value=False), max_length=128,
                               error_messages={"required": "请设置密码"})
    password2 = forms.CharField(label="再次输入密码", widget=forms.PasswordInput(render_value=False), max_length=128,
                                error_messages={"required": "请再次输入密码"})

    def __init__(self, *args, existing_user=False, **kwargs):
        super().__init__(*args, **kwargs)
        if existing_user:  # a logged-in guardian adds a child: only the code
            for name in ("username", "password", "password2"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if "password2" in self.fields and data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", "两次输入的密码不一致")
        return data


class TemplateForm(forms.ModelForm):
    class Meta:
        model = AgreementTemplate
        fields = ["title", "party_a_label", "party_b_label", "clauses", "is_active"]
        widgets = {"clauses": forms.Textarea(attrs={"rows": 24})}
        error_messages = {"title": {"required": "请填写标题"}, "clauses": {"required": "请填写条款"}}


MONTHS = [(m, f"{m}月") for m in range(1, 13)]
WINDOW_FIELDS = ("start_month", "start_day", "end_month", "end_day")


def _day_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=1, max_value=31,
                              widget=forms.NumberInput(attrs={"min": 1, "max": 31}),
                              error_messages={"required": f"请填写{label}", "invalid": f"{label}应为数字",
                                              "min_value": f"{label}应为1到31", "max_value": f"{label}应为1到31"})


def _month_field(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=MONTHS, coerce=int,
                                  error_messages={"required": f"请选择{label}", "invalid_choice": f"请选择{label}"})


class AgeWindowForm(BootstrapMixin, forms.Form):
    """A province's first-grade age window (month and day of its start and end).

    ``confirm`` carries the window the user saw the effect of (``signature``): the change is saved
    only when the posted window is the one confirmed, so editing after the preview shows the new
    effect again instead of saving something unconfirmed.
    """

    start_month = _month_field("起始月份")
    start_day = _day_field("起始日")
    end_month = _month_field("截止月份")
    end_day = _day_field("截止日")
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        from .rules import window_dates_check

        data = super().clean()
        if all(data.get(name) is not None for name in WINDOW_FIELDS):
            try:
                window_dates_check(*self.window())
            except forms.ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return data

    def window(self) -> tuple[int, int, int, int]:
        """(start month, start day, end month, end day) from the cleaned data."""
        return tuple(self.cleaned_data[name] for name in WINDOW_FIELDS)

    def signature(self) -> str:
        return "-".join(str(v) for v in self.window())

    @property
    def confirmed(self) -> bool:
        return self.cleaned_data.get("confirm") == self.signature()
