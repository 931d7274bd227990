"""Saving audited models with the acting user and a reason (django-simple-history).

Web requests get the user from HistoryRequestMiddleware; services, commands and Celery tasks
pass it explicitly through these helpers so that every history row names a person.
"""

from django.db import models


def save_with_history(obj: models.Model, *, actor, reason: str = "", update_fields=None) -> models.Model:
    """Save ``obj`` so that its history row records ``actor`` and ``reason``.

    ``update_fields`` is passed to ``save`` for existing rows (STYLE.md: save with update_fields).
    Returns ``obj``.
    """
    obj._history_user = actor
    obj._change_reason = reason or None
    obj.save(update_fields=update_fields)
    return obj


def delete_with_history(obj: models.Model, *, actor, reason: str = "") -> None:
    """Delete ``obj`` leaving a '-' history row that names ``actor`` and ``reason``."""
    obj._history_user = actor
    obj._change_reason = reason or None
    obj.delete()
