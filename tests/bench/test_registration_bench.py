"""The registration benchmark runs end to end on a small batch, and its check catches what it claims."""

from datetime import date

import pytest

from bench import registration_bench
from students.models import Student
from transfers import rules

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def autumn(monkeypatch):
    # Outside the blackout window, as tests/transfers does; the test database is already set up.
    monkeypatch.setattr(rules, "local_today", lambda: date(2026, 10, 20))
    monkeypatch.setattr(registration_bench, "setup_django", lambda: None)


def test_a_small_batch_is_approved_and_verified(cast, capsys):
    assert registration_bench.main(["--students", "12", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "终审通过 12 名学生" in out and "在籍学生 12" in out


def test_the_check_reports_a_missing_history_row(cast, capsys):
    assert registration_bench.main(["--students", "3", "--seed", "8"]) == 0
    school = Student.objects.latest("pk").school
    approver = Student.history.filter(school=school, history_type="~").first().history_user
    Student.history.filter(school=school, history_type="~").first().delete()  # a bench check, not a service
    problems = registration_bench.verify(school, approver, 3)
    assert any("注册通过历史记录 2" in p for p in problems)


def test_a_small_batch_is_rejected_and_verified(cast, capsys):
    assert registration_bench.main(["--students", "5", "--seed", "9", "--reject"]) == 0
    out = capsys.readouterr().out
    assert "终审退回 5 名学生" in out and "草稿学生 5" in out
