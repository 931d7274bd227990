"""Periodic agreement jobs (Celery). Tasks take ids or nothing, never personal data."""

from celery import shared_task


@shared_task
def registrar_grants_sync() -> int:
    """Daily: registrar grants on schools follow this school year's signed agreements.

    On September 1 last year's signatures stop counting, so registrars without a new agreement
    become inactive ("本学年学籍管理员责任书尚未签订"). Returns the number of grants changed.
    """
    from .services import registrar_grants_sync as sync

    return sync(actor=None)
