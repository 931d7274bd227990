"""Building student records for tests, through the services (STYLE.md §10)."""

from datetime import date
from itertools import count

from stdnum.iso7064 import mod_11_2

from students import services
from students.models import StudentStatus

_sequence = count(101)


def id_number(*, area: str = "340102", birth: date = date(2018, 3, 5), gender: str = "1",
              seq: int | None = None) -> str:
    """A valid resident ID number (GB 11643) for ``area``, ``birth`` and ``gender`` ("1"/"2")."""
    n = next(_sequence) if seq is None else seq
    n = n * 2 + (1 if gender == "1" else 0)  # 17th digit odd for men, even for women
    body = f"{area}{birth:%Y%m%d}{n % 1000:03d}"
    return body + mod_11_2.calc_check_digit(body)


def student_data(school, *, name="张小明", gender="1", birth=date(2018, 3, 5), number=None, **extra) -> dict:
    """Cleaned student fields for ``services.student_create`` (first grade, first class)."""
    school_class = school.classes.order_by("grade__level", "number").first()
    data = {"name": name, "gender": gender, "birth_date": birth, "id_type": "1",
            "id_number": id_number(birth=birth, gender=gender) if number is None else number,
            "ethnicity": "01", "nationality": "CHN", "grade": school_class.grade, "school_class": school_class,
            "entry_month": "202409"}
    data.update(extra)
    return data


def members_data(*, guardian_id: str = "") -> list[dict]:
    return [
        {"name": "张大山", "relation": "51", "phone": "13800000001", "is_guardian": True, "id_type": "1",
         "id_number": guardian_id or id_number(birth=date(1985, 6, 1))},
        {"name": "李小红", "relation": "52", "phone": "13800000002", "is_guardian": True},
    ]


def make_student(actor, school, *, status: str = StudentStatus.DRAFT, approver=None, **kwargs):
    """A student created by ``actor`` at ``school``, moved to ``status`` by ``approver`` (or actor)."""
    student = services.student_create(actor=actor, school=school, data=student_data(school, **kwargs),
                                      members=members_data())
    if status != StudentStatus.DRAFT:
        services.student_status_set(actor=approver or actor, student=student, status=status, reason="测试：注册通过")
    return student
