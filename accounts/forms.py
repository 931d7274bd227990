from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm


class LoginForm(AuthenticationForm):
    """Django's login form with Chinese messages and Bootstrap classes."""

    error_messages = {
        "invalid_login": "用户名或密码错误。连续失败多次后账号将被临时锁定。",
        "inactive": "该账号已停用。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class XuejiPasswordChangeForm(PasswordChangeForm):
    """Django's password-change form with Bootstrap classes.

    Labels and messages come from Django's zh-hans translation; the password rules are
    AUTH_PASSWORD_VALIDATORS (at least 8 characters, letters and digits: accounts.validators).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"
