"""Working days for deadlines: xueji/workdays.py (DESIGN.md §5).

Dates used (State Council notices, as chinesecalendar 1.11 has them):
  春节 2025: off Jan 28 – Feb 4; make-up working days Sun Jan 26 and Sat Feb 8.
  国庆 2025: off Oct 1 – 8 (with 中秋); make-up working days Sun Sep 28 and Sat Oct 11.
chinesecalendar 1.11 knows 2004–2026; 2003 and 2027 on are unknown to it.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xueji import workdays
from xueji.models import CalendarDay
from xueji.services import calendar_day_set, calendar_year_mark
from xueji.workdays import (
    add_working_days,
    calendar_warning,
    is_overdue,
    is_working_day,
    library_knows_year,
    special_days,
    unknown_years,
    working_days_between,
    year_is_known,
)

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
FIRST_UNKNOWN_YEAR = next(year for year in range(2026, 2200) if not library_knows_year(year))


def d(text: str) -> date:
    return date.fromisoformat(text)


def reference_is_workday(day: date, overrides: dict[date, bool] | None = None) -> bool:
    """Day-by-day reference the fast implementation must agree with."""
    if overrides and day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def reference_add(start: date, days: int, overrides=None) -> date:
    day = start
    while days:
        day += timedelta(1)
        days -= reference_is_workday(day, overrides)
    return day


class TestDayAfterSemantics:
    def test_zero_days_gives_the_start_even_on_a_holiday(self):
        assert add_working_days(d("2025-10-01"), 0) == d("2025-10-01")
        assert add_working_days(d("2025-06-14"), 0) == d("2025-06-14")  # a Saturday

    def test_zero_days_needs_no_query(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            add_working_days(d("2025-10-01"), 0)

    def test_the_start_day_never_counts(self):
        assert add_working_days(d("2025-06-09"), 1) == d("2025-06-10")  # Monday → Tuesday

    def test_friday_plus_one_is_monday(self):
        assert add_working_days(d("2025-06-13"), 1) == d("2025-06-16")

    def test_a_weekend_start_counts_from_the_next_day(self):
        assert add_working_days(d("2025-06-14"), 1) == d("2025-06-16")
        assert add_working_days(d("2025-06-15"), 1) == d("2025-06-16")

    def test_ten_working_days_in_an_ordinary_fortnight(self):
        assert add_working_days(d("2025-06-09"), 10) == d("2025-06-23")

    def test_negative_days_are_refused(self):
        with pytest.raises(ValueError):
            add_working_days(d("2025-06-09"), -1)

    @pytest.mark.parametrize("days", [1.0, "1", None, True])
    def test_days_must_be_an_int(self, days):
        with pytest.raises(TypeError):
            add_working_days(d("2025-06-09"), days)

    def test_an_aware_datetime_counts_by_its_shanghai_date(self):
        # 2025-09-30 17:00 UTC is 2025-10-01 01:00 in Shanghai: the holiday, so +1 is October 9.
        assert add_working_days(datetime(2025, 9, 30, 17, 0, tzinfo=UTC), 1) == d("2025-10-09")
        assert add_working_days(datetime(2025, 9, 30, 15, 0, tzinfo=UTC), 1) == d("2025-10-09")
        assert add_working_days(datetime(2025, 9, 29, 15, 0, tzinfo=UTC), 1) == d("2025-09-30")


class TestNationalDay2025:
    @pytest.mark.parametrize(("day", "working"), [
        ("2025-09-27", False),  # Saturday
        ("2025-09-28", True),  # Sunday, make-up working day
        ("2025-09-30", True),
        *[(f"2025-10-0{n}", False) for n in range(1, 9)],  # October 1–8 off
        ("2025-10-09", True),
        ("2025-10-11", True),  # Saturday, make-up working day
        ("2025-10-12", False),
    ])
    def test_status_of_each_day(self, day, working):
        assert is_working_day(d(day)) is working

    @pytest.mark.parametrize(("start", "days", "due"), [
        ("2025-09-26", 1, "2025-09-28"),  # Friday + 1 is the make-up Sunday
        ("2025-09-27", 1, "2025-09-28"),
        ("2025-09-30", 1, "2025-10-09"),  # across the whole holiday
        ("2025-10-01", 1, "2025-10-09"),  # from inside the holiday
        ("2025-10-08", 1, "2025-10-09"),
        ("2025-09-30", 3, "2025-10-11"),  # the make-up Saturday counts
        ("2025-09-30", 4, "2025-10-13"),
        ("2025-09-26", 10, "2025-10-16"),  # 28, 29, 30, 9, 10, 11, 13, 14, 15, 16
        ("2025-09-22", 10, "2025-10-11"),  # 23, 24, 25, 26, 28, 29, 30, 9, 10, 11 (a Saturday)
    ])
    def test_due_dates(self, start, days, due):
        assert add_working_days(d(start), days) == d(due)

    def test_working_days_between_across_the_holiday(self):
        assert working_days_between(d("2025-09-30"), d("2025-10-09")) == 1
        assert working_days_between(d("2025-09-26"), d("2025-10-16")) == 10
        assert working_days_between(d("2025-10-01"), d("2025-10-08")) == 0


class TestSpringFestival2025:
    @pytest.mark.parametrize(("start", "days", "due"), [
        ("2025-01-24", 1, "2025-01-26"),  # Friday + 1 is the make-up Sunday
        ("2025-01-27", 1, "2025-02-05"),  # Monday before the holiday → first day after it
        ("2025-01-24", 10, "2025-02-13"),  # 26, 27, 5, 6, 7, 8(Sat), 10, 11, 12, 13
        ("2025-02-07", 1, "2025-02-08"),  # Friday + 1 is the make-up Saturday
    ])
    def test_due_dates(self, start, days, due):
        assert add_working_days(d(start), days) == d(due)


class TestYearsTheLibraryDoesNotKnow:
    def test_the_library_itself_raises_for_an_unknown_year(self):
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(date(FIRST_UNKNOWN_YEAR, 1, 4))
        with pytest.raises(NotImplementedError):
            chinese_calendar.is_workday(date(2003, 6, 2))

    def test_installed_library_knows_up_to_2026(self):
        if FIRST_UNKNOWN_YEAR != 2027:
            pytest.skip(f"chinesecalendar now knows up to {FIRST_UNKNOWN_YEAR - 1}")
        assert library_knows_year(2026) and not library_knows_year(2027) and not year_is_known(2027)

    def test_year_end_into_an_unknown_year_counts_monday_to_friday(self):
        if FIRST_UNKNOWN_YEAR != 2027:
            pytest.skip("dates below assume chinesecalendar knows up to 2026")
        # Dec 24 2026 (Thu) + 10: Dec 25, 28, 29, 30, 31, then Mon–Fri 2027: Jan 1 (unknown, counted), 4, 5, 6, 7.
        assert add_working_days(d("2026-12-24"), 10) == d("2027-01-07")
        assert add_working_days(d("2026-12-31"), 1) == d("2027-01-01")
        assert calendar_warning(d("2026-12-24"), d("2027-01-07")) == "2027年节假日安排尚未录入，按周一至周五计算"

    def test_an_admin_entry_fixes_the_unknown_year_and_marking_it_complete_silences_the_warning(self):
        year = FIRST_UNKNOWN_YEAR
        start = date(year - 1, 12, 24)
        before = add_working_days(start, 10)
        assert unknown_years(start, before) == [year]
        new_year = date(year, 1, 1)
        calendar_day_set(actor=None, day=new_year, is_workday=False, name="元旦")
        assert not is_working_day(new_year)
        after = add_working_days(start, 10)
        assert after == reference_add(start, 10, {new_year: False})
        assert after > before or new_year.weekday() >= 5
        assert not year_is_known(year)  # entered but not marked complete: still a warning
        calendar_year_mark(actor=None, year=year, complete=True)
        assert year_is_known(year)
        assert calendar_warning(start, after) == ""

    def test_far_future_and_past_years_never_raise(self):
        assert add_working_days(d("2099-12-30"), 30) == reference_add(d("2099-12-30"), 30)
        assert add_working_days(d("2399-06-01"), 5) == reference_add(d("2399-06-01"), 5)
        assert working_days_between(d("1999-01-01"), d("2001-01-01")) > 0

    def test_from_an_unknown_year_into_a_known_one(self):
        # 2003 is unknown (Mon–Fri); January 1 2004 is a holiday in the library.
        assert add_working_days(d("2003-12-31"), 1) == d("2004-01-02")

    def test_warning_lists_every_unknown_year(self):
        first = FIRST_UNKNOWN_YEAR
        assert calendar_warning(date(first, 5, 1), date(first + 1, 5, 1)) == \
            f"{first}、{first + 1}年节假日安排尚未录入，按周一至周五计算"
        assert unknown_years(date(first + 1, 5, 1), date(first, 5, 1)) == [first, first + 1]
        assert calendar_warning(d("2025-01-01"), d("2025-12-31")) == ""


class TestOverridesWin:
    def test_a_library_working_day_made_a_holiday(self):
        calendar_day_set(actor=None, day=d("2025-10-09"), is_workday=False, name="临时放假")
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-10")

    def test_a_library_holiday_made_a_working_day(self):
        calendar_day_set(actor=None, day=d("2025-10-08"), is_workday=True, name="调休上班")
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-08")
        assert working_days_between(d("2025-09-30"), d("2025-10-09")) == 2

    def test_a_saturday_made_a_working_day(self):
        calendar_day_set(actor=None, day=d("2025-06-14"), is_workday=True)
        assert add_working_days(d("2025-06-13"), 1) == d("2025-06-14")

    def test_removing_the_entry_restores_the_library(self):
        from xueji.services import calendar_day_remove

        calendar_day_set(actor=None, day=d("2025-10-09"), is_workday=False)
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-10")
        calendar_day_remove(actor=None, day=d("2025-10-09"))
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-09")


class TestCache:
    def test_fifty_rows_cost_one_query(self, django_assert_num_queries):
        starts = [d("2025-09-01") + timedelta(n) for n in range(50)]
        with django_assert_num_queries(1):  # 1. the override table (then cached)
            for start in starts:
                due = add_working_days(start, 10)
                working_days_between(start, due)
                is_overdue(due, datetime(2025, 10, 20, tzinfo=SHANGHAI))
        with django_assert_num_queries(0):
            add_working_days(d("2026-12-24"), 15)

    def test_year_is_known_costs_one_query_only_for_years_the_library_lacks(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert year_is_known(2025)
        with django_assert_num_queries(1):  # 1. the complete years (then cached)
            year_is_known(FIRST_UNKNOWN_YEAR)
            year_is_known(FIRST_UNKNOWN_YEAR + 1)

    def test_a_change_behind_the_cache_shows_after_cache_seconds(self, monkeypatch):
        entry = calendar_day_set(actor=None, day=d("2025-10-09"), is_workday=False)
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-10")
        # Another process changes the row: no signal reaches this one.
        CalendarDay.objects.filter(pk=entry.pk).update(is_workday=True)
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-10")  # still cached
        now = workdays.time.monotonic()
        monkeypatch.setattr(workdays.time, "monotonic", lambda: now + workdays.CACHE_SECONDS + 1)
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-09")

    def test_saving_clears_the_cache_at_once(self):
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-09")  # cache warm
        calendar_day_set(actor=None, day=d("2025-10-09"), is_workday=False)
        assert add_working_days(d("2025-09-30"), 1) == d("2025-10-10")


class TestOverdue:
    due = d("2025-10-09")

    @pytest.mark.parametrize(("now", "overdue"), [
        (datetime(2025, 10, 9, 0, 0, tzinfo=SHANGHAI), False),
        (datetime(2025, 10, 9, 23, 59, tzinfo=SHANGHAI), False),
        (datetime(2025, 10, 9, 23, 59, 59, 999999, tzinfo=SHANGHAI), False),
        (datetime(2025, 10, 10, 0, 0, tzinfo=SHANGHAI), True),
        (datetime(2025, 10, 9, 15, 59, 59, tzinfo=UTC), False),  # 23:59:59 in Shanghai
        (datetime(2025, 10, 9, 16, 0, tzinfo=UTC), True),  # 00:00 the next day in Shanghai
        (datetime(2025, 10, 9, 23, 59), False),  # naive: taken as Shanghai time
        (datetime(2025, 10, 10, 0, 0), True),
        (datetime(2025, 10, 8, 12, 0, tzinfo=SHANGHAI), False),
    ])
    def test_overdue_after_the_end_of_the_due_day_in_shanghai(self, now, overdue):
        assert is_overdue(self.due, now) is overdue

    def test_default_now_is_the_current_time(self):
        assert is_overdue(d("2000-01-01")) is True
        assert is_overdue(d("2999-01-01")) is False


class TestSpecialDays:
    def test_library_days_with_chinese_names(self):
        days = {s.date: s for s in special_days(2025)}
        assert days[d("2025-09-28")].is_workday and days[d("2025-09-28")].source == "library"
        assert days[d("2025-10-01")].name == "国庆节" and not days[d("2025-10-01")].is_workday
        assert d("2025-06-09") not in days  # an ordinary Monday

    def test_admin_entries_are_marked(self):
        calendar_day_set(actor=None, day=d("2025-06-09"), is_workday=True, name="确认上班")
        days = {s.date: s for s in special_days(2025, {d("2025-06-09"): "确认上班"})}
        assert days[d("2025-06-09")].source == "admin" and days[d("2025-06-09")].name == "确认上班"

    def test_an_unknown_year_without_entries_has_none(self):
        assert special_days(FIRST_UNKNOWN_YEAR) == []


# Property: the prefix-sum implementation agrees with a day-by-day count, across years.
PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@PROPERTY
@given(start=st.dates(min_value=date(2002, 1, 1), max_value=date(2029, 12, 31)), days=st.integers(0, 400))
def test_property_add_working_days_matches_a_day_by_day_count(start, days):
    due = add_working_days(start, days)
    assert due == reference_add(start, days)
    assert working_days_between(start, due) == days
    if days:
        assert is_working_day(due)


@PROPERTY
@given(a=st.dates(min_value=date(2002, 1, 1), max_value=date(2029, 12, 31)), span=st.integers(-800, 800))
def test_property_working_days_between_is_antisymmetric(a, span):
    b = a + timedelta(span)
    assert working_days_between(a, b) == -working_days_between(b, a)
    if a <= b:
        expected = sum(reference_is_workday(a + timedelta(n)) for n in range(1, span + 1))
        assert working_days_between(a, b) == expected


def test_every_day_the_library_knows_is_taken_as_it_says():
    # The year tables ask chinese-calendar only about the days it lists; prove that loses nothing.
    for year in range(2000, FIRST_UNKNOWN_YEAR):
        if not library_knows_year(year):
            continue
        first = date(year, 1, 1)
        flags = [is_working_day(first + timedelta(n)) for n in range((date(year + 1, 1, 1) - first).days)]
        assert flags == [chinese_calendar.is_workday(first + timedelta(n)) for n in range(len(flags))], year
