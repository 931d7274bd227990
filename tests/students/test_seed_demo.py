"""seed_demo on real regions: every role, valid students, and a second run that changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from stdnum.cn import ric

from accounts.models import Role, RoleGrant, User
from agreements.models import Agreement, AgreementStatus
from audits.models import AuditEvent
from schools.models import Grade, Region, School, SchoolClass
from students.demo import ACCOUNTS, DEFAULT_PASSWORD, SCHOOLS
from students.models import NumberKind, Student, StudentStatus

MODELS = (Region, School, Grade, SchoolClass, User, RoleGrant, Student, AuditEvent)
DEMO_SCHOOL_CODES = [s[0] for s in SCHOOLS]


def demo_students():
    # The test database may already hold the shared cast (tests/cast.py); look at the demo's schools only.
    return Student.objects.filter(school__school_code__in=DEMO_SCHOOL_CODES)


def counts() -> dict[str, int]:
    rows = {model.__name__: model.objects.count() for model in MODELS}
    rows |= {f"{model.__name__} history": model.history.count() for model in MODELS if hasattr(model, "history")}
    return rows


@pytest.fixture
def seeded(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("load_regions", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_a_second_run_changes_nothing(seeded):
    before = counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert "无变化" in out.getvalue()


def test_it_prints_the_logins_and_the_password_rule(seeded):
    for username, *_ in ACCOUNTS:
        assert username in seeded
    assert "DEMO_PASSWORD" in seeded


def test_every_role_has_a_demo_account_that_can_log_in(seeded):
    demo_grants = RoleGrant.objects.filter(user__username__in=[a[0] for a in ACCOUNTS])
    assert set(demo_grants.values_list("role", flat=True)) == set(Role.values)
    for username, _, role, _ in ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.check_password(DEFAULT_PASSWORD)
        assert not user.must_change_password
        assert user.role_grants.filter(role=role, is_active=True).exists()


def test_head_teacher_heads_the_class_of_the_grant(seeded):
    grant = RoleGrant.objects.get(user__username="demo_head_teacher")
    assert grant.school_class.head_teacher.username == "demo_head_teacher"


def test_schools_hang_on_real_regions(seeded):
    pengchang = School.objects.get(school_code="4290040001", name="彭场镇第二小学")
    assert (pengchang.region_id, pengchang.region.parent_id) == ("429004", "420000")
    assert pengchang.path == "420000/429004/" + pengchang.school_code + "/"
    senior = School.objects.get(school_code="3401030001", name="合肥市第一中学")
    assert (senior.stage, senior.authority_id) == (School.Stage.SENIOR, "340100")
    anhui = School.objects.filter(province_code="34")
    assert anhui.values("region__parent").distinct().count() >= 2  # 合肥市 and 芜湖市
    assert {School.Stage.PRIMARY, School.Stage.JUNIOR, School.Stage.SENIOR, School.Stage.NINE_YEAR} <= set(
        anhui.values_list("stage", flat=True))


def test_students_are_valid_active_and_spread_over_classes(seeded):
    students = list(demo_students().select_related("school", "grade"))
    assert 300 <= len(students) <= 1000
    assert len({s.id_number for s in students}) == len(students)
    demo_classes = SchoolClass.objects.filter(school__school_code__in=DEMO_SCHOOL_CODES)
    assert demo_students().values("school_class").distinct().count() == demo_classes.count()
    for s in students:
        assert ric.is_valid(s.id_number), s.pk
        assert (s.student_number, s.number_kind, s.status) == ("G" + s.id_number, NumberKind.G, StudentStatus.ACTIVE)
        assert (s.school_path, s.province_code) == (s.school.path, s.school.province_code)
        assert s.id_number[6:14] == s.birth_date.strftime("%Y%m%d")
        assert int(s.id_number[16]) % 2 == (1 if s.gender == "1" else 0)
        assert s.name_pinyin and s.grade.school_id == s.school_id


def test_student_history_rows_name_the_seeding(seeded):
    history = Student.history.filter(school__school_code__in=DEMO_SCHOOL_CODES)
    assert set(history.values_list("history_change_reason", flat=True)) == {"演示数据"}
    assert history.count() == demo_students().count()


def test_it_refuses_without_regions(db):
    with pytest.raises(CommandError, match="load_regions"):
        call_command("seed_demo", stdout=StringIO())


def test_it_refuses_a_password_that_breaks_the_rules(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "short")
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("seed_demo", stdout=StringIO())


def test_demo_registrars_are_active_through_signed_agreements(db, settings, monkeypatch):
    # Production default: a school registrar acts only under a signed 学籍管理员责任书.
    settings.XUEJI_REQUIRE_REGISTRAR_AGREEMENT = True
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("load_regions", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    for username in ("demo_school_registrar", "demo_xiantao_registrar"):
        grant = RoleGrant.objects.get(user__username=username, role=Role.REGISTRAR)
        assert grant.is_active, username
        assert Agreement.objects.get(party_user=grant.user).status == AgreementStatus.SIGNED
    before = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == before
