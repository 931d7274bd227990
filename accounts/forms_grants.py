"""Forms of the security administrator's pages: new account, role grant, revocation.

Units (home region, region, school, class) are offered as selects limited to the administrator's
scope, but the form does not decide access: the view resolves the chosen unit through
xueji.access (404 outside the scope, 403 without ``manage_roles``), so a forged value never
reaches a service.
"""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.urls import reverse_lazy

from schools.models import School, SchoolClass
from schools.selectors import classes_in_order, region_labels, regions_in_scope
from xueji.access import scoped
from xueji.forms import BootstrapMixin

from .models import Role, User
from .roles import ROLE_UNIT_KINDS
from .selectors import managed_user

# Guardians are linked to their children by the registrar, not granted here.
GRANTABLE_ROLES = [(value, label) for value, label in Role.choices if value != Role.GUARDIAN]
UNIT_LABELS = {"region": "行政区划", "school": "学校", "school_class": "班级"}
# From the widest to the narrowest unit: a grant goes on the narrowest unit the role allows.
UNIT_ORDER = ("region", "school", "school_class")


def region_choices(actor) -> list[tuple[str, str]]:
    """Active regions where ``actor`` holds ``manage_roles``, labelled by their path (one query)."""
    regions = list(regions_in_scope(actor, "manage_roles"))
    labels = region_labels(regions)
    return [("", "请选择")] + [(r.code, labels[r.code]) for r in regions]


class AccountCreateForm(BootstrapMixin, forms.Form):
    """A new account under a region of the administrator; it must change the password at first login."""

    username = User._meta.get_field("username").formfield(label="用户名")
    real_name = forms.CharField(label="姓名", max_length=32)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    home_region = forms.CharField(label="所属行政区划", widget=forms.Select,
                                  help_text="账号归属的行政区划，决定哪位安全管理员管理它")
    password = forms.CharField(label="初始密码", strip=False, widget=forms.PasswordInput,
                               help_text="至少8位，须同时包含字母和数字；首次登录时须修改")
    password_again = forms.CharField(label="再次输入初始密码", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_region"].widget.choices = region_choices(actor)

    def clean(self):
        data = super().clean()
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "两次输入的密码不一致")
        elif password:
            candidate = User(username=data.get("username", ""), real_name=data.get("real_name", ""))
            try:
                validate_password(password, candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class RoleGrantForm(BootstrapMixin, forms.Form):
    """Who gets which role on which unit. ``clean`` sets ``user``, ``unit_kind`` and ``unit_pk``."""

    username = forms.CharField(label="账号", max_length=150, widget=forms.TextInput(attrs={
        "list": "user-options", "autocomplete": "off", "placeholder": "输入用户名或姓名查找",
        "hx-get": reverse_lazy("accounts:grant_user_options"), "hx-target": "#user-options",
        "hx-trigger": "input changed delay:300ms"}))
    role = forms.ChoiceField(label="角色", choices=[("", "请选择")] + GRANTABLE_ROLES)
    region = forms.CharField(label="行政区划", required=False, widget=forms.Select)
    school = forms.IntegerField(label="学校", required=False, widget=forms.Select(attrs={
        "hx-get": reverse_lazy("accounts:grant_class_options"), "hx-target": "#id_school_class",
        "hx-trigger": "change"}))
    school_class = forms.IntegerField(label="班级", required=False, widget=forms.Select)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["region"].widget.choices = region_choices(actor)
        self.fields["school"].widget.choices = self._school_choices()
        self.fields["school_class"].widget.choices = self._class_choices()

    def _raw(self, name):
        value = (self.data.get(name) if self.is_bound else self.initial.get(name)) or ""
        return value if str(value).isdigit() else ""

    def _school_choices(self):
        # Keep the chosen school on a re-displayed form (its options otherwise come from the search).
        school = scoped(self.actor, School.objects.all()).filter(pk=self._raw("school")).first() \
            if self._raw("school") else None
        return [("", "请先搜索学校")] + ([(school.pk, f"{school.name}（{school.school_code}）")] if school else [])

    def _class_choices(self):
        school_id = self._raw("school")
        classes = classes_in_order(scoped(self.actor, SchoolClass.objects.filter(school_id=school_id))) \
            if school_id else []
        return [("", "请选择班级")] + [(c.pk, c.name) for c in classes]

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = managed_user(self.actor, username)
        if user is None:
            raise forms.ValidationError("账号不存在或不在您的管辖范围内")
        if user.pk == self.actor.pk:
            raise forms.ValidationError("不能给自己授予角色")
        self.cleaned_data["user"] = user
        return username

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if not role:
            return data
        allowed = ROLE_UNIT_KINDS[role]
        filled = [kind for kind in UNIT_ORDER if data.get(kind) not in (None, "")]
        label = Role(role).label
        too_narrow = [kind for kind in filled if UNIT_ORDER.index(kind) > max(UNIT_ORDER.index(k) for k in allowed)]
        for kind in too_narrow:
            self.add_error(kind, f"{label}不能授予在{UNIT_LABELS[kind]}上")
        chosen = [kind for kind in filled if kind in allowed]
        if too_narrow:
            return data
        if not chosen:
            self.add_error(allowed[-1], f"请为{label}选择{'或'.join(UNIT_LABELS[k] for k in allowed)}")
            return data
        data["unit_kind"] = chosen[-1]
        data["unit_pk"] = data[chosen[-1]]
        return data


class RevokeForm(BootstrapMixin, forms.Form):
    """The reason for a revocation: it goes into the history row and the audit event."""

    reason = forms.CharField(label="撤销原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))
