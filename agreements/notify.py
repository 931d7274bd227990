"""Reminders about agreements: the in-app inbox of the transfers app, e-mail after commit.

Messages carry no personal data of a child beyond what the recipient already sees (a guardian
is told about their own child's form; staff are told the agreement's title and unit).
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

REMINDER_KIND = "agreement_reminder"  # transfers.models.Notification.Kind value for agreement reminders


def _message(agreement) -> str:
    if agreement.kind == "liability":
        return f"请尽快签署孩子的《{agreement.title}》（{agreement.school}）"
    return f"请尽快签署《{agreement.title}》（{agreement.school_year}学年，{agreement.party_unit}）"


def remind(agreement, users) -> None:
    """Tell ``users`` (User objects) to sign ``agreement``: an inbox message each, and e-mail."""
    users = [u for u in users if u is not None]
    if not users:
        return
    text = _message(agreement)[:300]
    try:
        from transfers.models import Notification
        from transfers.notify import save_and_email
    except ImportError:  # the inbox is optional: e-mail alone still reaches people
        _email_after_commit(users, text)
        return
    save_and_email([Notification(user=u, kind=REMINDER_KIND, message=text) for u in users])


def agreement_signed_by_guardian(agreement) -> None:
    """Tell the school's active approvers that a guardian signed and the form awaits confirmation."""
    from accounts.models import Role, RoleGrant

    users = [g.user for g in RoleGrant.objects.filter(role=Role.APPROVER, school_id=agreement.issuer_school_id,
                                                      is_active=True).select_related("user")]
    text = f"监护人已签署一份《{agreement.title}》，请确认（编号 {agreement.pk}）"
    try:
        from transfers.models import Notification
        from transfers.notify import save_and_email
    except ImportError:
        _email_after_commit(users, text)
        return
    save_and_email([Notification(user=u, kind=REMINDER_KIND, message=text) for u in users])


def _email_after_commit(users, text: str) -> None:
    addresses = [u.email for u in users if u.email]
    if addresses:
        transaction.on_commit(lambda: send_mail("学籍系统提醒", text, settings.DEFAULT_FROM_EMAIL, addresses,
                                                fail_silently=True))
