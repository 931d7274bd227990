"""Periodic audit tasks."""

from celery import shared_task

from .models import AuditEvent
from .services import audit_record


@shared_task
def heartbeat() -> int:
    """Daily heartbeat: writes one audit event so that the beat and worker wiring is visible.

    Returns the new event's id.
    """
    return audit_record(actor=None, kind=AuditEvent.Kind.HEARTBEAT, username="system", message="系统心跳").pk


@shared_task
def roll_checks_open_monthly() -> int:
    """On the 1st of each month (beat): open this month's roll check for every class with pupils
    (audits.roll_services.roll_checks_open). Returns how many were opened."""
    from .roll_services import roll_checks_open

    return roll_checks_open()


@shared_task
def integrity_scan_nightly() -> dict:
    """Nightly (beat): run the integrity checks and store their findings (audits.integrity).
    Returns {kind: {"found", "new", "resolved"}}."""
    from .integrity import integrity_scan

    return integrity_scan()
