"""Writes on the holiday table (xueji.models): each with the acting user, history and an audit event.

Who may write: any holder of ``manage_units`` on any unit (the system administrator, 三员分立).
The holiday arrangement is national, so it is not scoped to the admin's region; in practice only the
top unit's system administrator holds ``manage_units``. ``actor=None`` is for commands and seeding.
"""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from audits.models import AuditEvent
from audits.services import audit_record
from xueji.access import held_codenames
from xueji.history import delete_with_history, save_with_history

from .models import CALENDAR_MAX_YEAR, CALENDAR_MIN_YEAR, CalendarDay, CalendarYear

CALENDAR_PERMISSION = "manage_units"


def may_edit_calendar(user) -> bool:
    """True when ``user`` may edit the holiday table: holds ``manage_units`` on some unit (1 query,
    cached on the user for the request)."""
    return CALENDAR_PERMISSION in held_codenames(user)


def _require_calendar_admin(actor) -> None:
    if actor is not None and not may_edit_calendar(actor):
        raise PermissionDenied("只有系统管理员可以维护节假日安排")


def _check_year(year: int, field: str) -> None:
    if not CALENDAR_MIN_YEAR <= year <= CALENDAR_MAX_YEAR:
        raise ValidationError({field: f"年份应在{CALENDAR_MIN_YEAR}至{CALENDAR_MAX_YEAR}年之间"})


def _audit(actor, target, message: str, reason: str) -> None:
    audit_record(actor=actor, kind=AuditEvent.Kind.OTHER, target=target, message=message, reason=reason,
                 unit=getattr(actor, "home_region", None) if actor is not None else None)


def _kind_label(is_workday: bool) -> str:
    return "上班" if is_workday else "放假"


@transaction.atomic
def calendar_day_set(*, actor, day: date, is_workday: bool, name: str = "", reason: str = "") -> CalendarDay:
    """Make ``day`` a working day (``is_workday`` True: 调休上班) or a day off (False: 放假),
    whatever chinese-calendar says; an existing entry for the day is replaced.

    ``name``: the notice's name for it ("国庆节", "春节调休上班"), at most 50 characters.
    Returns the saved CalendarDay (unchanged entries are returned without a new history row).
    Raises PermissionDenied without ``manage_units``; ValidationError ({"date": ...}) for a year
    outside CALENDAR_MIN_YEAR–CALENDAR_MAX_YEAR or a concurrent insert of the same day.
    """
    _require_calendar_admin(actor)
    _check_year(day.year, "date")
    name = (name or "").strip()[:50]
    entry = CalendarDay.objects.select_for_update().filter(date=day).first()
    if entry is not None and (entry.is_workday, entry.name) == (bool(is_workday), name):
        return entry
    created = entry is None
    entry = entry or CalendarDay(date=day)
    entry.is_workday, entry.name = bool(is_workday), name
    try:
        with transaction.atomic():
            save_with_history(entry, actor=actor, reason=reason or "维护节假日安排",
                              update_fields=None if created else ["is_workday", "name"])
    except IntegrityError as exc:
        raise ValidationError({"date": "该日期刚被他人设置，请刷新页面后重试"}) from exc
    _audit(actor, entry, f"节假日设置：{day:%Y-%m-%d} {_kind_label(entry.is_workday)} {name}".strip(), reason)
    return entry


@transaction.atomic
def calendar_day_remove(*, actor, day: date, reason: str = "") -> bool:
    """Remove the entry for ``day`` so chinese-calendar (or Monday–Friday) decides it again.

    Returns True when an entry was removed, False when there was none (nothing is written).
    The deletion leaves a history row. Raises PermissionDenied without ``manage_units``.
    """
    _require_calendar_admin(actor)
    entry = CalendarDay.objects.select_for_update().filter(date=day).first()
    if entry is None:
        return False
    _audit(actor, entry, f"删除节假日设置：{day:%Y-%m-%d} {_kind_label(entry.is_workday)} {entry.name}".strip(),
           reason)
    delete_with_history(entry, actor=actor, reason=reason or "删除节假日设置")
    return True


@transaction.atomic
def calendar_year_mark(*, actor, year: int, complete: bool, reason: str = "") -> CalendarYear:
    """Mark ``year``'s holidays and make-up days as fully entered (``complete``) or not.

    A complete year counts as known (no Monday–Friday warning) even when chinese-calendar lacks it.
    Returns the CalendarYear. Raises PermissionDenied without ``manage_units``; ValidationError
    ({"year": ...}) outside CALENDAR_MIN_YEAR–CALENDAR_MAX_YEAR.
    """
    _require_calendar_admin(actor)
    _check_year(year, "year")
    entry = CalendarYear.objects.select_for_update().filter(year=year).first()
    if entry is not None and entry.complete == bool(complete):
        return entry
    created = entry is None
    entry = entry or CalendarYear(year=year)
    entry.complete = bool(complete)
    try:
        with transaction.atomic():
            save_with_history(entry, actor=actor,
                              reason=reason or ("节假日安排已完整录入" if complete else "取消完整录入标记"),
                              update_fields=None if created else ["complete"])
    except IntegrityError as exc:
        raise ValidationError({"year": "该年度刚被他人修改，请刷新页面后重试"}) from exc
    _audit(actor, entry, f"{year}年节假日安排{'标记为已完整录入' if complete else '取消完整录入标记'}", reason)
    return entry
