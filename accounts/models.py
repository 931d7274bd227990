"""Users and role grants (DESIGN.md §1)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from xueji.scope import ScopeFields


class User(AbstractUser):
    """A person who logs in. Roles come only from ``RoleGrant`` rows, never from Django groups."""

    real_name = models.CharField("姓名", max_length=32, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    must_change_password = models.BooleanField("首次登录须修改密码", default=False)
    # The region under whose security administrator the account was created: it scopes who may
    # manage the account and where its login events show in the audit log. None for guardians.
    home_region = models.ForeignKey("schools.Region", verbose_name="所属行政区划", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords(excluded_fields=["last_login", "password"])
    scope_fields = ScopeFields(path="home_region__path")

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self):
        return self.real_name or self.username


class Role(models.TextChoices):
    """The eight roles of DESIGN.md §1. The last three are the 三员分立 split."""

    REGISTRAR = "registrar", "学籍管理员"
    APPROVER = "approver", "学籍主管领导/审核人"
    HEAD_TEACHER = "head_teacher", "班主任"
    INSPECTOR = "inspector", "督查/抽查人员"
    GUARDIAN = "guardian", "家长/监护人"
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"


SEPARATED_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)


class RoleGrant(models.Model):
    """One role held by one user on exactly one unit: a region, a school or a class.

    The grant is the source of truth; ``accounts.services`` turns it into django-guardian object
    permissions on the unit while it is active. An inactive grant (e.g. a registrar whose agreement
    for the year is not signed yet) gives no permission.
    """

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    region = models.ForeignKey("schools.Region", verbose_name="行政区划", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="role_grants")
    school = models.ForeignKey("schools.School", verbose_name="学校", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="role_grants")
    school_class = models.ForeignKey("schools.SchoolClass", verbose_name="班级", null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="role_grants")
    is_active = models.BooleanField("生效", default=True)
    inactive_reason = models.CharField("未生效原因", max_length=100, blank=True)
    granted_by = models.ForeignKey(User, verbose_name="授权人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        ordering = ["user_id", "role"]
        constraints = [
            # Exactly one unit (guardians hold none: they reach only their own children).
            models.CheckConstraint(
                name="role_grant_exactly_one_unit",
                condition=(
                    Q(role="guardian", region__isnull=True, school__isnull=True, school_class__isnull=True)
                    | (~Q(role="guardian") & (
                        Q(region__isnull=False, school__isnull=True, school_class__isnull=True)
                        | Q(region__isnull=True, school__isnull=False, school_class__isnull=True)
                        | Q(region__isnull=True, school__isnull=True, school_class__isnull=False)))
                ),
            ),
            # 三员分立: one account holds at most one grant of the three administrator roles.
            models.UniqueConstraint(
                fields=["user"], condition=Q(role__in=["system_admin", "security_admin", "audit_admin"]),
                name="role_grant_one_admin_role_per_user",
            ),
            models.UniqueConstraint(fields=["user", "role", "region"], condition=Q(region__isnull=False),
                                    name="role_grant_unique_on_region"),
            models.UniqueConstraint(fields=["user", "role", "school"], condition=Q(school__isnull=False),
                                    name="role_grant_unique_on_school"),
            models.UniqueConstraint(fields=["user", "role", "school_class"],
                                    condition=Q(school_class__isnull=False),
                                    name="role_grant_unique_on_class"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.unit}"

    @property
    def unit(self):
        """The region, school or class this grant is on (None for guardians)."""
        return self.region or self.school or self.school_class
