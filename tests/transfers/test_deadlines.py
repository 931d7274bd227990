"""Due dates of steps in working days (add_working_days), across 国庆 and an unknown year-end."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from students.models import StudentStatus
from transfers.deadlines import age_in_working_days, due_date_for, due_days, is_step_overdue
from transfers.services import registration_submit, step_decide

from .conftest import make_student
from .test_decisions import current, start_transfer

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


class TestDueDays:
    def test_defaults(self):
        assert due_days("transfer", "school") == 5
        assert due_days("transfer", "county") == 10
        assert due_days("suspension", "province") == 10
        assert due_days("registration", "county") == 15
        assert due_days("registration", "school") == 5

    def test_configurable_per_kind_and_level(self, settings):
        settings.XUEJI_STEP_DUE_DAYS = {"transfer": {"county": 7}, "*": {"school": 3}}
        assert due_days("transfer", "county") == 7
        assert due_days("suspension", "school") == 3
        assert due_days("registration", "county") == 15


@pytest.mark.django_db
class TestDueDates:
    def test_school_step_across_national_day_2025(self):
        # 10-01..10-08 off; Saturday 10-11 is a make-up working day.
        assert due_date_for("transfer", "school", at(2025, 9, 30, 16, 0)) == date(2025, 10, 14)

    def test_bureau_step_across_national_day_2025(self):
        assert due_date_for("transfer", "county", at(2025, 9, 30, 9, 0)) == date(2025, 10, 21)

    def test_arrival_late_in_the_evening_counts_by_the_shanghai_date(self):
        # 2025-09-30 23:30 in Shanghai is 15:30 UTC the same day; 2025-09-30 16:30 UTC is 10-01 in Shanghai.
        utc = ZoneInfo("UTC")
        assert due_date_for("transfer", "school", datetime(2025, 9, 30, 16, 30, tzinfo=utc)) == date(2025, 10, 14)
        assert due_date_for("transfer", "school", datetime(2025, 9, 30, 15, 30, tzinfo=utc)) == date(2025, 10, 14)

    def test_across_a_year_end_the_calendar_library_does_not_know(self):
        # 2027 is unknown to chinese-calendar: counted Monday to Friday, never an exception.
        assert due_date_for("transfer", "county", at(2026, 12, 25, 10, 0)) == date(2027, 1, 8)

    def test_registration_bureau_review_gets_15_working_days(self):
        assert due_date_for("registration", "county", at(2025, 9, 30, 10, 0)) == date(2025, 10, 28)

    def test_submitted_steps_get_their_due_dates(self, cast, today, monkeypatch):
        monkeypatch.setattr("django.utils.timezone.now", lambda: at(2025, 9, 30, 10, 0))
        students = [make_student(cast.school_a, level=1, status=StudentStatus.DRAFT, number=False)]
        change = registration_submit(actor=cast.registrar_a, students=students)
        assert current(change).due_date == date(2025, 10, 14)
        step_decide(actor=cast.approver_a, step=current(change), decision="approve")
        assert current(change).due_date == date(2025, 10, 28)


@pytest.mark.django_db
class TestOverdue:
    def test_overdue_only_after_the_end_of_the_due_day_in_shanghai(self):
        due = date(2025, 10, 14)
        assert not is_step_overdue(due, at(2025, 10, 14, 23, 59, 59))
        assert is_step_overdue(due, at(2025, 10, 15, 0, 0))
        assert not is_step_overdue(None, at(2030, 1, 1))

    def test_age_in_working_days(self):
        assert age_in_working_days(at(2025, 9, 30, 10), at(2025, 10, 14, 10)) == 5
        assert age_in_working_days(None) == 0


@pytest.mark.django_db
def test_steps_of_a_transfer_are_due_in_5_then_10_working_days(cast, today, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(2025, 9, 30, 10, 0))
    change = start_transfer(cast, make_student(cast.school_a))
    assert current(change).due_date == date(2025, 10, 14)
