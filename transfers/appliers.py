"""What the final approval of each kind of change does to the student record.

``apply_change(change, actor=...)`` runs inside the deciding service's transaction: it re-checks
the rules that may have changed since submission, writes the student(s) with history (the actor
and a reason naming the change) and appends one audit event. A record never has two schools and
never none: a transfer rewrites school, grade and class in one UPDATE (``Student.save`` keeps
``school_path`` in step).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.models import AuditEvent
from audits.services import audit_record
from students.models import Student, StudentStatus
from students.services import student_numbers_allocate
from xueji.bulk import RowsChanged, update_with_history
from xueji.history import save_with_history

from .corrections import describe, new_values
from .models import ChangeKind, StatusChange
from .rules import check_still_applicable


def apply_change(change: StatusChange, *, actor) -> None:
    """Apply the approved ``change`` to its student(s). Raises ValidationError when a rule no
    longer holds (the whole decision is then rolled back by the caller's transaction)."""
    check_still_applicable(change)
    summary = APPLIERS[change.kind](change, actor)
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=change.target_school or change.from_school,
                 target=change, message=f"{change.get_kind_display()}办结（编号 {change.pk}）：{summary}"[:500],
                 extra={"change": change.pk, "kind": change.kind})


def _reason(change: StatusChange, text: str) -> str:
    return f"{change.get_kind_display()}（业务编号 {change.pk}）：{text}"


def _save(change: StatusChange, actor, text: str, fields: list[str]) -> str:
    try:
        with transaction.atomic():
            save_with_history(change.student, actor=actor, reason=_reason(change, text), update_fields=fields)
    except IntegrityError as exc:
        raise ValidationError(f"{change.student.name}的学籍无法更新：与其他在籍学籍冲突（一人一籍）") from exc
    return text


def _transfer(change: StatusChange, actor) -> str:
    student = change.student
    text = f"由{student.school}{student.grade}转入{change.target_school}{change.target_class}"
    student.school, student.grade, student.school_class = change.target_school, change.target_grade, change.target_class
    student.enrolled_on = timezone.localdate()
    return _save(change, actor, text, ["school", "grade", "school_class", "enrolled_on"])


def _status(new_status: str):
    def apply(change: StatusChange, actor) -> str:
        student = change.student
        student.status = new_status
        text = f"学籍状态改为{StudentStatus(new_status).label}"
        if change.kind == ChangeKind.SUSPENSION:
            text += f"（{change.start_date:%Y-%m-%d}至{change.end_date:%Y-%m-%d}）"
        return _save(change, actor, text, ["status"])

    return apply


def _resumption(change: StatusChange, actor) -> str:
    student = change.student
    period = change.payload.get("suspension") or {}
    text = (f"复学，编入{change.target_class}；休学期间 {period.get('start', '?')} 至 {period.get('end', '?')}")
    student.status, student.grade, student.school_class = StudentStatus.ACTIVE, change.target_grade, change.target_class
    return _save(change, actor, text, ["status", "grade", "school_class"])


def _grade_move(change: StatusChange, actor) -> str:
    student = change.student
    text = f"由{student.grade}编入{change.target_grade}{change.target_class}"
    student.grade, student.school_class = change.target_grade, change.target_class
    return _save(change, actor, text, ["grade", "school_class"])


def _key_data(change: StatusChange, actor) -> str:
    # students.services owns key-data writes: it refreshes the pinyin, drops a G verification when
    # the ID number changes, and turns a clash with another live record into a field error.
    from students.services import student_key_data_apply

    text = describe(change.payload)
    student_key_data_apply(actor=actor, student=change.student, changes=new_values(change.payload),
                           reason=_reason(change, text))
    return text


def _registration(change: StatusChange, actor) -> str:
    """Make the batch's pending students active with their first numbers (L, or J without an ID).

    Set-based, for batches of 20,000 (an Excel import): the students are read with the few
    columns needed, numbered by ``student_numbers_allocate`` (its counters locked until the
    decision commits, so concurrent approvals never take the same number), then written with one
    history row each naming the approver and the change (``xueji.bulk.update_with_history``): a
    constant number of statements per 5,000 students on PostgreSQL. A student no longer pending,
    or a clash with a live record (一人一籍, student number), is a ValidationError and the whole
    decision rolls back."""
    students = list(change.students.select_related("school").order_by("pk")
                    .only("pk", "status", "id_type", "id_number", "birth_date", "student_number", "number_kind",
                          "school__region"))
    if any(s.status != StudentStatus.PENDING for s in students):
        raise ValidationError("注册批次中有学生的状态已变化，请退回后重新提交")
    student_numbers_allocate(students)
    for student in students:
        student.status = StudentStatus.ACTIVE
    try:
        update_with_history(Student, students, ["status", "student_number", "number_kind"], actor=actor,
                            reason=_reason(change, "注册通过，学籍生效"), where={"status": StudentStatus.PENDING})
    except RowsChanged as exc:
        raise ValidationError("注册批次中有学生的状态已变化，请退回后重新提交") from exc
    except IntegrityError as exc:
        raise ValidationError("注册批次中有学生与其他在籍学籍冲突（一人一籍或学籍号重复），"
                              "请退回后核对，或稍后重试") from exc
    return f"{len(students)}名新生注册生效"


APPLIERS = {
    ChangeKind.REGISTRATION: _registration,
    ChangeKind.TRANSFER: _transfer,
    ChangeKind.SUSPENSION: _status(StudentStatus.SUSPENDED),
    ChangeKind.RESUMPTION: _resumption,
    ChangeKind.WITHDRAWAL: _status(StudentStatus.WITHDRAWN),
    ChangeKind.DROPOUT: _status(StudentStatus.DROPPED_OUT),
    ChangeKind.DEATH: _status(StudentStatus.DECEASED),
    ChangeKind.RETENTION: _grade_move,
    ChangeKind.ACCELERATION: _grade_move,
    ChangeKind.KEY_DATA_CORRECTION: _key_data,
}
