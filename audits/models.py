"""The append-only audit log: workflow decisions, security and access events (DESIGN.md §7)."""

from django.conf import settings
from django.db import models

from xueji.scope import ScopeFields


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: audit rows are written once and never changed."""

    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除")


class AuditEvent(models.Model):
    """One event: who did what, on which unit and object, when, from where.

    Rows are append-only: ``save`` refuses an existing row, ``delete`` refuses always, and on
    PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE from any client.
    ``unit_path`` is the region path of the unit concerned, so a bureau filters its subtree.
    """

    class Kind(models.TextChoices):
        LOGIN_SUCCESS = "login_success", "登录成功"
        LOGIN_FAILURE = "login_failure", "登录失败"
        LOCKOUT = "lockout", "账号锁定"
        LOGOUT = "logout", "退出登录"
        PASSWORD_CHANGE = "password_change", "修改密码"
        ROLE_GRANT = "role_grant", "授予角色"
        ROLE_REVOKE = "role_revoke", "撤销角色"
        ACCOUNT_CREATE = "account_create", "创建账号"
        UNIT_CHANGE = "unit_change", "组织机构变更"
        RECORD_VIEW = "record_view", "查看完整学籍"
        ID_REVEAL = "id_reveal", "查看完整证件号"
        EXPORT = "export", "导出"
        DECISION = "decision", "审批决定"
        SUBMISSION = "submission", "提交业务"
        HEARTBEAT = "heartbeat", "系统心跳"
        OTHER = "other", "其他"

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    actor_username = models.CharField("操作账号", max_length=150, blank=True)
    kind = models.CharField("事件", max_length=24, choices=Kind.choices, db_index=True)
    unit_path = models.CharField("单位路径", max_length=48, blank=True, db_index=True)
    unit_name = models.CharField("单位", max_length=100, blank=True)
    target_type = models.CharField("对象类型", max_length=64, blank=True)
    target_id = models.CharField("对象编号", max_length=64, blank=True)
    message = models.CharField("摘要", max_length=500, blank=True)
    reason = models.CharField("原因", max_length=500, blank=True)
    extra = models.JSONField("附加信息", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()
    scope_fields = ScopeFields(path="unit_path")

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.actor_username}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除")
