"""Fixtures for the oversight tests: students at the cast's schools and county inspectors."""

import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone
from stdnum.iso7064 import mod_11_2

from accounts.models import Role
from accounts.services import role_grant, user_create
from oversight.services import inspection_assign, inspection_create, inspection_item_judge, rectification_issue
from students.models import ArchiveItemType, NumberKind, Student, StudentStatus
from students.services import archive_item_types_for, archive_item_update, problem_scan
from transfers.models import ApprovalStep
from transfers.services import change_create_draft, change_submit, step_decide
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
    """Dashboards cache their data and HTML per figures version; the cache (Redis in CI) outlives a
    test's rolled-back rows, so each oversight test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()


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


@pytest.fixture
def busy(cast, students, monkeypatch):
    """Records of every kind the dashboard counts, in several units and two provinces."""
    from transfers import rules

    monkeypatch.setattr(rules, "local_today", lambda: date(2026, 10, 20))
    make_student(cast.school_a, name="休学生", status="suspended")
    make_student(cast.other_school, name="外省生", level=2)
    # Two records without ID numbers, same name/gender/birth date, in two counties: a problem of 合肥市.
    for school in (cast.school_a, cast.school_b):
        s = make_student(school, name="重名", level=2)
        s.id_number, s.id_type, s.student_number, s.number_kind = "", "Z", "", ""
        s.save(update_fields=["id_number", "id_type", "student_number", "number_kind"])
    problem_scan()
    # One complete archive at school_a, one incomplete at school_b. The checklist comes from a data
    # migration, which a transactional test elsewhere may have flushed: make sure two lines exist.
    for code, name in (("birth_certificate_t", "出生证明"), ("hukou_t", "户口簿")):
        ArchiveItemType.objects.get_or_create(code=code, province_code="", defaults={"name": name, "required": True})
    for item_type in archive_item_types_for("34"):
        archive_item_update(actor=cast.registrar_a, student=students[2], item_type=item_type, present=True)
    archive_item_update(actor=cast.registrar_b, student=students[7],
                        item_type=archive_item_types_for("34").filter(required=True).first(), present=True)
    # Transfers: school_a → school_a2 (one decided, one current and overdue) and school_a → school_b.
    first = start(cast, students[0], cast.school_a2, cast.registrar_a2)
    step_decide(actor=cast.approver_a2, step=first.steps.get(status="current"), decision="approve")
    start(cast, students[1], cast.school_b, cast.registrar_b)
    late = ApprovalStep.objects.filter(status="current").order_by("pk").first()
    late.due_date = date(2026, 9, 15)
    late.save(update_fields=["due_date"])
    # An inspection of 瑶海区 with verdicts, and rectification notices (one overdue).
    inspection = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                   inspected_region=cast.regions["340102"], title="抽查", size=5, seed="b")
    inspection_assign(actor=cast.inspector, inspection=inspection)
    for item, verdict in zip(inspection.items.all()[:3], ["correct", "false", "corrected"], strict=True):
        inspection_item_judge(actor=cast.inspector, item=item, verdict=verdict, note="说明")
    today = timezone.localdate()
    rectification_issue(actor=cast.county_approver, issuer=cast.regions["340102"], target=cast.school_a,
                        failing="late_entry", title="逾期", details="d", deadline=today)
    rectification_issue(actor=cast.city_approver, issuer=cast.regions["340100"], target=cast.regions["340104"],
                        failing="other", title="其他", details="d", deadline=today + timedelta(days=30))
    return cast


def start(cast, student, school, registrar):
    target = school.classes.get(grade__level=student.grade.level, grade__stage=student.grade.stage, number=1)
    change = change_create_draft(actor=registrar, kind="transfer", student=student, target_class=target,
                                 reason_category="relocation", reason="随迁")
    return change_submit(actor=registrar, change=change)
