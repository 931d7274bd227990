"""Working days for deadlines (DESIGN.md §5) and the warning for years nobody has entered.

Which days are working days, first rule that knows wins:
  1. the administrator's table (``xueji.models.CalendarDay``): a make-up working day or a day off;
  2. chinese-calendar (``chinese_calendar.is_workday``: official holidays and make-up working days
     on weekends, per the State Council's yearly notice), for the years its release covers;
  3. Monday to Friday.
A year is *known* when chinese-calendar covers it or an administrator marked it complete
(``xueji.models.CalendarYear``); deadlines in an unknown year are still computed (rule 3), never an
exception, and pages show ``calendar_warning`` so nobody mistakes them for exact.

"N working days after D" is the N-th working day counted from the day after D: D itself never counts,
N = 0 gives D (DESIGN.md §5). A step is overdue after the END of its due day, Asia/Shanghai.

Cost: the override table is read in one query and kept per process for ``CACHE_SECONDS`` (saving or
deleting a row clears this process's copy at once and again at commit; other processes see it within
``CACHE_SECONDS``). Each year becomes a table of prefix sums, so ``add_working_days`` and
``working_days_between`` cost O(years spanned), not O(days): a queue of 50 rows makes at most one
query. Tests clear the cache before each test (tests/conftest.py) so query counts are stable.
"""

import time
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CACHE_SECONDS = 60
UNKNOWN_YEAR_WARNING = "{years}年节假日安排尚未录入，按周一至周五计算"


# ---------------------------------------------------------------------------------------------
# Day status per year


@cache
def _library_special_days() -> dict[int, list[date]]:
    """The dates, by year, that chinese-calendar lists as holidays or make-up working days: the only
    days where its answer can differ from Monday–Friday (its exported ``holidays`` and ``workdays``)."""
    found: dict[int, list[date]] = {}
    for day in (*chinese_calendar.holidays, *chinese_calendar.workdays):
        found.setdefault(day.year, []).append(day)
    return found


@cache
def _library_flags(year: int) -> bytes | None:
    """chinese-calendar's working-day flags (1/0 per day of ``year``), None when it lacks the year.

    The library raises NotImplementedError for a year outside its data; its data never changes at
    run time, so the answer is cached for the life of the process. ``is_workday`` scans its tables
    on every call, so it is asked only about the days it lists; the rest are Monday–Friday.
    """
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return None
    flags = bytearray(_weekday_flags(year))
    first = date(year, 1, 1)
    for day in _library_special_days().get(year, ()):
        flags[(day - first).days] = chinese_calendar.is_workday(day)
    return bytes(flags)


def _days_in(year: int) -> int:
    return (date(year + 1, 1, 1) - date(year, 1, 1)).days


def _weekday_flags(year: int) -> bytes:
    first = date(year, 1, 1)
    return bytes((first + timedelta(n)).weekday() < 5 for n in range(_days_in(year)))


class _YearTable:
    """Working-day flags of one year and their prefix sums: ``cum[i]`` working days before day i."""

    __slots__ = ("first", "flags", "cum")

    def __init__(self, year: int, overrides: dict[date, bool]):
        self.first = date(year, 1, 1)
        flags = bytearray(_library_flags(year) or _weekday_flags(year))
        for day, is_workday in overrides.items():
            if day.year == year:
                flags[(day - self.first).days] = is_workday
        self.flags = bytes(flags)
        cum = [0]
        for flag in self.flags:
            cum.append(cum[-1] + flag)
        self.cum = cum

    @property
    def total(self) -> int:
        return self.cum[-1]

    def upto(self, day: date) -> int:
        """Working days from January 1 to ``day`` inclusive."""
        return self.cum[(day - self.first).days + 1]


class _Snapshot:
    """The override table as read at one moment, with the year tables built from it."""

    def __init__(self, overrides: dict[date, bool]):
        self.overrides = overrides
        self.loaded_at = time.monotonic()
        self.tables: dict[int, _YearTable] = {}

    def table(self, year: int) -> _YearTable:
        found = self.tables.get(year)
        if found is None:
            found = self.tables[year] = _YearTable(year, self.overrides)
        return found


_state: dict[str, object] = {"snapshot": None, "complete_years": None}


def clear_calendar_cache() -> None:
    """Forget the cached override table and complete years (called on save/delete and by tests)."""
    _state["snapshot"] = None
    _state["complete_years"] = None


def _fresh(entry) -> bool:
    return entry is not None and time.monotonic() - entry[0] < CACHE_SECONDS


def _snapshot() -> _Snapshot:
    snapshot = _state["snapshot"]
    if snapshot is None or time.monotonic() - snapshot.loaded_at >= CACHE_SECONDS:
        from xueji.models import CalendarDay

        snapshot = _Snapshot(dict(CalendarDay.objects.values_list("date", "is_workday")))
        _state["snapshot"] = snapshot
    return snapshot


def _complete_years() -> frozenset[int]:
    entry = _state["complete_years"]
    if not _fresh(entry):
        from xueji.models import CalendarYear

        entry = (time.monotonic(), frozenset(CalendarYear.objects.filter(complete=True).values_list("year", flat=True)))
        _state["complete_years"] = entry
    return entry[1]


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    raise TypeError("expected a datetime.date")


# ---------------------------------------------------------------------------------------------
# Public API


def is_working_day(day: date) -> bool:
    """True when ``day`` is a working day (rules in the module docstring). Never raises for a date
    the library lacks. A ``datetime`` counts by its Asia/Shanghai date (naive: taken as local)."""
    day = _as_date(day)
    table = _snapshot().table(day.year)
    return bool(table.flags[(day - table.first).days])


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself never counts; 0 gives ``start``).

    ``start``: a date (a ``datetime`` counts by its Asia/Shanghai date). ``days``: int ≥ 0.
    Returns a date. Example: ``add_working_days(date(2025, 9, 30), 1)`` is 2025-10-09 (October 1–8
    are the National Day holiday). Source: DESIGN.md §5. Raises ValueError for negative ``days``;
    never raises for a year the library lacks (Monday to Friday, see ``year_is_known``).
    """
    start = _as_date(start)
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError("days must be an int")
    if days < 0:
        raise ValueError("days must be 0 or more")
    if days == 0:
        return start
    snapshot = _snapshot()
    table = snapshot.table(start.year)
    # Working days wanted counted from January 1 of the current year, inclusive.
    target = table.upto(start) + days
    while target > table.total:
        target -= table.total
        table = snapshot.table(table.first.year + 1)
    return table.first + timedelta(bisect_left(table.cum, target) - 1)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end``: the count ``add_working_days``
    would need to reach ``end`` (``working_days_between(d, add_working_days(d, n)) == n``).

    Used for "age in working days" in queues. Negative when ``end`` is before ``start`` (minus the
    working days after ``end`` up to ``start``); 0 when they are equal. Dates or datetimes (by their
    Asia/Shanghai date).
    """
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -working_days_between(end, start)
    snapshot = _snapshot()
    count = snapshot.table(end.year).upto(end) - snapshot.table(start.year).upto(start)
    for year in range(start.year, end.year):
        count += snapshot.table(year).total
    return count


def is_overdue(due: date, now: datetime | None = None) -> bool:
    """True once the due day is over in Asia/Shanghai: from 00:00 of the next day on.

    ``due``: the due date. ``now``: an aware datetime (default: the current time); a naive one is
    taken as Shanghai time. At 23:59:59 on the due day the step is not overdue; at 00:00 the next day
    it is. Source: DESIGN.md §5.
    """
    if now is None:
        now = datetime.now(tz=SHANGHAI)
    local = now.astimezone(SHANGHAI) if now.tzinfo else now
    return local.date() > due


def library_knows_year(year: int) -> bool:
    """True when chinese-calendar has the official holiday arrangement of ``year``."""
    return _library_flags(year) is not None


def year_is_known(year: int) -> bool:
    """True when ``year``'s holidays are known: chinese-calendar has them or an administrator marked
    the year complete. Unknown years are counted Monday to Friday plus any days entered so far."""
    return library_knows_year(year) or year in _complete_years()


def unknown_years(start: date, end: date) -> list[int]:
    """The years from ``start`` to ``end`` (inclusive, either order) that are not known."""
    first, last = sorted((_as_date(start).year, _as_date(end).year))
    return [year for year in range(first, last + 1) if not year_is_known(year)]


def calendar_warning(start: date, end: date) -> str:
    """The warning a page shows when a deadline from ``start`` to ``end`` crosses an unknown year,
    e.g. "2027年节假日安排尚未录入，按周一至周五计算"; "" when every year is known."""
    years = unknown_years(start, end)
    return UNKNOWN_YEAR_WARNING.format(years="、".join(str(y) for y in years)) if years else ""


# ---------------------------------------------------------------------------------------------
# For the administrator's page


@dataclass(frozen=True)
class SpecialDay:
    """A day that is not an ordinary Monday–Friday working day or weekend, or that has an entry."""

    date: date
    is_workday: bool
    name: str
    source: str  # "admin" (the holiday table) or "library" (chinese-calendar)


def _library_holiday_name(day: date) -> str:
    try:
        _, english = chinese_calendar.get_holiday_detail(day)
        return chinese_calendar.Holiday(english).chinese if english else ""
    except (NotImplementedError, ValueError):
        return ""


def special_days(year: int, names: dict[date, str] | None = None) -> list[SpecialDay]:
    """Every day of ``year`` whose status differs from Monday–Friday, has an administrator's entry,
    or that chinese-calendar names as part of a holiday; in date order.

    ``names``: the administrator's names by date (the page has the rows already). One cached query.
    """
    snapshot = _snapshot()
    table = snapshot.table(year)
    names = names or {}
    found = []
    for offset, flag in enumerate(table.flags):
        day = table.first + timedelta(offset)
        library_name = _library_holiday_name(day) if library_knows_year(year) else ""
        if day in snapshot.overrides:
            found.append(SpecialDay(day, bool(flag), names.get(day, ""), "admin"))
        elif bool(flag) != (day.weekday() < 5) or library_name:
            found.append(SpecialDay(day, bool(flag), library_name, "library"))
    return found
