"""Security events into the audit log: logins, failed logins, lockouts, logouts."""

from axes.signals import user_locked_out
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from audits.models import AuditEvent
from audits.services import audit_record

from .client_ip import client_ip
from .selectors import account_unit

# Django's own receiver saves last_login through user.save(), which would add an empty User history
# row at every login (last_login is excluded from history). The login is in the audit log instead.
user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")


@receiver(user_logged_in, dispatch_uid="xueji_update_last_login")
def update_last_login_without_history(sender, user, **kwargs):
    user.last_login = timezone.now()
    user.skip_history_when_saving = True
    try:
        user.save(update_fields=["last_login"])
    finally:
        del user.skip_history_when_saving


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit_record(actor=user, kind=AuditEvent.Kind.LOGIN_SUCCESS, unit=account_unit(user),
                 ip_address=client_ip(request), message="登录成功")


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, kind=AuditEvent.Kind.LOGOUT, unit=account_unit(user),
                     ip_address=client_ip(request), message="退出登录")


def _named_account_unit(username: str):
    # Failed logins are placed under the named account's unit when the account exists; a name that
    # is no account leaves the event without a region (read at the top of the tree, audits.selectors).
    from .models import User

    user = User.objects.filter(username=username).select_related("home_region").first()
    return account_unit(user) if user else None


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_record(actor=None, username=username, kind=AuditEvent.Kind.LOGIN_FAILURE, unit=_named_account_unit(username),
                 ip_address=client_ip(request), message="登录失败")


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    name = str(username or "")[:150]
    audit_record(actor=None, username=name, kind=AuditEvent.Kind.LOCKOUT, unit=_named_account_unit(name),
                 ip_address=ip_address, message="连续登录失败，账号已锁定")
