"""Every write of the school year: graduation batches (submit, decide, undo) and the promotion run.

Graduation — who does what (decided here, DESIGN.md §6 "compulsory: school; senior high: bureau
approves"):
* the school's registrar (``edit_students`` on the school) submits the active students of one
  graduating grade with an outcome each (毕业 / 结业 / 肄业); students with open business are refused
  and listed (selectors.graduation_blockers);
* the school's approver (``approve_changes`` on the school itself, not the submitter: maker–checker)
  confirms; for primary and junior grades the students graduate then;
* senior-high grades then need the authority bureau (``approve_changes`` on the school's authority
  or a region above it, nobody who acted before on the batch);
* either may reject with a reason: the batch ends and its students may be submitted again;
* a bureau above the school may undo one student's graduation: the record is active again.
Every record's status goes to ``graduated`` whatever the outcome (the outcome is kept on the
entry and in the history reason); nothing else of the record changes.

Promotion: a province-level approver (``approve_changes`` on the province region) starts the
run from August 10 (``selectors.PROMOTION_DAY``); the Celery task ``tasks.promotion_execute``
moves each school in its own transaction (see ``promotion_school``).
"""

import logging
from collections import defaultdict
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from agreements.rules import school_year_of
from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import Grade, Region, School
from schools.services import class_create, grade_create
from students.models import Student, StudentStatus
from students.services import student_status_set
from transfers.models import OPEN_STATUSES, StatusChange
from xueji.access import grants_for, require_unit_perm
from xueji.history import save_with_history

from . import selectors
from .bulk import move_with_history
from .models import (
    GraduationBatch,
    GraduationEntry,
    Outcome,
    PromotionRun,
    PromotionSchoolResult,
    PromotionSkip,
    SkipReason,
)

APPROVE, REJECT = "approve", "reject"
logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Graduation


@transaction.atomic
def graduation_submit(*, actor, grade: Grade, outcomes: dict[int, str], today: date | None = None
                      ) -> GraduationBatch:
    """Submit the students of a graduating ``grade`` as one batch.

    ``outcomes``: {student pk: Outcome value} for the students chosen (at least one). Each must be
    an active student of the grade without open business. ``actor`` needs ``edit_students`` on the
    school. ``today`` (default: today in Asia/Shanghai) decides the school year. Returns the batch
    (status submitted). Raises PermissionDenied, or ValidationError listing every refused student.
    """
    school = grade.school
    require_unit_perm(actor, "edit_students", school)
    if grade.level != school.years_of(grade.stage):
        raise ValidationError(f"{grade.name}不是毕业年级")
    if not outcomes:
        raise ValidationError("请选择毕业学生")
    bad = [v for v in outcomes.values() if v not in Outcome.values]
    if bad:
        raise ValidationError({"outcome": "请选择毕业、结业或肄业"})
    students = list(Student.objects.filter(pk__in=outcomes, grade=grade).select_for_update(of=("self",)))
    if len(students) != len(outcomes):
        raise ValidationError("部分学生不属于该年级")
    blockers = selectors.graduation_blockers(students)
    problems = [f"{s.name}：{'；'.join(b.label for b in blockers[s.pk])}" for s in students if blockers[s.pk]]
    if problems:
        raise ValidationError(["以下学生有在办业务，不能毕业："] + problems[:30])
    batch = GraduationBatch(school=school, grade=grade, school_year=school_year_of(today or timezone.localdate()),
                            needs_bureau=grade.stage == Grade.Stage.SENIOR, submitted_by=actor,
                            school_path=school.path, province_code=school.province_code)
    save_with_history(batch, actor=actor, reason="提交毕业批次")
    entries = [GraduationEntry(batch=batch, student=s, outcome=outcomes[s.pk], school_path=school.path)
               for s in students]
    try:
        with transaction.atomic():
            bulk_create_with_history(entries, GraduationEntry, default_user=actor,
                                     default_change_reason="提交毕业")
    except IntegrityError as exc:  # another batch took a student meanwhile
        raise ValidationError("部分学生已在另一个毕业批次中，请刷新后重试") from exc
    audit_record(actor=actor, kind=AuditEvent.Kind.SUBMISSION, unit=school, target=batch,
                 message=f"提交{grade.name}毕业批次 #{batch.pk}（{len(entries)}人）")
    return batch


@transaction.atomic
def graduation_decide(*, actor, batch: GraduationBatch, decision: str, comment: str = "") -> GraduationBatch:
    """Decide the batch's current step (see the module docstring for who decides which step).

    ``decision``: "approve" or "reject" (a rejection needs ``comment``). The final approval
    graduates every student (re-checking open business: a student who got some meanwhile stops the
    whole decision with the list). Returns the batch. Raises PermissionDenied or ValidationError.
    """
    batch = GraduationBatch.objects.select_for_update(of=("self",)).select_related(
        "school__authority", "grade").get(pk=batch.pk)
    comment = (comment or "").strip()
    if decision not in (APPROVE, REJECT):
        raise ValidationError("未知的处理决定")
    if decision == REJECT and not comment:
        raise ValidationError({"comment": "退回必须填写理由"})
    now = timezone.now()
    if batch.status == GraduationBatch.Status.SUBMITTED:
        if not selectors.school_may_decide(actor, batch):
            raise PermissionDenied("只有本校学籍主管领导可以审核毕业批次")
        _check_maker_checker(actor, batch)
        batch.school_decided_by, batch.school_decided_at = actor, now
        step = "学校审核"
    elif batch.status == GraduationBatch.Status.BUREAU:
        if not selectors.bureau_may_decide(actor, batch):
            raise PermissionDenied("只有学校的学籍主管部门可以审批高中毕业")
        _check_maker_checker(actor, batch)
        batch.bureau_decided_by, batch.bureau_decided_at = actor, now
        step = "主管部门审批"
    else:
        raise ValidationError(f"该批次{batch.get_status_display()}，不需要处理")
    batch.comment = comment
    if decision == REJECT:
        batch.status = GraduationBatch.Status.REJECTED
        _release_entries(batch, actor, comment)
    elif batch.status == GraduationBatch.Status.SUBMITTED and batch.needs_bureau:
        batch.status = GraduationBatch.Status.BUREAU
    else:
        _apply_graduation(batch, actor)
        batch.status, batch.completed_at = GraduationBatch.Status.COMPLETED, now
    verb = "通过" if decision == APPROVE else "退回"
    save_with_history(batch, actor=actor, reason=f"{step}{verb}")
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION,
                 unit=batch.school if step == "学校审核" else batch.school.authority, target=batch,
                 message=f"{step}{verb}毕业批次 #{batch.pk}（{batch.school}{batch.grade}）", reason=comment)
    return batch


def _check_maker_checker(actor, batch: GraduationBatch) -> None:
    if actor.pk in (batch.submitted_by_id, batch.school_decided_by_id):
        raise ValidationError("提交人或已审核过本批次的人不能再审核（审核与经办分离）")


def _release_entries(batch: GraduationBatch, actor, comment: str) -> None:
    entries = list(batch.entries.filter(state=GraduationEntry.State.PENDING))
    for entry in entries:
        entry.state = GraduationEntry.State.RELEASED
    bulk_update_with_history(entries, GraduationEntry, ["state"], default_user=actor,
                             default_change_reason=f"批次退回：{comment}"[:100])


def _apply_graduation(batch: GraduationBatch, actor) -> None:
    entries = list(batch.entries.filter(state=GraduationEntry.State.PENDING).select_related("student"))
    students = [e.student for e in entries]
    blockers = selectors.graduation_blockers(students)
    problems = [f"{s.name}：{'；'.join(b.label for b in blockers[s.pk] if b.kind != 'batch')}"
                for s in students if any(b.kind != "batch" for b in blockers[s.pk])]
    moved = [s.name for s in students if s.grade_id != batch.grade_id]
    if problems or moved:
        raise ValidationError(["以下学生的情况已变化，请退回后重新提交："] + problems[:30]
                              + [f"{name}：已不在{batch.grade.name}" for name in moved[:30]])
    by_outcome: dict[str, list[Student]] = defaultdict(list)
    for entry in entries:
        entry.previous_status, entry.state = entry.student.status, GraduationEntry.State.APPLIED
        entry.student.status = StudentStatus.GRADUATED
        by_outcome[entry.outcome].append(entry.student)
    for outcome, group in by_outcome.items():
        bulk_update_with_history(group, Student, ["status", "updated_at"], default_user=actor,
                                 default_change_reason=f"{Outcome(outcome).label}（毕业批次 #{batch.pk}）")
    bulk_update_with_history(entries, GraduationEntry, ["state", "previous_status"], default_user=actor,
                             default_change_reason="毕业生效")


@transaction.atomic
def graduation_undo(*, actor, entry: GraduationEntry, reason: str) -> GraduationEntry:
    """Undo one student's graduation: the record returns to the status it had (active), with history.

    ``actor`` needs ``approve_changes`` on a region above the school (a bureau). ``reason`` is
    required. Raises PermissionDenied; ValidationError when the entry is not applied, the record is
    no longer graduated, or its ID number is now held by another live record (一人一籍).
    """
    entry = GraduationEntry.objects.select_for_update(of=("self",)).select_related(
        "batch__school", "student").get(pk=entry.pk)
    if not selectors.bureau_may_undo(actor, entry.batch.school):
        raise PermissionDenied("只有上级教育行政部门的审核人可以撤销毕业")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤销理由"})
    if entry.state != GraduationEntry.State.APPLIED or entry.student.status != StudentStatus.GRADUATED:
        raise ValidationError("该学生的毕业未生效或学籍已变化，不能撤销")
    student_status_set(actor=actor, student=entry.student, status=entry.previous_status or StudentStatus.ACTIVE,
                       reason=f"撤销毕业（毕业批次 #{entry.batch_id}）：{reason}")
    entry.state, entry.undone_by, entry.undone_at, entry.undo_reason = (
        GraduationEntry.State.UNDONE, actor, timezone.now(), reason[:200])
    save_with_history(entry, actor=actor, reason=f"撤销毕业：{reason}"[:100],
                      update_fields=["state", "undone_by", "undone_at", "undo_reason"])
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=entry.batch.school, target=entry.student,
                 message=f"撤销{entry.student.name}的毕业（批次 #{entry.batch_id}）", reason=reason)
    return entry


# ---------------------------------------------------------------------------------------------
# Promotion


@transaction.atomic
def promotion_start(*, actor, province: Region, today: date | None = None) -> PromotionRun:
    """Start the promotion of ``province`` into this school year and queue its execution.

    ``actor`` needs ``approve_changes`` on the province region itself (the top level of student
    data; the system administrator reads no student data). Allowed from August 10 to December 31
    of the year (``selectors.PROMOTION_DAY``). At most one run per province and school year (a
    database constraint): a second start raises ValidationError, so nobody is moved twice.
    Returns the queued run; the Celery task ``promotion_execute`` runs after commit.
    """
    today = today or timezone.localdate()
    if province.level != Region.Level.PROVINCE:
        raise ValidationError("升级按省份执行")
    if province.path not in grants_for(actor, "approve_changes").region_paths:
        raise PermissionDenied("只有省级学籍审核人可以执行全省升级")
    school_year = selectors.promotion_school_year(today)
    opens = selectors.promotion_opens_on(school_year)
    if today < opens:
        raise ValidationError(f"{school_year}年升级自{opens.month}月{opens.day}日起执行")
    run = PromotionRun(province=province, school_year=school_year, started_by=actor, path=province.path)
    try:
        with transaction.atomic():
            save_with_history(run, actor=actor, reason="发起全省升级")
    except IntegrityError as exc:
        raise ValidationError(f"{province}{school_year}学年的升级已经执行过，不能重复执行") from exc
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=province, target=run,
                 message=f"发起{run}")
    _queue(run)
    return run


@transaction.atomic
def promotion_resume(*, actor, run: PromotionRun) -> PromotionRun:
    """Queue a failed run again; schools already done are not touched again. Same right as start."""
    run = PromotionRun.objects.select_for_update().get(pk=run.pk)
    if run.path not in grants_for(actor, "approve_changes").region_paths:
        raise PermissionDenied("只有省级学籍审核人可以执行全省升级")
    if run.status != PromotionRun.Status.FAILED:
        raise ValidationError("只有失败的升级可以继续执行")
    run.status, run.error = PromotionRun.Status.QUEUED, ""
    save_with_history(run, actor=actor, reason="继续执行升级", update_fields=["status", "error"])
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=run.province, target=run, message=f"继续执行{run}")
    _queue(run)
    return run


def _queue(run: PromotionRun) -> None:
    from .tasks import promotion_execute

    promotion_execute.delay_on_commit(run.pk)


def promotion_execute(run_id: int) -> PromotionRun:
    """Execute a queued run: claim it (queued → running; anything else returns at once, so a
    doubled task does nothing), then promote school after school, each in its own transaction with
    its ``PromotionSchoolResult`` (unique per run and school: a school is never done twice, and a
    failed run resumes where it stopped). Ends done with the totals, or failed with the error.
    Called by the Celery task; acts as the user who started the run. Returns the run.
    """
    with transaction.atomic():
        run = PromotionRun.objects.select_for_update().select_related("province", "started_by").get(pk=run_id)
        if run.status != PromotionRun.Status.QUEUED:
            return run
        run.status, run.started_at = PromotionRun.Status.RUNNING, run.started_at or timezone.now()
        save_with_history(run, actor=run.started_by, reason="开始执行升级", update_fields=["status", "started_at"])
    done = set(run.results.values_list("school_id", flat=True))
    schools = School.objects.filter(path__startswith=run.path).exclude(pk__in=done).order_by("path")
    try:
        for school in schools.iterator(chunk_size=200):
            promotion_school(run=run, school=school)
    except Exception as exc:  # any failure: the school's transaction is rolled back, the run resumable
        logger.exception("promotion run %s failed", run.pk)
        return _finish(run, PromotionRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
    return _finish(run, PromotionRun.Status.DONE)


@transaction.atomic
def _finish(run: PromotionRun, status: str, error: str = "") -> PromotionRun:
    from django.db.models import Count, Sum

    totals = run.results.aggregate(n=Count("id"), promoted=Sum("promoted"), skipped=Sum("skipped"),
                                   classes=Sum("classes_created"))
    run.status, run.error = status, error
    run.schools_done = totals["n"] or 0
    run.promoted_count, run.skipped_count = totals["promoted"] or 0, totals["skipped"] or 0
    run.classes_created = totals["classes"] or 0
    if status == PromotionRun.Status.DONE:
        run.finished_at = timezone.now()
    save_with_history(run, actor=run.started_by, reason="升级完成" if status == "done" else "升级失败",
                      update_fields=["status", "error", "schools_done", "promoted_count", "skipped_count",
                                     "classes_created", "finished_at"])
    if status == PromotionRun.Status.DONE:
        audit_record(actor=run.started_by, kind=AuditEvent.Kind.DECISION, unit=run.province, target=run,
                     message=f"{run}完成：升级{run.promoted_count}人，未升级{run.skipped_count}人，"
                             f"{run.schools_done}所学校")
    return run


@transaction.atomic
def promotion_school(*, run: PromotionRun, school: School) -> PromotionSchoolResult:
    """Promote the active students of ``school`` one grade up within their stage, each into the
    class of the same number in the next grade (created with ``schools.services.class_create``
    when missing), and record who stayed and why (``SkipReason``):

    * graduating: an active student of the stage's last grade who has not graduated;
    * suspended: stays in the grade; the resumption places the student (grade or the next);
    * no_class: an active student without a class;
    * open_business: an open status change (a pending transfer or retention names its grade);
    * new_entrant: entered this school year (``entry_month`` ≥ September of ``run.school_year``).
    A retention approved before the run already moved the student down a grade (transfers'
    applier), so the run moves the student on with the new cohort: the student repeats the year.

    Grades are processed from the top down and each student is read once, so nobody moves twice.
    Writes: per grade one UPDATE + one history INSERT per 900 students (``bulk.move_with_history``),
    skips in bulk. The result row is inserted first, so even a second worker on the same school
    would wait on its unique index and then fail, rolling its own work back. Returns the result.
    """
    result = PromotionSchoolResult.objects.create(run=run, school=school, school_path=school.path)
    mover = _GradeMover(school, actor=run.started_by, reason=_run_reason(run))
    skips: list[PromotionSkip] = []
    open_changes = dict(StatusChange.objects.filter(student__school=school, status__in=OPEN_STATUSES)
                        .values_list("student_id", "pk"))
    new_entry = f"{run.school_year}09"
    for stage in school.stages():
        top = school.years_of(stage)
        for level in range(top, 0, -1):
            grade = mover.grades.get((stage, level))
            if grade is None:
                continue
            rows = list(Student.objects.filter(grade=grade, status__in=[StudentStatus.ACTIVE, StudentStatus.SUSPENDED])
                        .values_list("pk", "status", "school_class_id", "school_class__number", "entry_month"))
            movers: dict[tuple[int, int], list[int]] = defaultdict(list)  # (class id, number) → pks
            for pk, status, class_id, number, entry_month in rows:
                why, detail = _skip_reason(level == top, status, class_id, open_changes.get(pk),
                                           entry_month >= new_entry if entry_month else False)
                if why:
                    skips.append(PromotionSkip(run=run, student_id=pk, school=school, grade=grade,
                                               school_path=school.path, reason=why, detail=detail))
                else:
                    movers[(class_id, number)].append(pk)
            result.promoted += mover.move(grade, movers)
    PromotionSkip.objects.bulk_create(skips, batch_size=1000)
    result.skipped, result.classes_created = len(skips), mover.classes_created
    result.save(update_fields=["promoted", "skipped", "classes_created"])
    return result


def _run_reason(run: PromotionRun) -> str:
    return f"{run.school_year}-{run.school_year + 1}学年升级"


class _GradeMover:
    """Moves groups of one school's students from a grade to the next one of the same stage, each
    into the class of the same number (created when missing, as a system job without a person's
    grant); two reads for the school's grades and classes, then two statements per group."""

    def __init__(self, school: School, *, actor, reason: str):
        self.school, self.actor, self.reason = school, actor, reason
        self.now = timezone.now()
        self.grades = {(g.stage, g.level): g for g in school.grades.all()}
        self.classes: dict[int, dict[int, int]] = defaultdict(dict)  # grade id → {class number: class id}
        for grade_id, number, pk in school.classes.values_list("grade_id", "number", "pk"):
            self.classes[grade_id][number] = pk
        self.classes_created = 0

    def move(self, grade: Grade, movers: dict[tuple[int, int], list[int]]) -> int:
        """Move ``movers`` ({(class id, class number): student pks}) of ``grade`` up one level."""
        if not movers:
            return 0
        key = (grade.stage, grade.level + 1)
        target = self.grades.get(key)
        if target is None:
            target = self.grades[key] = grade_create(actor=None, school=self.school, stage=grade.stage,
                                                     level=grade.level + 1)
        class_map = {}
        for class_id, number in movers:
            if number not in self.classes[target.pk]:
                self.classes[target.pk][number] = class_create(actor=None, grade=target, number=number).pk
                self.classes_created += 1
            class_map[class_id] = self.classes[target.pk][number]
        pks = [pk for group in movers.values() for pk in group]
        return move_with_history(pks, grade_id=target.pk, class_map=class_map, actor=self.actor,
                                 reason=f"{self.reason}：{grade.name}→{target.name}", when=self.now)


CATCH_UP_REASONS = (SkipReason.OPEN_BUSINESS, SkipReason.NO_CLASS)


@transaction.atomic
def promotion_catch_up(*, actor, run: PromotionRun) -> int:
    """Promote, after a finished run, the students it skipped for open business or for having no
    class once that is resolved: still active, in a class, without open business, in the province,
    and in a grade of the same stage and level as when skipped (a transfer completed meanwhile
    keeps the level at the new school). Each skip row is promoted at most once (``promoted_at``),
    so nobody moves twice. ``actor`` needs ``approve_changes`` on the province itself. Returns how
    many students moved. Raises PermissionDenied, or ValidationError when the run is not done.
    """
    run = PromotionRun.objects.select_for_update().get(pk=run.pk)
    if run.path not in grants_for(actor, "approve_changes").region_paths:
        raise PermissionDenied("只有省级学籍审核人可以执行全省升级")
    if run.status != PromotionRun.Status.DONE:
        raise ValidationError("升级完成后才能补升")
    waiting = run.skips.filter(promoted_at__isnull=True, reason__in=CATCH_UP_REASONS)
    skipped = dict(waiting.values_list("student_id", "grade__level"))
    busy = StatusChange.objects.filter(student_id=OuterRef("pk"), status__in=OPEN_STATUSES)
    rows = (Student.objects.filter(pk__in=waiting.values("student_id"), status=StudentStatus.ACTIVE,
                                   school_class__isnull=False,
                                   school_path__startswith=run.path).exclude(Exists(busy))
            .values_list("pk", "school_id", "grade_id", "grade__level", "school_class_id", "school_class__number"))
    groups: dict[int, dict[int, dict]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for pk, school_id, grade_id, level, class_id, number in rows:
        if level == skipped[pk]:
            groups[school_id][grade_id][(class_id, number)].append(pk)
    moved: list[int] = []
    for school in School.objects.filter(pk__in=list(groups)):
        mover = _GradeMover(school, actor=actor, reason=f"{_run_reason(run)}（补升）")
        by_id = {g.pk: g for g in mover.grades.values()}
        for grade_id, movers in groups[school.pk].items():
            grade = by_id[grade_id]
            if grade.level < school.years_of(grade.stage):
                mover.move(grade, movers)
                moved += [pk for group in movers.values() for pk in group]
    # PromotionSkip is the run's report, not an audited record: a plain update marks the rows.
    run.skips.filter(student_id__in=moved).update(promoted_at=timezone.now())
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=run.province, target=run,
                 message=f"{run}补升：{len(moved)}人")
    return len(moved)


def _skip_reason(graduating: bool, status: str, class_id, open_change, new_entrant: bool) -> tuple[str, str]:
    if status == StudentStatus.SUSPENDED:
        return SkipReason.SUSPENDED, ""
    if graduating:
        return SkipReason.GRADUATING, ""
    if open_change:
        return SkipReason.OPEN_BUSINESS, f"学籍异动编号 {open_change}"
    if class_id is None:
        return SkipReason.NO_CLASS, ""
    if new_entrant:
        return SkipReason.NEW_ENTRANT, ""
    return "", ""


