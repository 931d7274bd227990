"""Writes on student records, family members, problem records and archives (DESIGN.md §4, §7).

Every function takes the acting user, checks the rule and the permission (xueji.access), saves
through xueji.history so history names the actor and the reason, and appends audit events for
access and decisions. ID numbers never go into audit messages, extras or exceptions' logs.

Who calls what:
* pages and the Excel import: ``student_create``, ``student_update``, ``student_delete_draft``
  after validating with ``students.forms.StudentEntry``;
* the registration and approval engine (transfers): ``registration_check`` before submitting,
  ``student_status_set`` to move records between statuses, ``student_number_assign`` when a
  registration is approved, ``student_key_data_apply`` when a key-data correction is approved;
* the nightly task: ``problem_scan``.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, IntegerField, Max, Q, Value
from django.db.models.functions import Cast, Mod, Substr
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import Region, School
from xueji.access import has_unit_perm, require_unit_perm
from xueji.bulk import bulk_insert_with_history
from xueji.history import delete_with_history, save_with_history

from .files import check_scan
from .models import (
    CURRENT_STATUSES,
    KEY_DATA_FIELDS,
    LIVE_STATUSES,
    ArchiveItem,
    ArchiveItemType,
    FamilyMember,
    NumberKind,
    ProblemMember,
    ProblemRecord,
    Student,
    StudentNumberSequence,
    StudentStatus,
)
from .pinyin import name_initials, name_pinyin
from .validators import make_j_number, make_l_number, region_code_known, validate_id_for_type

logger = logging.getLogger(__name__)

LIVE_CONSTRAINT = "student_one_live_record_per_id_number"
# django-simple-history keeps the reason in a 100-character column.
REASON_MAX = 100

# Fields a registrar sets through the form (everything but status, numbers, school and bookkeeping).
STUDENT_DATA_FIELDS = (
    "name", "former_name", "gender", "birth_date", "birthplace_code", "native_place_code", "ethnicity",
    "nationality", "id_type", "id_number", "id_valid_until", "hk_macau_taiwan_overseas", "health",
    "political_status", "blood_type", "specialty", "hukou_nature", "hukou_region_code", "auxiliary_number",
    "class_seat_number", "grade", "school_class", "entry_month", "entry_mode", "study_mode", "student_source",
    "enrolled_on", "current_address", "mailing_address", "home_address", "phone", "postal_code", "email",
    "homepage", "is_only_child", "had_preschool", "left_behind", "is_migrant_child", "is_orphan",
    "is_martyr_child", "needs_aid", "receives_subsidy", "government_funded_place", "disability_type",
    "inclusive_class", "school_distance_km", "commute_mode", "needs_school_bus",
)
FAMILY_DATA_FIELDS = ("name", "relation", "relation_note", "address", "hukou_region_code", "phone",
                      "is_guardian", "id_type", "id_number", "ethnicity", "work_unit", "job")
# On a registered record the grade changes only through retention/acceleration/promotion.
LOCKED_WHEN_REGISTERED = (*KEY_DATA_FIELDS, "grade")
EDITABLE_STATUSES = (StudentStatus.DRAFT, StudentStatus.ACTIVE, StudentStatus.SUSPENDED)
_STUDENT_FIELD_SET, _FAMILY_FIELD_SET = frozenset(STUDENT_DATA_FIELDS), frozenset(FAMILY_DATA_FIELDS)
# What ``students_insert`` writes: new drafts, or the pending records of a registration batch.
BULK_STATUSES = (StudentStatus.DRAFT, StudentStatus.PENDING)


# ---------------------------------------------------------------------------------------------
# Helpers


def _fill_pinyin(student: Student) -> None:
    student.name_pinyin = name_pinyin(student.name)[:200]
    student.name_initials = name_initials(student.name)[:50]


def _check_placement(student: Student) -> None:
    if student.grade_id and student.grade.school_id != student.school_id:
        raise ValidationError({"grade": "年级不属于该学校"})
    if student.school_class_id and student.school_class.grade_id != student.grade_id:
        raise ValidationError({"school_class": "班级不属于所选年级"})


def _live_holder(id_number: str, *, exclude_pk=None) -> Student | None:
    if not id_number:
        return None
    qs = Student.objects.filter(id_number=id_number, status__in=LIVE_STATUSES).select_related("school")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def transfer_start_url() -> str:
    """The page where a receiving school starts a transfer, or "" while transfers has none."""
    for name in ("transfers:transfer_new",):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _duplicate_message(holder: Student) -> str:
    return f"该身份证件号已在{holder.school.name}有在籍学籍，不能重复注册；如学生已转入本校，请发起转学"


def _save_live(student: Student, *, actor, reason: str, update_fields=None) -> None:
    """Save ``student``; a clash with the one-live-record index becomes a Chinese ValidationError."""
    try:
        with transaction.atomic():
            save_with_history(student, actor=actor, reason=reason[:REASON_MAX], update_fields=update_fields)
    except IntegrityError as exc:
        if LIVE_CONSTRAINT not in str(exc) and "students_student.id_number" not in str(exc):
            raise
        holder = _live_holder(student.id_number, exclude_pk=student.pk)
        school = holder.school.name if holder else "其他学校"
        raise ValidationError({"id_number": f"该身份证件号已在{school}有在籍学籍（一人一籍），"
                                            "不能重复注册；如学生已转入本校，请发起转学"},
                              code="duplicate_live") from exc


def _save_members(*, actor, student: Student, members: list[dict] | None, reason: str) -> None:
    if members is None:
        return
    existing = {m.order: m for m in student.family_members.all()}
    for order, data in enumerate(members, start=1):
        member = existing.get(order) or FamilyMember(student=student, order=order)
        changed = [f for f in FAMILY_DATA_FIELDS if f in data and getattr(member, f) != data[f]]
        for field in changed:
            setattr(member, field, data[field])
        if member.pk is None:
            save_with_history(member, actor=actor, reason=reason[:REASON_MAX])
        elif changed:
            save_with_history(member, actor=actor, reason=reason[:REASON_MAX], update_fields=changed)


# ---------------------------------------------------------------------------------------------
# Create, update, delete


@transaction.atomic
def student_create(*, actor, school: School, data: dict, members: list[dict],
                   reason: str = "新生录入") -> Student:
    """Create a draft record at ``school`` with its family members.

    ``data``: cleaned values keyed by ``STUDENT_DATA_FIELDS`` (as ``StudentEntry.cleaned()``
    gives them: ``grade``/``school_class`` are model instances, dates are ``date``);
    ``members``: two dicts keyed by ``FAMILY_DATA_FIELDS`` (成员1, 成员2). Name pinyin and
    initials are filled from students.pinyin. ``actor`` needs ``edit_students`` on ``school``.
    Returns the saved Student (status draft, no student number yet).
    Raises PermissionDenied, or ValidationError when grade/class are not of the school.
    """
    require_unit_perm(actor, "edit_students", school)
    student = Student(school=school, status=StudentStatus.DRAFT,
                      **{k: v for k, v in data.items() if k in STUDENT_DATA_FIELDS})
    if student.enrolled_on is None:
        student.enrolled_on = timezone.localdate()
    _check_placement(student)
    _fill_pinyin(student)
    save_with_history(student, actor=actor, reason=reason[:REASON_MAX])
    _save_members(actor=actor, student=student, members=members, reason=reason[:REASON_MAX])
    return student


def students_build(*, school: School, entries: list[tuple[dict, list[dict]]]) -> list[Student]:
    """Unsaved draft records of ``school`` for a bulk write (``students_insert``), as
    ``student_create`` would make them: ``entries`` are [(data, members)] with ``data`` keyed by
    ``STUDENT_DATA_FIELDS`` (cleaned form values). Pinyin filled, ``enrolled_on`` defaults to
    today. No query when grades and classes are given as loaded objects. Raises ValidationError
    when a grade or class is not of the school."""
    today = timezone.localdate()
    students = []
    for data, _members in entries:
        student = Student(school=school, status=StudentStatus.DRAFT, school_path=school.path,
                          province_code=school.province_code,
                          **{k: v for k, v in data.items() if k in _STUDENT_FIELD_SET})
        student.enrolled_on = student.enrolled_on or today
        _check_placement(student)
        _fill_pinyin(student)
        students.append(student)
    return students


@transaction.atomic
def students_insert(*, actor, students: list[Student], members: list[list[dict]], reason: str) -> None:
    """Write ``students`` (from ``students_build``, all of one school) with their family members
    (``members[i]``: the two dicts of ``students[i]``, keyed by ``FAMILY_DATA_FIELDS``), in bulk
    (``xueji.bulk.bulk_insert_with_history``: a handful of statements per 1,000 records), with one
    '+' history row each naming ``actor`` and ``reason``. Sets the students' pks.

    Status: drafts, or pending only when transfers.services.registration_submit_new writes a
    registration batch (it has run the registration rules first). ``actor`` needs
    ``edit_students`` on the school. Raises PermissionDenied; ValidationError, with nothing
    written, when the one-live-record index refuses a pending record (a live record took the
    number meanwhile).
    """
    if not students:
        return
    require_unit_perm(actor, "edit_students", students[0].school)
    if any(s.school_id != students[0].school_id or s.status not in BULK_STATUSES or s.pk for s in students):
        raise ValueError("students_insert takes new drafts (or pending records of a registration batch) of one school")
    reason = reason[:REASON_MAX]
    try:
        with transaction.atomic():
            bulk_insert_with_history(Student, students, actor=actor, reason=reason)
    except IntegrityError as exc:
        if LIVE_CONSTRAINT not in str(exc) and "students_student.id_number" not in str(exc):
            raise
        raise ValidationError("批次中有学生的身份证件号已有在籍学籍（一人一籍），请核对后再提交",
                              code="duplicate_live") from exc
    family = [FamilyMember(student=student, order=order, **{k: v for k, v in data.items() if k in _FAMILY_FIELD_SET})
              for student, pair in zip(students, members, strict=True) for order, data in enumerate(pair, start=1)]
    bulk_insert_with_history(FamilyMember, family, actor=actor, reason=reason)


@transaction.atomic
def student_update(*, actor, student: Student, data: dict, members: list[dict] | None = None,
                   reason: str = "") -> Student:
    """Change ``student`` with ``data`` (keys of ``STUDENT_DATA_FIELDS``) and ``members``.

    Drafts: any field; ``reason`` defaults to "修改草稿". Registered records (active, suspended):
    key data (name, gender, birth date, ID type and number, ethnicity) and the grade are refused
    — they change only through an approved key-data correction (DESIGN.md §4) or a status change —
    and ``reason`` is required (the change is audited in history with it). Pending records (under
    review) and records that left school cannot be edited. ``actor`` needs ``edit_students``.
    Returns the student. Raises PermissionDenied or ValidationError (field-keyed, Chinese).
    """
    require_unit_perm(actor, "edit_students", student)
    if student.status not in EDITABLE_STATUSES:
        raise ValidationError(f"{student.get_status_display()}状态的学籍不能修改")
    registered = student.is_registered
    if registered and not reason.strip():
        raise ValidationError({"reason": "修改已注册的学籍须填写修改原因"})
    changed = []
    for field, value in data.items():
        if field not in STUDENT_DATA_FIELDS:
            continue
        attname = Student._meta.get_field(field).attname
        current = getattr(student, attname)
        new = value.pk if hasattr(value, "pk") else value
        if current == new:
            continue
        if registered and field in LOCKED_WHEN_REGISTERED:
            label = Student._meta.get_field(field).verbose_name
            raise ValidationError({field: f"{label}是关键数据，已注册的学籍只能通过关键数据变更修改"})
        setattr(student, field, value)
        changed.append(field)
    _check_placement(student)
    reason = reason.strip() or "修改草稿"
    if changed:
        if "name" in changed:
            _fill_pinyin(student)
            changed += ["name_pinyin", "name_initials"]
        _save_live(student, actor=actor, reason=reason, update_fields=changed + ["updated_at"])
    _save_members(actor=actor, student=student, members=members, reason=reason)
    return student


@transaction.atomic
def student_delete_draft(*, actor, student: Student, reason: str = "删除草稿") -> None:
    """Delete a draft record and its family members, leaving '-' history rows naming ``actor``.

    Only drafts: a registered record leaves through a status change or a problem-record deletion.
    ``actor`` needs ``edit_students``. Raises PermissionDenied or ValidationError.
    """
    require_unit_perm(actor, "edit_students", student)
    if student.status != StudentStatus.DRAFT:
        raise ValidationError("只能删除草稿；已注册的学籍须通过学籍异动或问题学籍处理注销")
    for member in student.family_members.all():
        delete_with_history(member, actor=actor, reason=reason[:REASON_MAX])
    for item in student.archive_items.all():
        delete_with_history(item, actor=actor, reason=reason[:REASON_MAX])
    delete_with_history(student, actor=actor, reason=reason[:REASON_MAX])


# ---------------------------------------------------------------------------------------------
# Registration support (called by the transfers approval engine and the import)


@dataclass(frozen=True)
class RegistrationError:
    """One reason a student cannot be submitted for registration.

    ``student``: the Student concerned; ``field``: the form field ("id_number") or "" for the
    record as a whole; ``message``: Chinese, naming at most the school that holds the number;
    ``transfer_url``: where to start a transfer instead ("" when not applicable or not built yet).
    """

    student: Student
    field: str
    message: str
    transfer_url: str = ""

    def __str__(self):
        return f"{self.student.name}：{self.message}"


def registration_check(students) -> list[RegistrationError]:
    """Check that ``students`` (an iterable of saved or unsaved Students) may be submitted.

    Refuses: a record that is not a draft; an ID number already held by a live record anywhere in
    the country (一人一籍; the message names that school only and offers a transfer instead);
    the same ID number twice in the batch. Returns the list of errors (empty when all may go);
    raises nothing. Two queries whatever the batch size. Callers: transfers' registration_submit,
    the Excel import (before writing), this app's pages. The database constraint stays the final
    guard against races (see ``student_status_set``).
    """
    students = list(students)
    errors: list[RegistrationError] = []
    seen: dict[str, Student] = {}
    numbers = {s.id_number for s in students if s.id_number}
    own_pks = [s.pk for s in students if s.pk]
    holders = {}
    if numbers:
        qs = (Student.objects.filter(id_number__in=numbers, status__in=LIVE_STATUSES)
              .exclude(pk__in=own_pks).select_related("school").only("id_number", "school__name"))
        holders = {h.id_number: h for h in qs}
    url = transfer_start_url() if holders else ""
    for student in students:
        if student.pk and student.status != StudentStatus.DRAFT:
            errors.append(RegistrationError(student, "", "只有草稿可以提交注册"))
        if not student.id_number:
            continue
        if student.id_number in seen:
            errors.append(RegistrationError(student, "id_number",
                                            f"与本批次中的{seen[student.id_number].name}身份证件号相同"))
            continue
        seen[student.id_number] = student
        holder = holders.get(student.id_number)
        if holder is not None:
            errors.append(RegistrationError(student, "id_number", _duplicate_message(holder), url))
    return errors


def _may_change_status(actor, student: Student) -> bool:
    return has_unit_perm(actor, "edit_students", student) or has_unit_perm(actor, "approve_changes", student)


@transaction.atomic
def student_status_set(*, actor, student: Student, status: str, reason: str) -> Student:
    """Move ``student`` to ``status`` (a StudentStatus) — the one write of record status.

    For the approval engine (registration submit → pending, approve → active, reject → draft,
    suspension, deregistration …) and for problem-record deletions. ``actor`` needs
    ``edit_students`` or ``approve_changes`` on the student (None only for system jobs).
    The one-live-record index is the final guard: when another record took the same ID number at
    the same moment, raises ValidationError({"id_number": "…已在<学校>有在籍学籍…"}) and nothing is
    saved. Returns the student.
    """
    if actor is not None and not _may_change_status(actor, student):
        raise PermissionDenied("您没有执行此操作的权限")
    if status not in StudentStatus.values:
        raise ValidationError("未知的学籍状态")
    if student.status == status:
        return student
    student.status = status
    _save_live(student, actor=actor, reason=reason, update_fields=["status", "updated_at"])
    return student


# Distinct number prefixes per statement of the allocator (SQLite takes at most 32,766 parameters).
NUMBER_CHUNK = 900


def _prefix_after(prefix: str) -> str:
    """The smallest prefix above every number starting with ``prefix`` (kind + 14 digits): the
    digits plus one, so that the range holds in any collation (no punctuation involved)."""
    return prefix[0] + f"{int(prefix[1:]) + 1:014d}"


def _highest_sequences_used(prefixes: list[str]) -> dict[str, int]:
    """The highest 3-digit sequence found under each of ``prefixes`` in the students' current
    numbers and in their history rows (a number given out before the counters existed, or since
    replaced by a G number). Two indexed range queries per ``NUMBER_CHUNK`` prefixes."""
    highest: dict[str, int] = {}
    for start in range(0, len(prefixes), NUMBER_CHUNK):
        ranges = Q()
        for prefix in prefixes[start:start + NUMBER_CHUNK]:
            ranges |= Q(student_number__gte=prefix, student_number__lt=_prefix_after(prefix))
        for manager in (Student.objects, Student.history):
            rows = (manager.filter(ranges).annotate(prefix=Substr("student_number", 1, 15)).order_by()
                    .values("prefix").annotate(top=Max(Substr("student_number", 16, 3))).values_list("prefix", "top"))
            for prefix, top in rows:
                if top and top.isdigit():
                    highest[prefix] = max(highest.get(prefix, -1), int(top))
    return highest


@transaction.atomic
def _sequences_take(counts: dict[str, int]) -> dict[str, int]:
    """Reserve ``counts[prefix]`` consecutive sequences under each prefix; return the first of each.

    Counters missing so far are created first (``INSERT … ON CONFLICT DO NOTHING``, in prefix
    order, starting after the highest sequence ever used), then all counters are locked in prefix
    order (``SELECT … FOR UPDATE``; a concurrent allocator of the same prefix waits for this
    transaction and then reads its result; one order for everybody, so no deadlock) and moved on.
    Raises ValidationError, leaving the counters as they were, when a prefix has too few left.
    """
    prefixes = sorted(counts)
    chunks = [prefixes[i:i + NUMBER_CHUNK] for i in range(0, len(prefixes), NUMBER_CHUNK)]
    existing = set()
    for chunk in chunks:
        existing.update(StudentNumberSequence.objects.filter(prefix__in=chunk).values_list("prefix", flat=True))
    missing = [p for p in prefixes if p not in existing]
    if missing:
        highest = _highest_sequences_used(missing)
        StudentNumberSequence.objects.bulk_create(
            [StudentNumberSequence(prefix=p, last=highest.get(p, -1)) for p in missing],
            ignore_conflicts=True, batch_size=NUMBER_CHUNK)
    last: dict[str, int] = {}
    for chunk in chunks:
        last.update(StudentNumberSequence.objects.select_for_update().filter(prefix__in=chunk).order_by("prefix")
                    .values_list("prefix", "last"))
    full = [p for p in prefixes if last[p] + counts[p] > 999]
    if full:
        prefix = full[0]
        raise ValidationError(f"{prefix[1:7]}地区{prefix[7:11]}年{prefix[11:13]}月{prefix[13:15]}日出生的"
                              f"{prefix[0]}学籍号已用完（每天1000个），请联系上级主管部门")
    _sequences_write({p: last[p] + counts[p] for p in prefixes})
    return {p: last[p] + 1 for p in prefixes}


def _sequences_write(values: dict[str, int]) -> None:
    """Set the counters' ``last`` values (rows locked by the caller): one statement on PostgreSQL,
    one prepared statement executed per row elsewhere (SQLite: in-process, microseconds each)."""
    table = connection.ops.quote_name(StudentNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"UPDATE {table} AS s SET last = v.last FROM unnest(%s::varchar[], %s::smallint[]) "
                           "AS v(prefix, last) WHERE s.prefix = v.prefix", [list(values), list(values.values())])
        else:
            cursor.executemany(f"UPDATE {table} SET last = %s WHERE prefix = %s",
                               [(last, prefix) for prefix, last in values.items()])


def student_numbers_allocate(students) -> None:
    """Set a first national number on each of ``students`` that has none (in memory; the caller
    saves them, normally in the same transaction).

    A student with a usable ID (type 1 with a number) gets an L (temporary) number, one without a
    J number; both are the kind letter + the 6-digit area code of the school's region + the birth
    date YYYYMMDD + a 3-digit sequence + the ISO 7064 MOD 11-2 check digit (19 characters;
    students.validators ``make_l_number`` / ``make_j_number``, DESIGN.md §4). Each prefix (kind,
    area, birth date) has a counter (``StudentNumberSequence``) that only grows: a number is given
    out once and never again, not even after its holder was verified (L→G) or left school. A
    prefix seen for the first time starts after the highest sequence ever used under it (current
    numbers and history rows). Within a batch the students of one prefix get consecutive
    sequences in the order given.

    Race-free: the counters stay locked until the caller's transaction ends, so two approvals at
    the same moment wait for each other instead of taking the same number. Queries: about six per
    900 distinct prefixes (savepoint, counters, highest used in students and history, insert,
    lock, update), whatever the number of students. Raises ValidationError when a prefix's 1,000
    sequences are used up (nothing is then taken or set).
    """
    wanting = [s for s in students if not s.student_number]
    if not wanting:
        return
    keys = []
    for student in wanting:
        kind = NumberKind.L if student.id_type == "1" and student.id_number else NumberKind.J
        keys.append((kind, student.school.region_id, f"{kind}{student.school.region_id}{student.birth_date:%Y%m%d}"))
    counts: dict[str, int] = {}
    for _, _, prefix in keys:
        counts[prefix] = counts.get(prefix, 0) + 1
    following = _sequences_take(counts)
    for student, (kind, area, prefix) in zip(wanting, keys, strict=True):
        maker = make_l_number if kind == NumberKind.L else make_j_number
        student.student_number = maker(area_code=area, birth_date=student.birth_date, sequence=following[prefix])
        student.number_kind = kind
        following[prefix] += 1


@transaction.atomic
def student_number_assign(*, actor, student: Student, reason: str = "注册通过，赋予学籍号") -> Student:
    """Give ``student`` its first national number when registration is approved.

    A student with a usable ID (type 1 with a number) gets an L (temporary) number until the number
    is verified (``student_verify`` then assigns G); a student without one gets a J number. Both are
    area code of the school's region + birth date + a free 3-digit sequence + check digit
    (students.validators). A record that already has a number keeps it (numbers never change
    silently). ``actor`` needs ``edit_students`` or ``approve_changes``. Returns the student.
    """
    if actor is not None and not _may_change_status(actor, student):
        raise PermissionDenied("您没有执行此操作的权限")
    if student.student_number:
        return student
    student_numbers_allocate([student])
    save_with_history(student, actor=actor, reason=reason[:REASON_MAX], update_fields=["student_number", "number_kind",
                                                                          "updated_at"])
    return student


@transaction.atomic
def student_verify(*, actor, student: Student, ip_address: str | None = None) -> Student:
    """Mark ``student``'s ID number as verified and assign its G number ("G" + ID number).
    ``ip_address``: the client's, for the audit event.

    Only registered (active or suspended) records with a resident ID card number (type 1). The
    previous L or J number stays in history (the history row of this save holds the old value and
    the reason names the conversion). ``actor`` needs ``edit_students``. Raises PermissionDenied or
    ValidationError (not registered, no usable ID, already verified).
    """
    require_unit_perm(actor, "edit_students", student)
    if student.status not in (StudentStatus.ACTIVE, StudentStatus.SUSPENDED):
        raise ValidationError("只有在籍或休学的学籍可以核验")
    if student.id_type != "1" or not student.id_number:
        raise ValidationError("没有居民身份证号的学籍不能核验为G学籍号")
    validate_id_for_type("1", student.id_number, birth_date=student.birth_date, gender=student.gender)
    if student.number_kind == NumberKind.G:
        raise ValidationError("该学籍已核验")
    old_kind = student.number_kind or "无"
    student.student_number = f"G{student.id_number}"
    student.number_kind = NumberKind.G
    student.verified_at = timezone.now()
    save_with_history(student, actor=actor, reason=f"证件号核验通过，{old_kind}学籍号转为G学籍号",
                      update_fields=["student_number", "number_kind", "verified_at", "updated_at"])
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=student.school, target=student,
                 message=f"核验学籍，{old_kind}学籍号转为G学籍号", ip_address=ip_address)
    return student


@transaction.atomic
def student_key_data_apply(*, actor, student: Student, changes: dict, reason: str) -> Student:
    """Apply an approved key-data correction (关键数据变更) to ``student``.

    Called by the approval engine when the last step approves. ``changes``: validated values for
    any of ``KEY_DATA_FIELDS``; a changed ID number drops the G verification (the new number must
    be verified again). ``actor`` needs ``approve_changes`` (the deciding approver) or
    ``edit_students``. The one-live-record index applies (ValidationError on a clash).
    """
    if actor is not None and not _may_change_status(actor, student):
        raise PermissionDenied("您没有执行此操作的权限")
    changed = []
    for field, value in changes.items():
        if field not in KEY_DATA_FIELDS:
            raise ValidationError(f"{field} 不是关键数据")
        if getattr(student, field) != value:
            setattr(student, field, value)
            changed.append(field)
    if not changed:
        return student
    if "name" in changed:
        _fill_pinyin(student)
        changed += ["name_pinyin", "name_initials"]
    if ("id_number" in changed or "id_type" in changed) and student.number_kind == NumberKind.G:
        student.verified_at = None
        changed.append("verified_at")
    _save_live(student, actor=actor, reason=reason or "关键数据变更", update_fields=changed + ["updated_at"])
    return student


# ---------------------------------------------------------------------------------------------
# Access events


def id_number_reveal(*, actor, student: Student, member: FamilyMember | None = None,
                     ip_address: str | None = None) -> str:
    """Return the full ID number of ``student`` (or of its family ``member``) and log the reveal.

    ``actor`` needs ``reveal_id_number`` on the student. Appends an audit event of kind
    ``id_reveal`` (no number in it). Raises PermissionDenied.
    """
    require_unit_perm(actor, "reveal_id_number", student)
    whose = f"家庭成员{member.order}" if member is not None else "学生"
    audit_record(actor=actor, kind=AuditEvent.Kind.ID_REVEAL, unit=student.school, target=student,
                 message=f"查看{whose}完整证件号：{student.name}", ip_address=ip_address)
    return (member or student).id_number


def student_record_view(*, actor, student: Student, ip_address: str | None = None) -> None:
    """Log that ``actor`` opened ``student``'s full record card (audit kind ``record_view``).

    ``actor`` needs ``view_students`` on the student. Raises PermissionDenied.
    """
    require_unit_perm(actor, "view_students", student)
    audit_record(actor=actor, kind=AuditEvent.Kind.RECORD_VIEW, unit=student.school, target=student,
                 message=f"查看学籍卡：{student.name}", ip_address=ip_address)


# ---------------------------------------------------------------------------------------------
# Problem records (问题学籍)


def _digest(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _assignment(schools: list[School]) -> dict:
    """The unit that resolves a problem: the school, or the lowest bureau common to all schools
    (DESIGN.md §4). The schools are of one province (``problem_scan`` splits the others); raises
    ValueError when they share no region."""
    if len({s.pk for s in schools}) == 1:
        school = schools[0]
        return {"assigned_school": school, "assigned_region": None, "assigned_path": school.path,
                "province_code": school.province_code}
    paths = [s.region.path for s in schools]
    common = paths[0]
    for path in paths[1:]:
        while not path.startswith(common):
            common = common[:common.rstrip("/").rfind("/") + 1]
    codes = [c for c in common.split("/") if c]
    if not codes:
        raise ValueError("problem schools share no region (several provinces)")
    return {"assigned_school": None, "assigned_region": Region.objects.get(code=codes[-1]), "assigned_path": common,
            "province_code": codes[0][:2]}


def _open_or_update(kind: str, key: str, students: list[Student], now, *,
                    owners: list[Student] | None = None) -> tuple[ProblemRecord, bool]:
    """Open the problem ``kind``/``key`` with ``students`` as its members, or refresh the open one.
    The unit that resolves it is found from the schools of ``owners`` (default: all members)."""
    schools = [s.school for s in (owners or students)]
    problem = ProblemRecord.objects.filter(kind=kind, key=key, status=ProblemRecord.Status.OPEN).first()
    created = problem is None
    if created:
        # A problem resolved by evidence stays resolved while its members are the same.
        resolved = (ProblemRecord.objects.filter(kind=kind, key=key, resolution=ProblemRecord.Resolution.EVIDENCE)
                    .order_by("-resolved_at").first())
        if resolved and set(resolved.members.values_list("student_id", flat=True)) == {s.pk for s in students}:
            return resolved, False
        problem = ProblemRecord(kind=kind, key=key, **_assignment(schools))
        problem.last_seen_at = now
        save_with_history(problem, actor=None, reason="夜间核查发现问题学籍")
    else:
        problem.last_seen_at = now
        for field, value in _assignment(schools).items():
            setattr(problem, field, value)
        save_with_history(problem, actor=None, reason="夜间核查", update_fields=[
            "last_seen_at", "assigned_school", "assigned_region", "assigned_path", "province_code"])
    have = set(problem.members.values_list("student_id", flat=True))
    ProblemMember.objects.bulk_create([
        ProblemMember(problem=problem, student=s, school=s.school, school_path=s.school_path)
        for s in students if s.pk not in have])
    problem.members.exclude(student__in=students).delete()
    return problem, created


def _bad_id_candidates():
    """Resident-ID records whose number fails the layout, check digit, region, birth date or gender
    test, found in SQL (one scan; no Python loop over the table)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    current = Student.objects.filter(status__in=CURRENT_STATUSES, id_type="1").exclude(id_number="")
    bad_layout = current.exclude(id_number__regex=r"^[0-9]{17}[0-9X]$")
    well_formed = current.filter(id_number__regex=r"^[0-9]{17}[0-9X]$")
    total = sum((Cast(Substr("id_number", i + 1, 1), IntegerField()) * w for i, w in enumerate(weights)),
                Value(0))
    check = Substr(Value("10X98765432"), Mod(total, 11) + 1, 1)
    # Address codes are checked against the same GB/T 2260 list the validator uses (current and
    # historic), over the distinct prefixes only: a few thousand values, not one per student.
    prefixes = well_formed.annotate(area=Substr("id_number", 1, 6)).order_by().values_list("area", flat=True).distinct()
    unknown_areas = [p for p in prefixes if not region_code_known(p)]
    gender_digit = Cast(Substr("id_number", 17, 1), IntegerField())
    mismatched = (
        well_formed.annotate(expected=check, area=Substr("id_number", 1, 6), gender_odd=Mod(gender_digit, 2))
        .filter(Q(area__in=unknown_areas) | ~Q(expected=Substr("id_number", 18, 1))
                | Q(gender="1", gender_odd=0) | Q(gender="2", gender_odd=1))
    )
    # The embedded YYYYMMDD against the birth date field, compared per part so that the SQL works
    # on PostgreSQL and SQLite alike.
    birth_mismatch = (well_formed.annotate(y=Cast(Substr("id_number", 7, 4), IntegerField()),
                                           m=Cast(Substr("id_number", 11, 2), IntegerField()),
                                           d=Cast(Substr("id_number", 13, 2), IntegerField()))
                      .exclude(y=F("birth_date__year"), m=F("birth_date__month"), d=F("birth_date__day")))
    return (bad_layout.order_by().values_list("pk", flat=True)
            .union(mismatched.order_by().values_list("pk", flat=True),
                   birth_mismatch.order_by().values_list("pk", flat=True)))


@transaction.atomic
def problem_scan() -> dict[str, int]:
    """Scan every current record (drafts, pending, active, suspended) and open or update problem
    records; close open ones whose condition is gone (resolution "correction", by the system).

    A handful of SQL passes (two GROUP BYs, the distinct ID area prefixes, one UNION of annotated
    scans), then work proportional to the number of problems found, not to the number of students:
    * duplicate_with_id: an ID number on two or more current records;
    * duplicate_without_id: a record without an ID number sharing name, gender and birth date with
      another current record (DESIGN.md §4: suspected duplicate);
    * bad_id: a resident-ID number that fails its layout, check digit, region code, or disagrees
      with the gender or birth date fields.
    A duplicate within one province is one problem, resolved by the school or by the lowest bureau
    common to the schools (DESIGN.md §4). No bureau is common to two provinces, so a duplicate
    spanning provinces becomes one problem per province, each holding all the records (each side
    sees the whole case) and resolved by that province's school or lowest common bureau; each
    side deletes only its own records (``problem_resolve``).
    Each problem is written in its own savepoint: one that fails (logged without personal data)
    is counted and skipped, and its open record is left open, so no single group aborts the scan.
    Returns counts {"opened": n, "open": n, "closed": n, "failed": n}. Takes no arguments (no ID
    numbers in Celery messages); called by students.tasks.scan_problem_records.
    """
    now = timezone.now()
    current = Student.objects.filter(status__in=CURRENT_STATUSES)
    seen: set[int] = set()
    failed: set[tuple[str, str]] = set()
    opened = 0

    def record(kind, key, pks):
        nonlocal opened
        students = list(Student.objects.filter(pk__in=pks).select_related("school__region").order_by("pk"))
        if len(students) < (1 if kind == ProblemRecord.Kind.BAD_ID else 2):
            return
        provinces: dict[str, list[Student]] = {}
        for student in students:
            provinces.setdefault(student.province_code, []).append(student)
        parts = ([(key, students)] if len(provinces) == 1 else
                 [(f"{key}/{code}", own) for code, own in sorted(provinces.items())])
        for part_key, owners in parts:
            try:
                with transaction.atomic():
                    problem, created = _open_or_update(kind, part_key, students, now, owners=owners)
            except Exception as exc:  # noqa: BLE001 - one bad group must not abort the nightly scan
                # The exception's text may quote row values: only its type goes to the log.
                logger.error("problem_scan: %s problem %s not written (%s)", kind, part_key, type(exc).__name__)
                failed.add((kind, part_key))
                continue
            opened += created
            seen.add(problem.pk)

    dup_numbers = (current.exclude(id_number="").order_by().values("id_number").annotate(n=Count("id")).filter(n__gt=1)
                   .values_list("id_number", flat=True))
    for number in dup_numbers.iterator():
        pks = list(current.filter(id_number=number).values_list("pk", flat=True))
        record(ProblemRecord.Kind.DUPLICATE_WITH_ID, _digest("id", number), pks)

    groups = (current.order_by().values("name", "gender", "birth_date")
              .annotate(n=Count("id"), without=Count("id", filter=Q(id_number="")))
              .filter(n__gt=1, without__gt=0))
    for g in groups.iterator():
        pks = list(current.filter(name=g["name"], gender=g["gender"], birth_date=g["birth_date"])
                   .values_list("pk", flat=True))
        record(ProblemRecord.Kind.DUPLICATE_WITHOUT_ID,
               _digest("nameless", g["name"], g["gender"], g["birth_date"]), pks)

    bad = set(_bad_id_candidates())
    for pk in sorted(bad):
        record(ProblemRecord.Kind.BAD_ID, f"student:{pk}", [pk])

    stale = ProblemRecord.objects.filter(status=ProblemRecord.Status.OPEN).exclude(pk__in=seen)
    closed = 0
    for problem in stale:
        if (problem.kind, problem.key) in failed:
            continue  # not checked this time: it stays open
        problem.status = ProblemRecord.Status.RESOLVED
        problem.resolution = ProblemRecord.Resolution.CORRECTION
        problem.resolved_at = now
        problem.resolution_note = "夜间核查时问题已不存在（数据已更正）"
        save_with_history(problem, actor=None, reason="夜间核查自动关闭",
                          update_fields=["status", "resolution", "resolved_at", "resolution_note"])
        closed += 1
    return {"opened": opened, "open": len(seen), "closed": closed, "failed": len(failed)}


def _problem_persists(problem: ProblemRecord) -> bool:
    members = list(problem.students.filter(status__in=CURRENT_STATUSES))
    if problem.kind == ProblemRecord.Kind.BAD_ID:
        for s in members:
            try:
                validate_id_for_type(s.id_type, s.id_number, birth_date=s.birth_date, gender=s.gender)
            except ValidationError:
                return True
        return False
    if problem.kind == ProblemRecord.Kind.DUPLICATE_WITH_ID:
        numbers = [s.id_number for s in members if s.id_number]
        return len(numbers) != len(set(numbers))
    keys = [(s.name, s.gender, s.birth_date) for s in members]
    return len(keys) != len(set(keys)) and any(not s.id_number for s in members)


@transaction.atomic
def problem_resolve(*, actor, problem: ProblemRecord, resolution: str, note: str = "",
                    keep: Student | None = None, evidence=None) -> ProblemRecord:
    """Resolve an open problem record (DESIGN.md §4).

    ``resolution``: "evidence" (佐证: the records are right; ``note`` required, ``evidence`` an
    optional uploaded JPG/PNG/PDF ≤ 2 MB), "correction" (变更: the data have been corrected, by a
    draft edit or an approved key-data correction; refused while the problem still shows), or
    "deletion" (删除: ``keep`` is the member the attending school keeps; every other current
    member becomes status deleted; in a case spanning provinces only members inside the assigned
    unit, so keeping this side's record while another province's stays is refused). ``actor``
    needs ``edit_students`` on the assigned unit (the school, or the lowest common bureau for
    cross-school cases; for cross-province cases, that of its own province). Appends a decision
    audit event.
    Raises PermissionDenied or ValidationError.
    """
    require_unit_perm(actor, "edit_students", problem)
    if problem.status != ProblemRecord.Status.OPEN:
        raise ValidationError("该问题学籍已处理")
    note = (note or "").strip()
    if resolution == ProblemRecord.Resolution.EVIDENCE:
        if not note:
            raise ValidationError({"note": "以佐证方式处理须填写说明"})
        if evidence:
            check_scan(evidence)
            problem.evidence = evidence
    elif resolution == ProblemRecord.Resolution.CORRECTION:
        if _problem_persists(problem):
            raise ValidationError("问题仍然存在：请先更正数据（草稿可直接修改，已注册学籍须通过关键数据变更）")
    elif resolution == ProblemRecord.Resolution.DELETION:
        # Locked: the two provinces of one case may resolve at the same time, each keeping the
        # other's record; the second must see what the first deleted.
        members = list(problem.students.select_for_update().order_by("pk"))
        kept = next((m for m in members if keep is not None and m.pk == keep.pk), None)
        if kept is None:
            raise ValidationError({"keep": "请选择保留的学籍（学生实际就读学校的学籍）"})
        if kept.status not in CURRENT_STATUSES:
            raise ValidationError({"keep": f"该学籍已{kept.get_status_display()}，不能保留：请保留学生现有的学籍"})
        others = [m for m in members if m.pk != kept.pk and m.status in CURRENT_STATUSES]
        # A case spanning provinces has one problem per province: each side deletes its own records.
        if any(not m.school_path.startswith(problem.assigned_path) for m in others):
            raise ValidationError({"keep": "其他省份的重复学籍由其所在地处理：保留本省学籍时请以佐证方式说明，"
                                           "学生在其他省份就读时请保留该省的学籍（删除本省的重复学籍）"})
        # A registered record ends only through its own business (transfer, withdrawal ...): keeping
        # a draft in its place would move the child without a transfer.
        if kept.status == StudentStatus.DRAFT and any(m.status in LIVE_STATUSES for m in others):
            raise ValidationError({"keep": "不能为保留草稿而删除已注册的学籍：学生已到本校就读时请办理转学，"
                                           "否则请保留已注册的学籍（删除草稿）"})
        for other in others:
            if other.status == StudentStatus.DRAFT:
                student_delete_draft(actor=actor, student=other, reason=f"问题学籍#{problem.pk}：删除重复草稿")
            else:
                student_status_set(actor=actor, student=other, status=StudentStatus.DELETED,
                                   reason=f"问题学籍#{problem.pk}：删除重复学籍")
    else:
        raise ValidationError({"resolution": "请选择处理方式"})
    problem.status = ProblemRecord.Status.RESOLVED
    problem.resolution = resolution
    problem.resolved_at = timezone.now()
    problem.resolved_by = actor
    problem.resolution_note = note
    save_with_history(problem, actor=actor, reason=f"处理问题学籍：{problem.get_resolution_display()}")
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=problem.assigned_unit, target=problem,
                 message=f"处理问题学籍#{problem.pk}（{problem.get_kind_display()}）：{problem.get_resolution_display()}")
    return problem


# ---------------------------------------------------------------------------------------------
# Archive (学籍档案)


def archive_due_date(student: Student) -> date | None:
    """The date the archive must be complete: one month after ``enrolled_on`` (DESIGN.md §6)."""
    start = student.enrolled_on
    if start is None:
        return None
    return add_months(start, 1)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day (1/31 + 1 = 2/28)."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def archive_item_types_for(province_code: str):
    """Active checklist lines for a province: the national defaults plus the province's own."""
    return ArchiveItemType.objects.filter(Q(province_code="") | Q(province_code=province_code), is_active=True)


@transaction.atomic
def archive_item_update(*, actor, student: Student, item_type: ArchiveItemType, present: bool,
                        paper_location: str = "", note: str = "", scan=None, remove_scan: bool = False
                        ) -> ArchiveItem:
    """Record what the archive holds for one checklist line of ``student``.

    ``scan``: an optional uploaded JPG/PNG/PDF ≤ 2 MB (checked by content), stored under
    PRIVATE_MEDIA_ROOT; ``remove_scan`` drops the stored one. ``actor`` needs ``edit_students``.
    Returns the ArchiveItem. Raises PermissionDenied or ValidationError.
    """
    require_unit_perm(actor, "edit_students", student)
    if item_type.province_code not in ("", student.province_code) or not item_type.is_active:
        raise ValidationError({"item_type": "该材料类型不适用于本省"})
    item = ArchiveItem.objects.filter(student=student, item_type=item_type).first() or ArchiveItem(
        student=student, item_type=item_type)
    item.present = bool(present)
    item.paper_location = paper_location.strip()
    item.note = note.strip()
    if scan:
        _, extension = check_scan(scan)
        scan.name = f"{item_type.code}{extension}"
        item.scan = scan
        item.present = True
    elif remove_scan and item.scan:
        item.scan.delete(save=False)
        item.scan = ""
    save_with_history(item, actor=actor, reason=f"学籍档案：{item_type.name}")
    return item


def archive_scan_open(*, actor, item: ArchiveItem, ip_address: str | None = None):
    """Open ``item``'s scan for reading on behalf of ``actor`` and log the access (record_view).

    ``actor`` needs ``view_students`` on the student. Returns a binary file object. Raises
    PermissionDenied, or ValidationError when the item has no scan.
    """
    require_unit_perm(actor, "view_students", item.student)
    if not item.scan:
        raise ValidationError("没有扫描件")
    audit_record(actor=actor, kind=AuditEvent.Kind.RECORD_VIEW, unit=item.student.school, target=item.student,
                 message=f"查看学籍档案扫描件：{item.item_type.name}", ip_address=ip_address)
    return item.scan.open("rb")
