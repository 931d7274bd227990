"""Writes on the organisation tree: schools, grades, classes. Each takes the acting user."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audits.models import AuditEvent
from audits.services import audit_record
from xueji.access import require_unit_perm
from xueji.history import save_with_history

from .models import Grade, Region, School, SchoolClass

GRADE_NAMES = {
    "primary": ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"],
    "junior": ["初一", "初二", "初三", "初四"],
    "senior": ["高一", "高二", "高三"],
}


def region_path(region: Region) -> str:
    """The materialised path of ``region``: its parent's path plus its own code and "/"."""
    return (region.parent.path if region.parent_id else "") + region.code + "/"


SCHOOL_FIELDS = ("school_code", "name", "stage", "primary_years", "junior_years", "senior_years",
                 "ownership", "region", "authority", "is_active")


def _check_school(school: School) -> None:
    if not school.authority.path or not school.region.path.startswith(school.authority.path):
        raise ValidationError({"authority": "学籍主管部门必须是学校所在地或其上级行政区划"})
    if not school.region.is_active:
        raise ValidationError({"region": "该行政区划已撤销，不能新设学校"})


@transaction.atomic
def school_create(*, actor, **fields) -> School:
    """Create a school from ``fields`` (names in ``SCHOOL_FIELDS``; region and authority are Regions).

    ``actor`` needs ``manage_units`` on the region (None only for seeding). Raises ValidationError
    for a duplicate school code or an authority that is not the region or one of its ancestors.
    """
    school = School(**{k: v for k, v in fields.items() if k in SCHOOL_FIELDS})
    if actor is not None:
        require_unit_perm(actor, "manage_units", school.region)
    _check_school(school)
    school.path = school.region.path + school.school_code + "/"
    school.province_code = school.region.code[:2]
    try:
        with transaction.atomic():
            save_with_history(school, actor=actor, reason="新设学校")
    except IntegrityError as exc:
        raise ValidationError({"school_code": "该学校标识码已存在"}) from exc
    audit_record(actor=actor, kind=AuditEvent.Kind.UNIT_CHANGE, unit=school, target=school,
                 message=f"新设学校 {school.name}")
    return school


@transaction.atomic
def school_update(*, actor, school: School, **fields) -> School:
    """Update ``school`` with ``fields``. The school code and region path stay consistent.

    Moving a school to another region rewrites its path; the students' denormalised paths follow
    (through their history-keeping save in students.services when that exists).
    Raises ValidationError as ``school_create``; PermissionDenied without ``manage_units``.
    """
    if actor is not None:
        require_unit_perm(actor, "manage_units", school)
    changed = []
    for key, value in fields.items():
        if key in SCHOOL_FIELDS and getattr(school, key) != value:
            setattr(school, key, value)
            changed.append(key if key not in ("region", "authority") else f"{key}_id")
    if not changed:
        return school
    if actor is not None and "region_id" in changed:
        require_unit_perm(actor, "manage_units", school.region)
    _check_school(school)
    school.path = school.region.path + school.school_code + "/"
    school.province_code = school.region.code[:2]
    try:
        with transaction.atomic():
            save_with_history(school, actor=actor, reason="修改学校信息",
                              update_fields=changed + ["path", "province_code"])
    except IntegrityError as exc:
        raise ValidationError({"school_code": "该学校标识码已存在"}) from exc
    audit_record(actor=actor, kind=AuditEvent.Kind.UNIT_CHANGE, unit=school, target=school,
                 message=f"修改学校 {school.name}：{', '.join(changed)}")
    return school


@transaction.atomic
def grade_create(*, actor, school: School, stage: str, level: int) -> Grade:
    """Create grade ``level`` of ``stage`` at ``school``, named by the national convention.

    Raises ValidationError when the school does not teach the stage, the level exceeds its 学制,
    or the grade exists already.
    """
    if actor is not None:
        require_unit_perm(actor, "manage_units", school)
    if stage not in school.stages():
        raise ValidationError({"stage": "该校不设此学段"})
    if not 1 <= level <= school.years_of(stage):
        raise ValidationError({"level": f"该校{dict(Grade.Stage.choices)[stage]}学制为{school.years_of(stage)}年"})
    grade = Grade(school=school, stage=stage, level=level, name=GRADE_NAMES[stage][level - 1])
    try:
        with transaction.atomic():
            save_with_history(grade, actor=actor, reason="新设年级")
    except IntegrityError as exc:
        raise ValidationError("该年级已存在") from exc
    return grade


@transaction.atomic
def class_create(*, actor, grade: Grade, number: int, name: str = "", head_teacher=None) -> SchoolClass:
    """Create class ``number`` in ``grade`` (name defaults to e.g. "一年级(1)班").

    Raises ValidationError when the number is taken in the grade.
    """
    if actor is not None:
        require_unit_perm(actor, "manage_units", grade.school)
    school_class = SchoolClass(school=grade.school, grade=grade, number=number,
                               name=name or f"{grade.name}({number})班", head_teacher=head_teacher)
    try:
        with transaction.atomic():
            save_with_history(school_class, actor=actor, reason="新设班级")
    except IntegrityError as exc:
        raise ValidationError({"number": "该年级已有此班号"}) from exc
    return school_class


@transaction.atomic
def class_update(*, actor, school_class: SchoolClass, name: str | None = None, head_teacher=...) -> SchoolClass:
    """Rename a class or change its head teacher (pass None to clear). Returns the class."""
    if actor is not None:
        require_unit_perm(actor, "manage_units", school_class.school)
    fields = []
    if name is not None and name != school_class.name:
        school_class.name = name
        fields.append("name")
    if head_teacher is not ... and head_teacher != school_class.head_teacher:
        school_class.head_teacher = head_teacher
        fields.append("head_teacher")
    if fields:
        save_with_history(school_class, actor=actor, reason="修改班级", update_fields=fields)
    return school_class


@transaction.atomic
def grades_create_all(*, actor, school: School) -> list[Grade]:
    """Create every missing grade of ``school``: each stage it teaches, levels 1..学制 (``years_of``).

    Existing grades are kept, so a second call creates nothing. Returns the grades created, in
    stage and level order. Raises PermissionDenied without ``manage_units`` on the school.
    """
    if actor is not None:
        require_unit_perm(actor, "manage_units", school)
    existing = set(school.grades.values_list("stage", "level"))
    return [
        grade_create(actor=actor, school=school, stage=stage, level=level)
        for stage in school.stages()
        for level in range(1, school.years_of(stage) + 1)
        if (stage, level) not in existing
    ]
