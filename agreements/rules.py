"""Date rules of the agreements: the school year and the first-grade age window.

Sources: 《义务教育法》 art. 11 (children start school in the autumn of the year they turn six;
most provinces take "six by August 31"); the underage-enrolment liability form covers children
born in a window after that cut-off, by default September 1 – October 31 of (entry year − 6),
which a province may change (``EnrolmentAgeRule``).
"""

import calendar
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError

DEFAULT_WINDOW = (9, 1, 10, 31)  # start month, start day, end month, end day


def school_year_of(day: datetime.date) -> int:
    """The school year containing ``day``, as its starting calendar year (Sept 1 – Aug 31).

    2026-09-01 → 2026; 2027-08-31 → 2026.
    """
    return day.year if day.month >= 9 else day.year - 1


def school_year_period(year: int) -> tuple[datetime.date, datetime.date]:
    """(start, end) of school year ``year``: September 1 of ``year`` to September 1 of ``year + 1``."""
    return datetime.date(year, 9, 1), datetime.date(year + 1, 9, 1)


def school_year_label(year: int) -> str:
    """"2026-2027" for school year 2026."""
    return f"{year}-{year + 1}"


def _safe_date(year: int, month: int, day: int) -> datetime.date:
    # A window day such as Feb 29 falls back to the month's last day in other years.
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class AgeWindow:
    """The liability-form window for one entry year: born in [start, end] needs the form."""

    start: datetime.date
    end: datetime.date

    def classify(self, birth_date: datetime.date) -> str:
        """"no_form" (born before the window), "form" (inside) or "too_young" (after)."""
        if birth_date < self.start:
            return "no_form"
        if birth_date <= self.end:
            return "form"
        return "too_young"


# ``rule`` not given: look the province's rule up (``rule=None`` says "no provincial rule").
_LOOK_UP = object()


def province_rule(province_code: str | None):
    """The ``EnrolmentAgeRule`` of province ``province_code`` (2 or 6 digits), or None when the
    province keeps the default window (or no code is given). One query when a code is given."""
    if not province_code:
        return None
    from .models import EnrolmentAgeRule

    return EnrolmentAgeRule.objects.filter(province_id=province_code[:2] + "0000").first()


def age_window(entry_year: int, province_code: str | None = None, *, rule=_LOOK_UP) -> AgeWindow:
    """The window for first-grade entry in ``entry_year`` (September) in province ``province_code``.

    ``province_code`` is 2 digits ("34") or a 6-digit province code ("340000"); ``rule`` the
    province's ``EnrolmentAgeRule`` already loaded, or None for a province known to have none
    (either skips the query). Without a provincial rule the default September 1 – October 31 of
    (entry_year − 6) applies. One query when ``rule`` is not given and ``province_code`` is.
    """
    if rule is _LOOK_UP:
        rule = province_rule(province_code)
    sm, sd, em, ed = (rule.start_month, rule.start_day, rule.end_month, rule.end_day) if rule else DEFAULT_WINDOW
    year = entry_year - 6
    return AgeWindow(_safe_date(year, sm, sd), _safe_date(year, em, ed))


def window_dates_check(start_month, start_day, end_month, end_day) -> None:
    """Refuse a window that is not two real month/day pairs in order within one calendar year.

    Returns None when ``start`` and ``end`` are real dates (February 29 allowed: in common years it
    falls back to the 28th, see ``_safe_date``) and ``end`` is not before ``start``; otherwise
    raises ``ValidationError`` keyed by the field at fault ("start_month", "start_day",
    "end_month", "end_day"), messages in Chinese. ``enrolment_age_rule_set`` and the page that
    sets the window both call it.
    """
    errors = {}
    for prefix, label, month, day in (("start", "起始", start_month, start_day), ("end", "截止", end_month, end_day)):
        if not isinstance(month, int) or not 1 <= month <= 12:
            errors[f"{prefix}_month"] = f"{label}月份应为1到12"
            continue
        last = calendar.monthrange(2000, month)[1]  # 2000 is a leap year: February has 29 days
        if not isinstance(day, int) or not 1 <= day <= last:
            errors[f"{prefix}_day"] = f"{month}月没有{day}日（{label}日期应为1到{last}日）"
    if not errors and (end_month, end_day) < (start_month, start_day):
        errors["end_month"] = (f"截止日期{end_month}月{end_day}日早于起始日期{start_month}月{start_day}日"
                               "（窗口须在同一年内）")
    if errors:
        raise ValidationError(errors)


def _cn(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def window_effect(window: AgeWindow, entry_year: int) -> str:
    """What ``window`` means for the first-grade intake of ``entry_year``, in one Chinese sentence."""
    start, end = _cn(window.start), _cn(window.end)
    return (f"{entry_year}年秋季一年级新生：{start}至{end}出生的儿童，须由监护人签署未满六周岁入学责任书"
            f"并经学校确认后才能注册；{end}以后出生的不能注册为一年级新生；{start}以前出生的无需签署。")


def upcoming_entry_year(today: datetime.date) -> int:
    """The autumn intake a window change concerns next: this year's until registration closes on
    September 30 (DESIGN.md §6), then next year's."""
    return today.year if today.month <= 9 else today.year + 1


def first_grade_age_check(birth_date: datetime.date, entry_year: int, province_code: str | None, *,
                          rule=_LOOK_UP) -> None:
    """Refuse a child too young for first grade in ``entry_year``.

    Returns None when the child may enter (with or without the liability form); raises
    ``ValidationError`` (on field "birth_date", message in Chinese) when the child was born after
    the province's window. ``rule`` as for ``age_window`` (a caller checking many children loads
    it once with ``province_rule``). The student form (students.forms.StudentForm) and
    registration call this for primary grade 1.
    """
    window = age_window(entry_year, province_code, rule=rule)
    if window.classify(birth_date) == "too_young":
        raise ValidationError({"birth_date": (
            f"该生出生于{birth_date:%Y年%m月%d日}，晚于{window.end:%Y年%m月%d日}，"
            f"未达到{entry_year}年秋季一年级入学年龄，本学年不能注册为一年级新生")})


def liability_form_needed(birth_date: datetime.date, entry_year: int, province_code: str | None, *,
                          rule=_LOOK_UP) -> bool:
    """True when a first-grade child entering in ``entry_year`` needs the liability form
    (``rule`` as for ``age_window``)."""
    return age_window(entry_year, province_code, rule=rule).classify(birth_date) == "form"


def entry_year_of(student, today: datetime.date | None = None) -> int:
    """The calendar year the student enters (from ``entry_month`` "YYYYMM"; else this school year)."""
    month = (getattr(student, "entry_month", "") or "").strip()
    if len(month) == 6 and month[:4].isdigit():
        return int(month[:4])
    from django.utils import timezone

    return school_year_of(today or timezone.localdate())


def is_first_grade(student) -> bool:
    """True for a student in primary grade level 1 (一年级). Needs ``student.grade`` loaded."""
    grade = student.grade
    return grade.stage == "primary" and grade.level == 1
