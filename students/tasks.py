"""Periodic student-record jobs (beat schedule in xueji/celery.py)."""

from celery import shared_task

from .services import problem_scan


@shared_task
def scan_problem_records() -> dict[str, int]:
    """Nightly: scan every current record for bad ID numbers and (suspected) duplicates and open,
    update or close problem records (students.services.problem_scan). Takes no arguments: no ID
    numbers ever travel in a Celery message. Returns the counts {"opened", "open", "closed", "failed"}."""
    return problem_scan()
