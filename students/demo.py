"""The demo data set behind ``make run``: schools, grades, classes, one account per role, students.

Everything is created through the services (schools.services, accounts.services) except the
students, which are written in bulk with history rows (DESIGN.md §7: bulk writes go through the
``*_with_history`` helpers). Every step looks for what exists first, so seeding twice changes
nothing. The regions must have been loaded (``manage.py load_regions``).
"""

import datetime
import os
import random
from dataclasses import dataclass, field

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Role, RoleGrant, User
from accounts.services import role_grant, user_create
from agreements.models import Agreement, AgreementKind, AgreementStatus
from agreements.services import agreement_sign, registrar_agreement_issue
from schools.models import Region, School, SchoolClass
from schools.services import class_create, class_update, grade_create, school_create

from .models import NumberKind, Student, StudentStatus
from .synthetic import IdNumberAllocator, school_year_of, synthetic_student, years_of_schooling

DEFAULT_PASSWORD = "Xueji2026demo"
PASSWORD_ENV = "DEMO_PASSWORD"
CHANGE_REASON = "演示数据"
SEED = 2026
STUDENTS_PER_CLASS = 5
CLASSES_PER_GRADE = 2
REQUIRED_REGIONS = ("340000", "340100", "340102", "340103", "340104", "340111", "340200", "340202", "340223",
                    "420000", "429004")

# (school code, name, stage, region, authority); codes are the county code + a 4-digit number, so
# they never collide with the benchmark's generated schools (which start with 9, see bench/).
SCHOOLS = (
    ("3401020001", "瑶海区第一小学", School.Stage.PRIMARY, "340102", "340102"),
    ("3401020002", "瑶海区第二小学", School.Stage.PRIMARY, "340102", "340102"),
    ("3401040001", "蜀山区实验小学", School.Stage.PRIMARY, "340104", "340104"),
    ("3401040002", "蜀山区第一初级中学", School.Stage.JUNIOR, "340104", "340104"),
    ("3401110001", "包河区九年一贯制学校", School.Stage.NINE_YEAR, "340111", "340111"),
    ("3401030001", "合肥市第一中学", School.Stage.SENIOR, "340103", "340100"),
    ("3402020001", "镜湖区实验小学", School.Stage.PRIMARY, "340202", "340202"),
    ("3402230001", "南陵县城关中学", School.Stage.JUNIOR, "340223", "340223"),
    ("3402020002", "芜湖市第一中学", School.Stage.SENIOR, "340202", "340200"),
    ("4290040001", "彭场镇第二小学", School.Stage.PRIMARY, "429004", "429004"),
)

# (username, real name, role, unit): unit is a region code, a school code, or
# "school code/grade stage/level/class number" for a class; None for the guardian.
ACCOUNTS = (
    ("demo_school_registrar", "张学籍", Role.REGISTRAR, "3401020001"),
    ("demo_school_approver", "李校长", Role.APPROVER, "3401020001"),
    ("demo_head_teacher", "周老师", Role.HEAD_TEACHER, "3401020001/primary/1/1"),
    ("demo_county_registrar", "吴科员", Role.REGISTRAR, "340102"),
    ("demo_county_approver", "郑科长", Role.APPROVER, "340102"),
    ("demo_city_approver", "陈处长", Role.APPROVER, "340100"),
    ("demo_province_approver", "褚处长", Role.APPROVER, "340000"),
    ("demo_inspector", "卫督学", Role.INSPECTOR, "340100"),
    ("demo_guardian", "许家长", Role.GUARDIAN, None),
    ("demo_system_admin", "蒋系统", Role.SYSTEM_ADMIN, "340000"),
    ("demo_security_admin", "沈安全", Role.SECURITY_ADMIN, "340000"),
    ("demo_audit_admin", "韩审计", Role.AUDIT_ADMIN, "340000"),
    ("demo_xiantao_registrar", "杨学籍", Role.REGISTRAR, "4290040001"),
    ("demo_xiantao_approver", "朱校长", Role.APPROVER, "4290040001"),
    ("demo_xiantao_county_approver", "秦科长", Role.APPROVER, "429004"),
)


class RegionsMissing(Exception):
    """The GB/T 2260 regions the demo hangs on are not loaded yet."""


@dataclass
class DemoLogin:
    """One row of the printed login table."""

    username: str
    role: str
    unit: str


@dataclass
class DemoResult:
    """What ``demo_seed`` created (0 everywhere on a second run) and the login table."""

    schools: int = 0
    grades: int = 0
    classes: int = 0
    users: int = 0
    grants: int = 0
    students: int = 0
    agreements: int = 0
    logins: list[DemoLogin] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any((self.schools, self.grades, self.classes, self.users, self.grants, self.students,
                    self.agreements))


def demo_password() -> str:
    """The demo password: env DEMO_PASSWORD, default ``DEFAULT_PASSWORD``.

    Raises ValidationError when it breaks the password rules (≥ 8 characters, letters and digits).
    """
    password = os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD
    validate_password(password)
    return password


@transaction.atomic
def demo_seed(*, password: str, today: datetime.date | None = None) -> DemoResult:
    """Create the demo schools, grades, classes, accounts and students that do not exist yet.

    ``password`` is set on accounts created now (existing accounts keep theirs). ``today`` fixes
    the school year the students' ages are computed for (default: today in Asia/Shanghai).
    Raises RegionsMissing when load_regions has not been run.
    """
    regions = Region.objects.in_bulk(REQUIRED_REGIONS)
    if len(regions) < len(REQUIRED_REGIONS):
        raise RegionsMissing(sorted(set(REQUIRED_REGIONS) - set(regions)))
    result = DemoResult()
    schools = {code: _school(result, code, name, stage, regions[region], regions[authority])
               for code, name, stage, region, authority in SCHOOLS}
    for school in schools.values():
        _grades_and_classes(result, school)
    for username, real_name, role, unit_key in ACCOUNTS:
        unit = _unit(unit_key, regions, schools)
        _account(result, username, real_name, role, unit, password)
    result.agreements = _registrar_agreements([a[0] for a in ACCOUNTS])
    result.students = _students(list(schools.values()), school_year_of(today or timezone.localdate()))
    return result


def _school(result: DemoResult, code, name, stage, region, authority) -> School:
    school = School.objects.filter(school_code=code).first()
    if school is None:
        school = school_create(actor=None, school_code=code, name=name, stage=stage, region=region,
                               authority=authority)
        result.schools += 1
    return school


def _grades_and_classes(result: DemoResult, school: School) -> None:
    grades = {(g.stage, g.level): g for g in school.grades.all()}
    classes = set(school.classes.values_list("grade_id", "number"))
    for stage in school.stages():
        for level in range(1, school.years_of(stage) + 1):
            grade = grades.get((stage, level))
            if grade is None:
                grade = grade_create(actor=None, school=school, stage=stage, level=level)
                result.grades += 1
            for number in range(1, CLASSES_PER_GRADE + 1):
                if (grade.pk, number) not in classes:
                    class_create(actor=None, grade=grade, number=number)
                    result.classes += 1


def _unit(key: str | None, regions: dict[str, Region], schools: dict[str, School]):
    if key is None:
        return None
    if "/" in key:
        code, stage, level, number = key.split("/")
        return SchoolClass.objects.select_related("school", "grade").get(
            school__school_code=code, grade__stage=stage, grade__level=int(level), number=int(number))
    return schools[key] if len(key) == 10 else regions[key]


def _home_region(unit) -> Region | None:
    if unit is None or isinstance(unit, Region):
        return unit
    school = unit if isinstance(unit, School) else unit.school
    return school.region


def _account(result: DemoResult, username, real_name, role, unit, password) -> None:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(actor=None, username=username, real_name=real_name, password=password,
                           home_region=_home_region(unit), must_change_password=False)
        result.users += 1
    kind = {Region: "region", School: "school", SchoolClass: "school_class"}.get(type(unit))
    if not RoleGrant.objects.filter(user=user, role=role, **({kind: unit} if kind else {})).exists():
        role_grant(actor=None, user=user, role=role, unit=unit)
        result.grants += 1
    if role == Role.HEAD_TEACHER and unit.head_teacher_id is None:
        class_update(actor=None, school_class=unit, head_teacher=user)
    unit_name = "—" if unit is None else (f"{unit.school.name} {unit.name}" if kind == "school_class" else unit.name)
    result.logins.append(DemoLogin(username, Role(role).label, unit_name))


def _registrar_agreements(usernames: list[str]) -> int:
    """Sign this school year's registrar agreement (学籍管理员责任书) for every demo registrar whose
    school grant is held inactive for want of one, through the agreements services: the school's
    demo approver issues and signs, then the registrar signs, which activates the grant.
    Returns the number of agreements signed."""
    signed = 0
    grants = RoleGrant.objects.filter(user__username__in=usernames, role=Role.REGISTRAR, school__isnull=False,
                                      is_active=False).select_related("user", "school")
    for grant in grants:
        head = RoleGrant.objects.filter(user__username__in=usernames, role=Role.APPROVER, school=grant.school,
                                        is_active=True).select_related("user").first()
        if head is None:
            continue
        agreement = (Agreement.objects.filter(kind=AgreementKind.REGISTRAR, issuer_school=grant.school,
                                              party_user=grant.user)
                     .exclude(status=AgreementStatus.VOID).order_by("-school_year").first())
        if agreement is None or agreement.school_year != school_year_of(timezone.localdate()):
            agreement = registrar_agreement_issue(actor=head.user, grant=grant)
        for signer in (head.user, grant.user):
            if not agreement.signatures.filter(signer=signer).exists():
                agreement_sign(actor=signer, agreement=agreement, confirmed=True)
        signed += 1
    return signed


def _students(schools: list[School], school_year: int) -> int:
    """Fill every demo class that has no students yet; returns the number created."""
    rng = random.Random(SEED)
    allocator = IdNumberAllocator(Student.objects.exclude(id_number="").values_list("id_number", flat=True))
    filled = set(Student.objects.filter(school__in=schools).values_list("school_class_id", flat=True).distinct())
    counties = [s.region_id for s in schools if s.region.level == Region.Level.COUNTY]
    students = []
    classes = SchoolClass.objects.filter(school__in=schools).select_related("school__region", "grade")
    for school_class in classes.order_by("school__school_code", "grade__stage", "grade__level", "number"):
        if school_class.pk in filled:
            continue
        students += [_student(rng, allocator, school_class, counties, school_year) for _ in range(STUDENTS_PER_CLASS)]
    if students:
        bulk_create_with_history(students, Student, batch_size=500, default_user=None,
                                 default_change_reason=CHANGE_REASON)
    return len(students)


def _student(rng, allocator, school_class: SchoolClass, counties: list[str], school_year: int) -> Student:
    school, grade = school_class.school, school_class.grade
    grade_number = years_of_schooling(grade.stage, grade.level, school.junior_years or 3)
    person = synthetic_student(rng, allocator=allocator, home_county=school.region_id, other_counties=counties,
                               grade_number=grade_number, school_year=school_year)
    return Student(
        name=person.name, name_pinyin=person.name_pinyin, name_initials=person.name_initials,
        gender=person.gender, birth_date=person.birth_date, ethnicity=person.ethnicity,
        id_type="1", id_number=person.id_number, student_number="G" + person.id_number,
        number_kind=NumberKind.G, status=StudentStatus.ACTIVE, school=school, grade=grade,
        school_class=school_class, entry_month=f"{school_year - grade.level + 1}09",
        # bulk_create skips Student.save, which would copy these from the school.
        school_path=school.path, province_code=school.province_code,
    )

