"""Forms of the agreements pages (Chinese labels and errors)."""

from django import forms

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
