"""Fixtures for the oversight tests: students at the cast's schools and county inspectors."""

import itertools
from datetime import date

import pytest
from stdnum.iso7064 import mod_11_2

from accounts.models import Role
from accounts.services import role_grant, user_create
from students.models import NumberKind, Student, StudentStatus
from xueji.history import save_with_history

_sequence = itertools.count(100)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def id_number_for(region_code: str, birth: date, gender: str) -> str:
    """A valid resident ID number (GB 11643): region + birth date + sequence + check digit."""
    seq = (next(_sequence) * 2) % 998 + (1 if gender == "1" else 0)
    body = f"{region_code}{birth:%Y%m%d}{seq:03d}"
    return body + mod_11_2.calc_check_digit(body)


def make_student(school, *, level: int = 3, status=StudentStatus.ACTIVE, name: str = "王小明", gender: str = "1",
                 class_number: int = 1, **fields) -> Student:
    """An active student at ``school`` (first stage, grade ``level``), written with history.

    The student-records services own creation and registration; these tests only need rows."""
    stage = school.stages()[0]
    grade = school.grades.get(stage=stage, level=level)
    birth = date(2026 - 6 - level - {"primary": 0, "junior": 6, "senior": 9}[stage], 3, 1)
    region = school.region.code if school.region.level == "county" else "340102"
    id_number = id_number_for(region, birth, gender)
    student = Student(name=name, gender=gender, birth_date=birth, id_type="1", id_number=id_number, status=status,
                      school=school, grade=grade, school_class=grade.classes.get(number=class_number),
                      student_number=f"G{id_number}", number_kind=NumberKind.G, **fields)
    return save_with_history(student, actor=None, reason="测试数据")


def grant_user(username: str, role: str, unit):
    """A user holding ``role`` on ``unit`` (created through the accounts services)."""
    home = unit if unit.__class__.__name__ == "Region" else unit.region
    user = user_create(actor=None, username=username, real_name=username, password="xueji2026demo",
                       home_region=home, must_change_password=False)
    role_grant(actor=None, user=user, role=role, unit=unit)
    return user


@pytest.fixture(autouse=True)
def _fresh_figures_cache():
    """Dashboards cache their data per figures version; the cache (Redis in CI) outlives a test's
    rolled-back rows, so each test starts without a version."""
    from django.core.cache import cache

    from oversight.selectors import version_key

    cache.delete_many([version_key(code) for code in ("34", "42")])


@pytest.fixture
def students(cast):
    """Ten active students: four at school_a, three at school_a2, two at school_b, one senior."""
    made = [make_student(cast.school_a, name=f"甲{i}", level=1 + i % 3, gender="12"[i % 2]) for i in range(4)]
    made += [make_student(cast.school_a2, name=f"乙{i}", level=2) for i in range(3)]
    made += [make_student(cast.school_b, name=f"丙{i}", level=4, is_migrant_child=True) for i in range(2)]
    made += [make_student(cast.senior_school, name="丁0", level=1, left_behind="2")]
    return made


@pytest.fixture
def county_inspectors(cast):
    """Inspectors of 瑶海区 (340102) and 蜀山区 (340104), for cross-checks organised by 合肥市."""
    return (grant_user("inspector_yaohai", Role.INSPECTOR, cast.regions["340102"]),
            grant_user("inspector_shushan", Role.INSPECTOR, cast.regions["340104"]))
