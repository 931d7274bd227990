"""Holiday table services: calendar_day_set, calendar_day_remove, calendar_year_mark (xueji/services.py)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.models import AuditEvent
from xueji.models import CalendarDay, CalendarYear
from xueji.services import calendar_day_remove, calendar_day_set, calendar_year_mark, may_edit_calendar

pytestmark = pytest.mark.django_db
DAY = date(2027, 10, 1)


class TestPermission:
    @pytest.mark.parametrize("role", ["registrar_a", "approver_a", "county_approver", "security_admin",
                                      "audit_admin", "nobody"])
    def test_only_manage_units_holders_may_write(self, cast, role):
        user = getattr(cast, role)
        assert not may_edit_calendar(user)
        with pytest.raises(PermissionDenied):
            calendar_day_set(actor=user, day=DAY, is_workday=False)
        with pytest.raises(PermissionDenied):
            calendar_day_remove(actor=user, day=DAY)
        with pytest.raises(PermissionDenied):
            calendar_year_mark(actor=user, year=2027, complete=True)

    def test_system_admin_may(self, cast):
        assert may_edit_calendar(cast.system_admin)
        calendar_day_set(actor=cast.system_admin, day=DAY, is_workday=False, name="国庆节")
        assert CalendarDay.objects.get(date=DAY).name == "国庆节"

    def test_anonymous_user_may_not(self):
        from django.contrib.auth.models import AnonymousUser

        with pytest.raises(PermissionDenied):
            calendar_day_set(actor=AnonymousUser(), day=DAY, is_workday=False)


class TestDaySet:
    def test_creates_then_replaces_with_history(self, cast):
        first = calendar_day_set(actor=cast.system_admin, day=DAY, is_workday=False, name=" 国庆节 ")
        assert first.name == "国庆节"
        second = calendar_day_set(actor=cast.system_admin, day=DAY, is_workday=True, name="调休上班",
                                  reason="通知更正")
        assert second.pk == first.pk and second.is_workday
        history = list(second.history.order_by("history_date"))
        assert [h.history_type for h in history] == ["+", "~"]
        assert history[1].history_change_reason == "通知更正"
        assert all(h.history_user == cast.system_admin for h in history)

    def test_an_unchanged_day_writes_nothing(self, cast):
        calendar_day_set(actor=cast.system_admin, day=DAY, is_workday=False, name="国庆节")
        events = AuditEvent.objects.count()
        calendar_day_set(actor=cast.system_admin, day=DAY, is_workday=False, name="国庆节")
        assert CalendarDay.objects.get().history.count() == 1
        assert AuditEvent.objects.count() == events

    def test_audit_event(self, cast):
        entry = calendar_day_set(actor=cast.system_admin, day=DAY, is_workday=False, name="国庆节", reason="2027年通知")
        event = AuditEvent.objects.get(target_type="xueji.calendarday", target_id=str(entry.pk))
        assert event.kind == AuditEvent.Kind.OTHER
        assert event.message == "节假日设置：2027-10-01 放假 国庆节" and event.reason == "2027年通知"

    @pytest.mark.parametrize("day", [date(1999, 12, 31), date(2101, 1, 1)])
    def test_years_out_of_range_are_refused(self, day):
        with pytest.raises(ValidationError) as info:
            calendar_day_set(actor=None, day=day, is_workday=False)
        assert "date" in info.value.error_dict

    def test_long_names_are_cut(self):
        assert len(calendar_day_set(actor=None, day=DAY, is_workday=False, name="节" * 80).name) == 50


class TestDayRemove:
    def test_removes_with_a_history_row(self, cast):
        entry = calendar_day_set(actor=None, day=DAY, is_workday=False)
        assert calendar_day_remove(actor=cast.system_admin, day=DAY, reason="录错") is True
        assert not CalendarDay.objects.exists()
        deleted = entry.history.get(history_type="-")
        assert deleted.history_user == cast.system_admin and deleted.history_change_reason == "录错"
        assert AuditEvent.objects.filter(message__startswith="删除节假日设置：2027-10-01").exists()

    def test_nothing_to_remove(self, cast):
        assert calendar_day_remove(actor=cast.system_admin, day=DAY) is False


class TestYearMark:
    def test_mark_unmark_with_history(self, cast):
        calendar_year_mark(actor=cast.system_admin, year=2027, complete=True)
        calendar_year_mark(actor=cast.system_admin, year=2027, complete=True)  # no change
        entry = calendar_year_mark(actor=cast.system_admin, year=2027, complete=False)
        assert not entry.complete
        assert [h.complete for h in entry.history.order_by("history_date")] == [True, False]
        assert CalendarYear.objects.count() == 1

    def test_unmarking_an_unknown_year_creates_an_incomplete_row(self):
        assert calendar_year_mark(actor=None, year=2030, complete=False).complete is False

    @pytest.mark.parametrize("year", [1999, 2101])
    def test_years_out_of_range_are_refused(self, year):
        with pytest.raises(ValidationError) as info:
            calendar_year_mark(actor=None, year=year, complete=True)
        assert "year" in info.value.error_dict
