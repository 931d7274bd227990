"""Fixtures for status-change tests: students at the cast's schools, a movable clock, eager e-mail."""

import itertools
from datetime import date

import pytest
from stdnum.iso7064 import mod_11_2

from students.models import NumberKind, Student, StudentStatus
from xueji.history import save_with_history

_sequence = itertools.count(100)


def id_number_for(region_code: str, birth: date, gender: str) -> str:
    """A valid resident ID number (GB 11643) for tests: region + birth date + sequence + check digit."""
    # The 17th digit is odd for men, even for women.
    seq = (next(_sequence) * 2) % 998 + (1 if gender == "1" else 0)
    body = f"{region_code}{birth:%Y%m%d}{seq:03d}"
    return body + mod_11_2.calc_check_digit(body)


def make_student(school, *, level: int = 3, stage: str | None = None, status=StudentStatus.ACTIVE,
                 name: str = "王小明", gender: str = "1", number: bool = True, class_number: int = 1,
                 actor=None) -> Student:
    """A student at ``school`` in grade ``level`` of its first stage, class ``class_number``.

    Written with history (the student-records services own creation; here we only need rows)."""
    stage = stage or school.stages()[0]
    grade = school.grades.get(stage=stage, level=level)
    birth = date(2026 - 6 - level - {"primary": 0, "junior": 6, "senior": 9}[stage], 3, 1)
    id_number = id_number_for(school.region.code if school.region.level == "county" else "340102", birth, gender)
    student = Student(name=name, gender=gender, birth_date=birth, id_type="1", id_number=id_number,
                      status=status, school=school, grade=grade,
                      school_class=grade.classes.get(number=class_number),
                      student_number=f"G{id_number}" if number else "",
                      number_kind=NumberKind.G if number else "")
    return save_with_history(student, actor=actor, reason="测试数据")


@pytest.fixture
def student_factory(cast):
    return make_student


@pytest.fixture(autouse=True)
def eager_tasks(monkeypatch):
    """Run Celery tasks in-process even when REDIS_URL is set (CI's PostgreSQL run)."""
    from xueji.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture
def today(monkeypatch):
    """``today(date)`` moves the rules' clock (blackouts, terms) to ``date``."""
    from transfers import rules

    def move(day: date):
        monkeypatch.setattr(rules, "local_today", lambda: day)
        return day

    move(date(2026, 10, 20))
    return move
