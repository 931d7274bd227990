"""Writes of class-roll verification (按月核对), follow-ups of absent children (随访) and the daily
roll call (issue 6 §2; DESIGN.md §1: the head teacher does roll call, the monthly check and the
follow-up of absent students).

Who: the head teacher of the class (``take_roll`` on the class) marks, adds and completes a roll
check and takes the daily roll call; follow-ups are kept by the head teacher or the school's
registrar (``edit_students`` on the school), who also resolves "present without record" cases
(registering the child or completing the transfer in is the registrar's work).

Roster: the class's active records (``status`` active). Suspended children are not expected in
class and are not on it.
"""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from schools.models import SchoolClass
from students.files import check_scan
from students.models import LIVE_STATUSES, Student, StudentStatus
from transfers.models import ChangeKind, ChangeStatus, StatusChange
from xueji.access import has_unit_perm, require_unit_perm
from xueji.history import delete_with_history, save_with_history
from xueji.workdays import is_working_day

from .models import (
    AbsenceFollowUp,
    AuditEvent,
    DailyAttendance,
    DailyRollCall,
    RollCheck,
    RollCheckEntry,
    UnrecordedChild,
)
from .services import audit_record

CONSECUTIVE_ABSENCES = 3  # school days absent without leave that open a follow-up (issue 6 §2)


def month_start(day: date) -> date:
    """The first day of ``day``'s month (the ``RollCheck.month`` value)."""
    return day.replace(day=1)


def roster(school_class: SchoolClass):
    """The class's active records (the children expected in class), by name."""
    return Student.objects.filter(school_class=school_class, status=StudentStatus.ACTIVE)


# ---------------------------------------------------------------------------------------------
# Monthly roll checks


@transaction.atomic
def roll_checks_open(*, month: date | None = None) -> int:
    """Open this month's roll check for every class with at least one active record that has none
    yet (run by Celery beat on the 1st). One query finds the classes; checks are inserted in bulk
    with their history rows. ``month``: any day of the month (default: today in Asia/Shanghai).
    Returns how many were opened; a second call the same month opens none.
    """
    month = month_start(month or timezone.localdate())
    has_pupils = Student.objects.filter(school_class=OuterRef("pk"), status=StudentStatus.ACTIVE)
    has_check = RollCheck.objects.filter(school_class=OuterRef("pk"), month=month)
    classes = (SchoolClass.objects.filter(Exists(has_pupils)).exclude(Exists(has_check))
               .values_list("pk", "school_id", "school__path", "school__province_code"))
    opened = 0
    batch: list[RollCheck] = []
    for class_id, school_id, path, province in classes.iterator(chunk_size=2000):
        batch.append(RollCheck(school_class_id=class_id, school_id=school_id, month=month, school_path=path,
                               province_code=province))
        if len(batch) == 2000:
            opened += _insert_checks(batch)
            batch = []
    return opened + _insert_checks(batch)


def _insert_checks(checks: list[RollCheck]) -> int:
    if checks:
        bulk_create_with_history(checks, RollCheck, batch_size=500, default_change_reason="每月生成班级核对")
    return len(checks)


def _require_roll(actor, roll_check: RollCheck) -> None:
    require_unit_perm(actor, "take_roll", roll_check.school_class)


def _require_open(roll_check: RollCheck) -> None:
    if roll_check.status != RollCheck.Status.OPEN:
        raise ValidationError("本月核对已完成，不能再修改")


@transaction.atomic
def roll_check_mark(*, actor, roll_check: RollCheck, student: Student, missing: bool) -> RollCheckEntry:
    """Mark a recorded child of the class missing (有籍无人) or present again.

    ``actor`` needs ``take_roll`` on the class; the check must be open and the child on the
    class's roster. Returns the entry. Raises PermissionDenied or ValidationError.
    """
    _require_roll(actor, roll_check)
    _require_open(roll_check)
    if student.school_class_id != roll_check.school_class_id or student.status != StudentStatus.ACTIVE:
        raise ValidationError("该学生不在本班花名册上")
    presence = RollCheckEntry.Presence.MISSING if missing else RollCheckEntry.Presence.PRESENT
    entry = RollCheckEntry.objects.filter(roll_check=roll_check, student=student).first()
    if entry is None:
        entry = RollCheckEntry(roll_check=roll_check, student=student, presence=presence, marked_by=actor)
        save_with_history(entry, actor=actor, reason="按月核对标记")
    elif entry.presence != presence:
        entry.presence, entry.marked_by = presence, actor
        save_with_history(entry, actor=actor, reason="按月核对标记", update_fields=["presence", "marked_by",
                                                                                 "marked_at"])
    return entry


@transaction.atomic
def unrecorded_add(*, actor, roll_check: RollCheck, name: str, gender: str, birth_date: date,
                   note: str = "") -> UnrecordedChild:
    """Record a child present in the class without a record here (有人无籍): name, gender ("1"/"2"),
    birth date, note. ``actor`` needs ``take_roll``; the check must be open. The case stays open
    until the registrar resolves it (``unrecorded_resolve``). Raises PermissionDenied or
    ValidationError (field-keyed)."""
    _require_roll(actor, roll_check)
    _require_open(roll_check)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写姓名"})
    if gender not in ("1", "2"):
        raise ValidationError({"gender": "请选择性别"})
    if birth_date is None or birth_date > timezone.localdate() or birth_date.year < 1990:
        raise ValidationError({"birth_date": "出生日期不正确"})
    case = UnrecordedChild(roll_check=roll_check, school_id=roll_check.school_id,
                           school_class_id=roll_check.school_class_id, name=name[:50], gender=gender,
                           birth_date=birth_date, note=(note or "").strip()[:200], created_by=actor,
                           school_path=roll_check.school_path)
    save_with_history(case, actor=actor, reason="按月核对：有人无籍")
    return case


@transaction.atomic
def unrecorded_resolve(*, actor, case: UnrecordedChild, status: str, student: Student | None = None,
                       note: str = "") -> UnrecordedChild:
    """Close a "present without record" case: ``status`` "registered" or "transferred_in" with the
    child's ``student`` record, now live at this school; or "left" (the child is gone) with a
    ``note``. ``actor`` needs ``edit_students`` on the school. Raises PermissionDenied or
    ValidationError."""
    require_unit_perm(actor, "edit_students", case.school)
    if case.status != UnrecordedChild.Status.OPEN:
        raise ValidationError("该情况已处理")
    note = (note or "").strip()
    if status in (UnrecordedChild.Status.REGISTERED, UnrecordedChild.Status.TRANSFERRED_IN):
        if student is None or student.school_id != case.school_id or student.status not in LIVE_STATUSES:
            raise ValidationError({"student": "请选择该生在本校的学籍（已注册或已转入）"})
    elif status == UnrecordedChild.Status.LEFT:
        if not note:
            raise ValidationError({"note": "请说明该生的去向"})
        student = None
    else:
        raise ValidationError({"status": "请选择处理结果"})
    case.status, case.student, case.resolved_by = status, student, actor
    case.resolved_at, case.resolution_note = timezone.now(), note[:200]
    save_with_history(case, actor=actor, reason=f"有人无籍：{case.get_status_display()}",
                      update_fields=["status", "student", "resolved_by", "resolved_at", "resolution_note"])
    return case


@transaction.atomic
def roll_check_complete(*, actor, roll_check: RollCheck) -> RollCheck:
    """Complete the check: every child on the roster not marked missing is confirmed present; the
    counts are kept on the check; each missing child gets an open follow-up (unless one is open
    already). ``actor`` needs ``take_roll``. Returns the check. Raises PermissionDenied or
    ValidationError (already completed)."""
    roll_check = RollCheck.objects.select_for_update(of=("self",)).select_related("school_class", "school").get(
        pk=roll_check.pk)
    _require_roll(actor, roll_check)
    _require_open(roll_check)
    on_roster = list(roster(roll_check.school_class).values_list("pk", flat=True))
    missing = set(roll_check.entries.filter(presence=RollCheckEntry.Presence.MISSING, student_id__in=on_roster)
                  .values_list("student_id", flat=True))
    roll_check.recorded_count, roll_check.missing_count = len(on_roster), len(missing)
    roll_check.present_count = len(on_roster) - len(missing)
    roll_check.unrecorded_count = roll_check.unrecorded.count()
    roll_check.status, roll_check.completed_at, roll_check.completed_by = (
        RollCheck.Status.COMPLETED, timezone.now(), actor)
    save_with_history(roll_check, actor=actor, reason="完成按月核对", update_fields=[
        "recorded_count", "missing_count", "present_count", "unrecorded_count", "status", "completed_at",
        "completed_by"])
    opened = _open_follow_ups(Student.objects.filter(pk__in=missing), actor=actor,
                              origin=AbsenceFollowUp.Origin.ROLL_CHECK, roll_check=roll_check)
    audit_record(actor=actor, kind=AuditEvent.Kind.OTHER, unit=roll_check.school_class, target=roll_check,
                 message=f"完成{roll_check}：在籍{roll_check.recorded_count}人，不在校{roll_check.missing_count}人，"
                         f"有人无籍{roll_check.unrecorded_count}人，新开随访{opened}件")
    return roll_check


# ---------------------------------------------------------------------------------------------
# Follow-ups


def _open_follow_ups(students, *, actor, origin: str, roll_check: RollCheck | None = None) -> int:
    """Open a follow-up for each of ``students`` (a queryset) without an open one. Returns how many."""
    open_one = AbsenceFollowUp.objects.filter(student=OuterRef("pk"), status=AbsenceFollowUp.Status.OPEN)
    todo = list(students.exclude(Exists(open_one)).select_related("school"))
    follow_ups = [AbsenceFollowUp(student=s, school_id=s.school_id, school_class_id=s.school_class_id, origin=origin,
                                  roll_check=roll_check, opened_by=actor, school_path=s.school_path) for s in todo]
    if follow_ups:
        bulk_create_with_history(follow_ups, AbsenceFollowUp, default_user=actor,
                                 default_change_reason=AbsenceFollowUp.Origin(origin).label)
    return len(follow_ups)


def may_follow_up(user, follow_up: AbsenceFollowUp) -> bool:
    """True for the head teacher of the child's class and the school's registrars."""
    if follow_up.school_class_id and has_unit_perm(user, "take_roll", follow_up.school_class):
        return True
    return has_unit_perm(user, "edit_students", follow_up.school)


def _require_follow_up(actor, follow_up: AbsenceFollowUp) -> None:
    if not may_follow_up(actor, follow_up):
        raise PermissionDenied("只有班主任或本校学籍管理员可以随访")
    if follow_up.status != AbsenceFollowUp.Status.OPEN:
        raise ValidationError("该随访已结案")


@transaction.atomic
def absence_follow_up_update(*, actor, follow_up: AbsenceFollowUp, contacts: str, reason: str, destination: str,
                             evidence=None) -> AbsenceFollowUp:
    """Record what the follow-up found: the contacts made, the reason, the destination (e.g. moved
    with the parents to another city) and optional evidence (an uploaded JPG/PNG/PDF ≤ 2 MB,
    checked by content, kept in private storage; replaces an earlier one). Raises
    PermissionDenied, or ValidationError (closed case, bad file)."""
    _require_follow_up(actor, follow_up)
    follow_up.contacts = (contacts or "").strip()[:4000]
    follow_up.reason = (reason or "").strip()[:200]
    follow_up.destination = (destination or "").strip()[:200]
    fields = ["contacts", "reason", "destination"]
    if evidence:
        try:
            content_type, extension = check_scan(evidence)
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from exc
        follow_up.evidence_name = (evidence.name or "file")[-200:]
        follow_up.evidence_type = content_type
        follow_up.evidence.save(f"followup{follow_up.pk}{extension}", evidence, save=False)
        fields += ["evidence", "evidence_name", "evidence_type"]
    save_with_history(follow_up, actor=actor, reason="随访记录", update_fields=fields)
    return follow_up


OUTCOME_CHANGE_KIND = {
    AbsenceFollowUp.Outcome.TRANSFER_STARTED: ChangeKind.TRANSFER,
    AbsenceFollowUp.Outcome.DROPOUT_REPORTED: ChangeKind.DROPOUT,
}


@transaction.atomic
def absence_follow_up_close(*, actor, follow_up: AbsenceFollowUp, outcome: str) -> AbsenceFollowUp:
    """Close the follow-up with its outcome. Needs the contacts and the reason recorded first.
    "transfer_started" needs a transfer of the child started since the follow-up opened (by the
    new school; the destination must be recorded), "dropout_reported" a dropout change; the change
    (open or approved) is linked. "returned": the child is back in class. Raises PermissionDenied
    or ValidationError with what is missing."""
    _require_follow_up(actor, follow_up)
    if outcome not in AbsenceFollowUp.Outcome.values:
        raise ValidationError({"outcome": "请选择随访结果"})
    if not follow_up.contacts or not follow_up.reason:
        raise ValidationError("请先记录联系情况和缺勤原因")
    change = None
    if outcome in OUTCOME_CHANGE_KIND:
        kind = OUTCOME_CHANGE_KIND[outcome]
        change = (StatusChange.objects.filter(student_id=follow_up.student_id, kind=kind,
                                              created_at__gte=follow_up.opened_at,
                                              status__in=[ChangeStatus.DRAFT, ChangeStatus.PENDING,
                                                          ChangeStatus.APPROVED])
                  .order_by("-created_at").first())
        if change is None:
            who = "转入学校尚未发起转学" if kind == ChangeKind.TRANSFER else "尚未填报辍学"
            raise ValidationError({"outcome": f"{who}，随访不能以“{AbsenceFollowUp.Outcome(outcome).label}”结案"})
        if outcome == AbsenceFollowUp.Outcome.TRANSFER_STARTED and not follow_up.destination:
            raise ValidationError({"destination": "请填写去向"})
    follow_up.outcome, follow_up.change = outcome, change
    follow_up.status, follow_up.closed_at, follow_up.closed_by = AbsenceFollowUp.Status.CLOSED, timezone.now(), actor
    save_with_history(follow_up, actor=actor, reason=f"随访结案：{follow_up.get_outcome_display()}",
                      update_fields=["outcome", "change", "status", "closed_at", "closed_by"])
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=follow_up.school, target=follow_up,
                 message=f"缺勤随访结案（{follow_up.student.name}）：{follow_up.get_outcome_display()}")
    return follow_up


def absence_follow_up_evidence_open(*, actor, follow_up: AbsenceFollowUp, ip_address: str | None = None):
    """Open the follow-up's evidence for ``actor`` (who reached it through the access layer) and log
    the access. Returns a binary file object. Raises ValidationError when there is none."""
    if not follow_up.evidence:
        raise ValidationError("没有佐证材料")
    audit_record(actor=actor, kind=AuditEvent.Kind.RECORD_VIEW, unit=follow_up.school, target=follow_up,
                 message=f"查看随访佐证材料（随访 #{follow_up.pk}）", ip_address=ip_address)
    return follow_up.evidence.open("rb")


# ---------------------------------------------------------------------------------------------
# Daily roll call


@transaction.atomic
def roll_call_take(*, actor, school_class: SchoolClass, day: date, absences: dict[int, str]) -> DailyRollCall:
    """Record (or correct) the roll call of ``school_class`` on the school day ``day``.

    ``absences``: {student pk: "leave" | "absent"} for children on the roster who were not present;
    everyone else on the roster was present. ``actor`` needs ``take_roll`` on the class; ``day``
    must be a working day (xueji.workdays) and not in the future. A child absent without leave on
    three consecutive school days gets a follow-up (unless one is open). Returns the roll call.
    Raises PermissionDenied or ValidationError.
    """
    require_unit_perm(actor, "take_roll", school_class)
    if day > timezone.localdate():
        raise ValidationError({"day": "不能为将来的日期点名"})
    if not is_working_day(day):
        raise ValidationError({"day": "该日不是上课日"})
    on_roster = set(roster(school_class).values_list("pk", flat=True))
    if set(absences) - on_roster:
        raise ValidationError("部分学生不在本班花名册上")
    if any(v not in (DailyAttendance.Status.LEAVE, DailyAttendance.Status.ABSENT) for v in absences.values()):
        raise ValidationError("出勤情况只能是请假或缺勤")
    call = DailyRollCall.objects.select_for_update().filter(school_class=school_class, date=day).first()
    if call is None:
        call = DailyRollCall(school_class=school_class, school_id=school_class.school_id, date=day, taken_by=actor,
                             school_path=school_class.school.path)
    _counts(call, len(on_roster), absences)
    call.taken_by = actor
    try:
        with transaction.atomic():
            save_with_history(call, actor=actor, reason="每日点名")
    except IntegrityError as exc:
        raise ValidationError("该班当天的点名刚被他人保存，请刷新后重试") from exc
    _write_attendance(call, absences, actor)
    absent = [pk for pk, status in absences.items() if status == DailyAttendance.Status.ABSENT]
    if absent:
        streaks = _consecutive_absentees(absent, day)
        if streaks:
            _open_follow_ups(Student.objects.filter(pk__in=streaks), actor=actor,
                             origin=AbsenceFollowUp.Origin.DAILY_ABSENCE)
    return call


def _counts(call: DailyRollCall, roster_size: int, absences: dict[int, str]) -> None:
    call.leave_count = sum(1 for v in absences.values() if v == DailyAttendance.Status.LEAVE)
    call.absent_count = sum(1 for v in absences.values() if v == DailyAttendance.Status.ABSENT)
    call.present_count = roster_size - call.leave_count - call.absent_count


def _write_attendance(call: DailyRollCall, absences: dict[int, str], actor) -> None:
    existing = {a.student_id: a for a in call.attendances.all()}
    new = [DailyAttendance(roll_call=call, student_id=pk, date=call.date, status=status)
           for pk, status in absences.items() if pk not in existing]
    changed = []
    for pk, row in existing.items():
        if pk not in absences:
            delete_with_history(row, actor=actor, reason="点名更正：出勤")
        elif row.status != absences[pk]:
            row.status = absences[pk]
            changed.append(row)
    if new:
        bulk_create_with_history(new, DailyAttendance, default_user=actor, default_change_reason="每日点名")
    if changed:
        bulk_update_with_history(changed, DailyAttendance, ["status"], default_user=actor,
                                 default_change_reason="点名更正")


def _school_days_around(day: date, before: int, after: int) -> list[date]:
    """``before`` school days before ``day``, ``day``, and up to ``after`` school days after it that
    are not in the future, in order."""
    days, probe = [], day
    while len(days) < before and probe > day - timedelta(days=60):
        probe -= timedelta(days=1)
        if is_working_day(probe):
            days.insert(0, probe)
    days.append(day)
    probe, today = day, timezone.localdate()
    while len(days) < before + 1 + after and probe < today:
        probe += timedelta(days=1)
        if probe <= today and is_working_day(probe):
            days.append(probe)
    return days


def _consecutive_absentees(student_ids: list[int], day: date) -> set[int]:
    """Of ``student_ids`` (absent on ``day``), those absent without leave on ``CONSECUTIVE_ABSENCES``
    consecutive school days that include ``day`` (one query)."""
    n = CONSECUTIVE_ABSENCES
    days = _school_days_around(day, n - 1, n - 1)
    absent: dict[int, set[date]] = {}
    rows = DailyAttendance.objects.filter(student_id__in=student_ids, date__in=days,
                                          status=DailyAttendance.Status.ABSENT).values_list("student_id", "date")
    for pk, d in rows:
        absent.setdefault(pk, set()).add(d)
    found = set()
    for pk, dates in absent.items():
        for start in range(len(days) - n + 1):
            window = days[start:start + n]
            if day in window and all(d in dates for d in window):
                found.add(pk)
    return found
