"""Celery tasks of status changes: e-mail for notifications and the daily reminders.

Tasks take primary keys only and call one service (xueji/celery.py conventions).
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from .models import Notification


@shared_task
def notifications_email(notification_ids: list[int]) -> int:
    """E-mail each notification to its user when the user has an address. Returns how many were
    sent; a failing mail server is logged by Django's backend and does not fail the decision."""
    sent = 0
    for note in Notification.objects.filter(pk__in=notification_ids).select_related("user"):
        if not note.user.email:
            continue
        sent += send_mail(f"学籍系统：{note.get_kind_display()}", note.message, settings.DEFAULT_FROM_EMAIL,
                          [note.user.email], fail_silently=True)
    return sent


@shared_task
def daily_reminders() -> dict:
    """Daily (beat): remind the units of overdue steps and the schools of expired suspensions.
    Returns {"overdue_steps": n, "expired_suspensions": m}."""
    from .services import steps_remind_overdue, suspensions_remind_expired

    return {"overdue_steps": steps_remind_overdue(actor=None),
            "expired_suspensions": suspensions_remind_expired(actor=None)}
