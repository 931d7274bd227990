"""The first-grade age window: boundaries Aug 31 / Sep 1 / Oct 31 / Nov 1, leap days, provincial windows."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from accounts.services import role_grant
from agreements.models import EnrolmentAgeRule
from agreements.rules import (
    age_window,
    first_grade_age_check,
    liability_form_needed,
    province_rule,
    school_year_of,
    school_year_period,
)
from agreements.services import enrolment_age_rule_set
from audits.models import AuditEvent

D = datetime.date


class TestDefaultWindow:
    @pytest.mark.parametrize("birth, needed", [
        (D(2020, 8, 31), False),   # six by August 31: no form
        (D(2020, 9, 1), True),     # first day of the window
        (D(2020, 10, 31), True),   # last day of the window
        (D(2020, 2, 29), False),   # leap-day child, turned six long before September
        (D(2019, 12, 31), False),
    ])
    def test_form_needed_exactly_inside_the_window(self, birth, needed, db):
        assert liability_form_needed(birth, 2026, "34") is needed

    def test_born_after_the_window_is_refused_with_a_clear_message(self, db):
        with pytest.raises(ValidationError) as exc:
            first_grade_age_check(D(2020, 11, 1), 2026, "34")
        message = exc.value.message_dict["birth_date"][0]
        assert "2020年10月31日" in message and "不能注册为一年级新生" in message

    @pytest.mark.parametrize("birth", [D(2020, 8, 31), D(2020, 9, 1), D(2020, 10, 31), D(2020, 2, 29)])
    def test_children_born_up_to_the_window_end_may_enter(self, birth, db):
        assert first_grade_age_check(birth, 2026, "34") is None

    def test_leap_day_child_of_a_later_year_is_too_young(self, db):
        # Born 2024-02-29: entry 2030 fine, entry 2029 (window ends 2023-10-31) refused.
        assert first_grade_age_check(D(2024, 2, 29), 2030, None) is None
        with pytest.raises(ValidationError):
            first_grade_age_check(D(2024, 2, 29), 2029, None)

    def test_without_province_the_default_applies(self):
        w = age_window(2026, None)
        assert (w.start, w.end) == (D(2020, 9, 1), D(2020, 10, 31))


@pytest.mark.django_db
class TestProvincialWindow:
    def test_a_province_may_narrow_the_window(self, cast):
        enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340000"],
                               start_month=9, start_day=1, end_month=9, end_day=30)
        assert liability_form_needed(D(2020, 9, 30), 2026, "34")
        with pytest.raises(ValidationError):
            first_grade_age_check(D(2020, 10, 1), 2026, "340000")
        # Another province keeps the default.
        assert liability_form_needed(D(2020, 10, 1), 2026, "42")

    def test_a_feb_29_window_end_falls_back_to_feb_28_in_common_years(self, cast):
        enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340000"],
                               start_month=1, start_day=1, end_month=2, end_day=29)
        w = age_window(2027, "34")  # 2021 is a common year
        assert w.end == D(2021, 2, 28)
        assert age_window(2026, "34").end == D(2020, 2, 29)

    def test_impossible_or_reversed_windows_are_refused_on_the_field_at_fault(self, cast):
        with pytest.raises(ValidationError) as exc:
            enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340000"],
                                   start_month=9, start_day=31, end_month=10, end_day=31)
        assert exc.value.message_dict == {"start_day": ["9月没有31日（起始日期应为1到30日）"]}
        with pytest.raises(ValidationError) as exc:
            enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340000"],
                                   start_month=10, start_day=1, end_month=9, end_day=1)
        assert list(exc.value.message_dict) == ["end_month"]
        with pytest.raises(ValidationError) as exc:
            enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340000"],
                                   start_month=0, start_day=1, end_month=9, end_day=32)
        assert set(exc.value.message_dict) == {"start_month", "end_day"}
        assert not EnrolmentAgeRule.objects.exists()

    def test_a_change_keeps_history_and_an_audit_event_and_the_same_window_writes_nothing(self, cast):
        province = cast.regions["340000"]
        rule = enrolment_age_rule_set(actor=cast.system_admin, province=province, start_month=9, start_day=1,
                                      end_month=9, end_day=30, ip_address="10.0.0.1")
        event = AuditEvent.objects.get(target_type="agreements.enrolmentagerule")
        assert event.actor == cast.system_admin and event.ip_address == "10.0.0.1"
        assert event.extra == {"before": [9, 1, 10, 31], "after": [9, 1, 9, 30]}
        assert rule.history.get().history_change_reason == "设置未满六周岁入学责任书窗口"
        enrolment_age_rule_set(actor=cast.system_admin, province=province, start_month=9, start_day=1,
                               end_month=9, end_day=30)
        assert rule.history.count() == 1 and AuditEvent.objects.filter(pk__gt=event.pk).count() == 0
        enrolment_age_rule_set(actor=cast.system_admin, province=province, start_month=8, start_day=15,
                               end_month=9, end_day=30)
        assert AuditEvent.objects.latest("pk").extra == {"before": [9, 1, 9, 30], "after": [8, 15, 9, 30]}

    def test_only_a_province_has_a_window(self, cast):
        with pytest.raises(ValidationError):
            enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340100"],
                                   start_month=9, start_day=1, end_month=9, end_day=30)
        # A city's system administrator holds manage_units on the city, not on the province.
        role_grant(actor=None, user=cast.nobody, role=Role.SYSTEM_ADMIN, unit=cast.regions["340100"])
        with pytest.raises(PermissionDenied):
            enrolment_age_rule_set(actor=cast.nobody, province=cast.regions["340000"],
                                   start_month=9, start_day=1, end_month=9, end_day=30)

    def test_a_rule_loaded_once_serves_many_checks_without_queries(self, cast, django_assert_num_queries):
        enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340000"],
                               start_month=9, start_day=1, end_month=12, end_day=31)
        with django_assert_num_queries(1):
            rule = province_rule("34")
        with django_assert_num_queries(0):
            assert first_grade_age_check(D(2020, 12, 1), 2026, "34", rule=rule) is None
            assert liability_form_needed(D(2020, 12, 1), 2026, "34", rule=rule)
            # rule=None: a province known to keep the default window (no query either).
            assert not liability_form_needed(D(2020, 12, 1), 2026, "34", rule=None)
            with pytest.raises(ValidationError):
                first_grade_age_check(D(2020, 12, 1), 2026, "34", rule=None)
        assert province_rule("42") is None and province_rule("") is None

    def test_only_the_provinces_system_admin_sets_it(self, cast):
        for actor in (cast.other_security_admin, cast.province_approver, cast.security_admin):
            with pytest.raises(PermissionDenied):
                enrolment_age_rule_set(actor=actor, province=cast.regions["340000"],
                                       start_month=9, start_day=1, end_month=9, end_day=30)


def test_school_year_runs_from_september_to_september():
    assert school_year_of(D(2026, 9, 1)) == 2026
    assert school_year_of(D(2027, 8, 31)) == 2026
    assert school_year_period(2026) == (D(2026, 9, 1), D(2027, 9, 1))
