"""Celery tasks of the school year (xueji/celery.py conventions: ids in, one service call)."""

from celery import shared_task


@shared_task
def promotion_execute(run_id: int) -> dict:
    """Execute the queued promotion run ``run_id`` (schoolyear.services.promotion_execute).
    Returns {"status", "promoted", "skipped", "schools"}."""
    from .services import promotion_execute as execute

    run = execute(run_id)
    return {"status": run.status, "promoted": run.promoted_count, "skipped": run.skipped_count,
            "schools": run.schools_done}
