"""In-app notifications, e-mail after commit, and the daily reminders (overdue steps, expired
suspensions)."""

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from transfers.models import Notification, StepStatus
from transfers.services import step_decide, steps_remind_overdue, suspensions_remind_expired
from transfers.tasks import daily_reminders

from .conftest import make_student
from .test_decisions import current, start_transfer
from .test_rules import suspend


@pytest.mark.django_db
class TestStepArrived:
    def test_only_holders_directly_on_the_unit_are_told(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        for user in (cast.approver_a2, cast.registrar_a, cast.approver_a, cast.county_registrar):
            step_decide(actor=user, step=current(change), decision="approve")
        told = set(Notification.objects.filter(kind="step_arrived").values_list("user__username", flat=True))
        assert told == {"approver_a2", "registrar_a", "approver_a", "county_registrar", "county_approver"}

    def test_email_goes_out_after_commit_to_users_with_an_address(self, cast, today,
                                                                  django_capture_on_commit_callbacks):
        cast.approver_a2.email = "principal@example.cn"
        cast.approver_a2.save(update_fields=["email"])
        with django_capture_on_commit_callbacks(execute=True):
            start_transfer(cast, make_student(cast.school_a))
        assert [m.to for m in mail.outbox] == [["principal@example.cn"]]
        assert "待办" in mail.outbox[0].body

    def test_nothing_is_mailed_when_the_decision_fails(self, cast, today, django_capture_on_commit_callbacks):
        change = start_transfer(cast, make_student(cast.school_a))
        with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(ValidationError):
            step_decide(actor=cast.approver_a2, step=current(change), decision="reject")
        assert callbacks == []

    def test_unread_count_in_the_navigation(self, cast, today, client_for, django_assert_num_queries):
        start_transfer(cast, make_student(cast.school_a))
        client = client_for(cast.approver_a2)
        page = client.get(reverse("transfers:change_list")).content.decode()
        assert reverse("transfers:unread_badge") in page  # loaded by htmx after the page
        # 1 session, 2 user, 3 the count, 4-6 session save (savepoint, update, release)
        with django_assert_num_queries(6):
            badge = client.get(reverse("transfers:unread_badge")).content.decode()
        assert "1 条未读" in badge
        assert "未读" not in client_for(cast.registrar_b).get(reverse("transfers:unread_badge")).content.decode()


@pytest.mark.django_db
class TestDailyReminders:
    def test_overdue_steps_are_reminded_once(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step = current(change)
        assert steps_remind_overdue(today=step.due_date) == 0  # due today: not overdue yet
        assert steps_remind_overdue(today=date(2099, 1, 1)) == 1
        note = Notification.objects.get(kind="step_overdue")
        assert note.user == cast.approver_a2 and "逾期" in note.message
        assert steps_remind_overdue(today=date(2099, 1, 1)) == 0
        step.refresh_from_db()
        assert step.overdue_notified_at and step.status == StepStatus.CURRENT

    def test_expired_suspensions_remind_the_schools_registrars(self, cast, today):
        student = make_student(cast.school_a)
        suspend(cast, student, start=date(2025, 9, 1), end=date(2026, 6, 30))
        assert suspensions_remind_expired(today=date(2026, 6, 30)) == 0
        assert suspensions_remind_expired(today=date(2026, 7, 1)) == 1
        note = Notification.objects.get(kind="suspension_expired")
        assert note.user == cast.registrar_a and student.name in note.message
        suspensions_remind_expired(today=date(2026, 7, 1))
        assert Notification.objects.filter(kind="suspension_expired").count() == 1

    def test_the_beat_task_runs_both(self, cast, today):
        assert daily_reminders.delay().get() == {"overdue_steps": 0, "expired_suspensions": 0}


def test_the_daily_reminders_are_on_the_beat_schedule():
    from xueji.celery import app

    entry = app.conf.beat_schedule["daily-transfer-reminders"]
    assert entry["task"] == "transfers.tasks.daily_reminders"
