"""Writes to the audit log. Every service that decides, grants or reveals calls ``audit_record``."""

from django.db import models

from accounts.selectors import account_unit

from .models import AuditEvent


def audit_record(*, actor, kind: str, unit=None, target: models.Model | None = None, message: str = "",
                 reason: str = "", extra: dict | None = None, ip_address: str | None = None,
                 username: str = "") -> AuditEvent:
    """Append one audit event and return it.

    ``actor`` is a User or None (system jobs, failed logins); ``unit`` a Region, School or
    SchoolClass whose region path is stored for scoped browsing (audits.selectors); without it the
    event is placed under the actor's unit (accounts.selectors.account_unit: one more query), and
    with neither it has no region and belongs to the audit administrators of the provinces.
    ``target`` is the object concerned; ``ip_address`` the client's address (accounts.client_ip).
    ``extra`` must hold no ID numbers or other personal data of students (DESIGN.md §7).
    """
    if unit is None and actor is not None and actor.pk:
        unit = account_unit(actor)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_username=username or (actor.get_username() if actor is not None and actor.pk else ""),
        kind=kind,
        unit_path=getattr(unit, "scope_path", "") if unit is not None else "",
        unit_name=str(unit) if unit is not None else "",
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        message=message[:500],
        reason=reason[:500],
        extra=extra or {},
        ip_address=ip_address,
    )
