"""Building school-year test data through the services (STYLE.md §10)."""

from datetime import date
from itertools import count

from accounts.models import Role
from accounts.services import role_grant, user_create
from students import services as student_services
from students.models import StudentStatus
from tests.cast import PASSWORD
from tests.students.helpers import id_number, members_data

_names = count(1)
STAGE_AGE = {"primary": 6, "junior": 12, "senior": 15}


def person(username: str, role: str, unit):
    """A user holding ``role`` on ``unit`` (created by the bootstrap, as in tests/cast.py)."""
    home = getattr(unit, "region", None) or getattr(getattr(unit, "school", None), "region", None) or unit
    user = user_create(actor=None, username=username, real_name=username, password=PASSWORD, home_region=home,
                       must_change_password=False)
    role_grant(actor=None, user=user, role=role, unit=unit)
    return user


def senior_staff(cast):
    """A registrar and an approver of the cast's senior high school (its authority: 合肥市)."""
    return (person("senior_registrar", Role.REGISTRAR, cast.senior_school),
            person("senior_approver", Role.APPROVER, cast.senior_school))


def pupil(registrar, school, *, level: int, stage: str | None = None, class_number: int = 1,
          status: str = StudentStatus.ACTIVE, name: str | None = None, **extra):
    """A student at ``school`` in grade ``level`` (first stage unless ``stage``), class
    ``class_number``, created by ``registrar`` and moved to ``status`` through the services."""
    stage = stage or school.stages()[0]
    grade = school.grades.get(stage=stage, level=level)
    school_class = grade.classes.get(number=class_number) if class_number else None
    birth = date(2026 - STAGE_AGE[stage] - level, 3, 1)
    n = next(_names)
    data = {"name": name or f"学生{chr(0x4e00 + n)}{chr(0x4e00 + n * 7 % 500)}", "gender": "1" if n % 2 else "2",
            "birth_date": birth, "id_type": "1", "ethnicity": "01", "nationality": "CHN", "grade": grade,
            "school_class": school_class, "entry_month": f"{2026 - level}09"}
    data["id_number"] = id_number(birth=birth, gender=data["gender"])
    data.update(extra)
    student = student_services.student_create(actor=registrar, school=school, data=data, members=members_data())
    if status != StudentStatus.DRAFT:
        student_services.student_status_set(actor=registrar, student=student, status=status, reason="测试：注册通过")
    return student


def queued_run(cast, school_year: int):
    """A promotion run of 安徽省 into ``school_year``, started through the service on August 10 and
    left queued (its Celery task is not run): tests then promote chosen schools themselves."""
    from django.db import transaction

    from schoolyear.services import promotion_start

    with transaction.atomic():
        # The task is queued on commit of the outermost transaction: inside a test's transaction
        # it never runs unless the test captures and executes it.
        return promotion_start(actor=cast.province_approver, province=cast.regions["340000"],
                               today=date(school_year, 8, 10))
