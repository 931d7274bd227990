"""Due dates of approval steps in working days (DESIGN.md §5).

The number of working days a step gets depends on the change's kind and the step's level
(school, county, city, province). Code defaults below; ``settings.XUEJI_STEP_DUE_DAYS`` may
override any entry with the same shape: {kind or "*": {level: days}}.

Defaults: 10 working days; a school's own steps 5 (the registrar's agreement asks for transfers,
suspensions and resumptions within a week); a bureau's review of a registration 15 (issue 3).
"""

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

DEFAULT_DUE_DAYS: dict[str, dict[str, int]] = {
    "*": {"school": 5, "county": 10, "city": 10, "province": 10},
    "registration": {"county": 15, "city": 15, "province": 15},
}
FALLBACK_DAYS = 10


def due_days(kind: str, level: str) -> int:
    """Working days a step of ``level`` ("school" or a Region level) gets for a change of ``kind``."""
    configured = getattr(settings, "XUEJI_STEP_DUE_DAYS", {}) or {}
    for table in (configured.get(kind, {}), DEFAULT_DUE_DAYS.get(kind, {}),
                  configured.get("*", {}), DEFAULT_DUE_DAYS["*"]):
        if level in table:
            return int(table[level])
    return FALLBACK_DAYS


def due_date_for(kind: str, level: str, became_current: datetime) -> date:
    """The due date of a step that became current at ``became_current`` (aware datetime):
    N working days after its local (Asia/Shanghai) date, N from ``due_days``."""
    from xueji.workdays import add_working_days

    return add_working_days(timezone.localdate(became_current), due_days(kind, level))


def is_step_overdue(due: date | None, now: datetime | None = None) -> bool:
    """True after the end of the due day, Asia/Shanghai (delegates to ``xueji.workdays.is_overdue``)."""
    if due is None:
        return False
    from xueji.workdays import is_overdue

    return is_overdue(due, now or timezone.now())


def age_in_working_days(became_current: datetime | None, now: datetime | None = None) -> int:
    """Working days a step has waited: working days after its local arrival date up to today."""
    if became_current is None:
        return 0
    from xueji.workdays import working_days_between

    today = timezone.localdate(now or timezone.now())
    return working_days_between(timezone.localdate(became_current), today)
