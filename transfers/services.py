"""Every write on status changes: create, edit, submit, decide, withdraw, roll back, evidence,
follow-ups, registration batches, notifications and the daily reminders.

Each public function is ``noun_verb(*, actor, ...)``, atomic, checks its rule, records history
(django-simple-history with the actor and a reason) and an audit event, and queues side effects
(e-mail) with ``transaction.on_commit``. Rules: transfers.rules; routes: transfers.routes; what an
approval does to the record: transfers.appliers.

Concurrency: every service that moves a change locks its row first (``select_for_update``), so of
two approvers deciding the same step at the same moment exactly one succeeds and the other is told
who did it ("该步骤已由…处理").
"""

from collections import defaultdict
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import SchoolClass
from students.files import check_scan
from students.models import Student, StudentStatus
from xueji.access import grants_for, has_unit_perm, require_unit_perm
from xueji.bulk import update_with_history
from xueji.history import save_with_history

from . import notify
from .appliers import apply_change
from .corrections import build_payload
from .deadlines import due_date_for
from .models import (
    OPEN_STATUSES,
    ApprovalStep,
    ChangeKind,
    ChangeStatus,
    Evidence,
    FollowUp,
    Notification,
    StatusChange,
    StepStatus,
)
from .routes import route_for
from .rules import check_registration_students, check_submit, suspension_period

APPROVE, REJECT = "approve", "reject"
EDITABLE_FIELDS = ("reason_category", "reason", "start_date", "end_date", "target_class", "payload")


# --------------------------------------------------------------------------------------------
# Drafts


@transaction.atomic
def change_create_draft(*, actor, kind: str, student: Student, target_class: SchoolClass | None = None,
                        reason_category: str = "", reason: str = "", start_date: date | None = None,
                        end_date: date | None = None, key_data: dict | None = None) -> StatusChange:
    """Start a change of ``kind`` (not registration: see ``registration_submit``) for ``student``.

    A transfer is started by the receiving school: ``actor`` needs ``edit_students`` on
    ``target_class``'s school, which becomes the initiating school. Every other kind is started by
    the student's school: ``actor`` needs ``edit_students`` on the student. ``key_data`` ({field:
    new value}) is the content of a key-data correction. Returns the draft.
    Raises PermissionDenied; ValidationError when the student already has open business (the
    partial unique index guarantees it under concurrency) or the key data are invalid.
    """
    if kind == ChangeKind.REGISTRATION:
        raise ValueError("use registration_submit for registration batches")
    change = StatusChange(kind=kind, student=student, initiated_by=actor, from_school=student.school,
                          from_grade=student.grade, from_class=student.school_class,
                          school_path=student.school.path, province_code=student.school.province_code)
    if kind == ChangeKind.TRANSFER:
        if target_class is None:
            raise ValidationError({"target_class": "请选择转入班级"})
        require_unit_perm(actor, "edit_students", target_class.school)
        change.school = target_class.school
    else:
        require_unit_perm(actor, "edit_students", student)
        change.school = student.school
    _set_fields(change, reason_category=reason_category, reason=reason, start_date=start_date,
                end_date=end_date, target_class=target_class)
    if kind == ChangeKind.KEY_DATA_CORRECTION:
        change.payload = build_payload(student, key_data or {})
    _check_no_open_change(student)
    try:
        with transaction.atomic():
            save_with_history(change, actor=actor, reason="新建学籍异动")
    except IntegrityError as exc:
        raise ValidationError("该学生已有在办的学籍异动业务，同一时间只能办理一项") from exc
    return change


@transaction.atomic
def change_update_draft(*, actor, change: StatusChange, key_data: dict | None = None, **fields) -> StatusChange:
    """Edit a draft (new or returned after a rejection); only its initiator may.

    ``fields`` are among ``EDITABLE_FIELDS`` except payload; ``key_data`` replaces a correction's
    content. Raises PermissionDenied for anyone else, ValidationError when the change is not a draft.
    """
    change = _lock(change)
    _require_initiator(actor, change)
    if change.status != ChangeStatus.DRAFT:
        raise ValidationError("只有草稿可以修改")
    if change.kind == ChangeKind.TRANSFER and fields.get("target_class") is not None:
        require_unit_perm(actor, "edit_students", fields["target_class"].school)
        if fields["target_class"].school_id != change.school_id:
            raise ValidationError({"target_class": "转入班级必须属于发起学校"})
    _set_fields(change, **{k: v for k, v in fields.items() if k in EDITABLE_FIELDS and k != "payload"})
    if change.kind == ChangeKind.KEY_DATA_CORRECTION and key_data is not None:
        change.payload = build_payload(change.student, key_data)
    save_with_history(change, actor=actor, reason="修改草稿")
    return change


def _set_fields(change: StatusChange, **fields) -> None:
    for key, value in fields.items():
        if key == "target_class":
            change.target_class = value
            change.target_grade = value.grade if value is not None else None
            change.target_school = value.school if value is not None else None
            change.target_school_path = value.school.path if value is not None else ""
        elif key in ("reason_category", "reason"):
            setattr(change, key, (value or "").strip())
        else:
            setattr(change, key, value)


def _check_no_open_change(student: Student) -> None:
    other = StatusChange.objects.filter(student=student, status__in=OPEN_STATUSES).first()
    if other is not None:
        raise ValidationError(f"该学生已有在办的{other.get_kind_display()}业务（编号 {other.pk}），"
                              "同一时间只能办理一项学籍异动")


@transaction.atomic
def evidence_add(*, actor, change: StatusChange, upload) -> Evidence:
    """Attach an uploaded file (Django ``UploadedFile``) to a draft as evidence.

    The type is decided from the content (JPG, PNG or PDF), at most 2 MB. ``actor`` must be the
    initiator. Raises ValidationError for a bad file or a change that is no longer a draft.
    """
    _require_initiator(actor, change)
    if change.status != ChangeStatus.DRAFT:
        raise ValidationError("只能给草稿添加佐证材料；已提交的业务请退回后补充")
    content_type, extension = check_scan(upload)
    evidence = Evidence(change=change, original_name=(upload.name or "file")[-200:], content_type=content_type,
                        size=upload.size, uploaded_by=actor)
    evidence.file.save(f"change{change.pk}{extension}", upload, save=False)
    evidence.save()
    audit_record(actor=actor, kind=AuditEvent.Kind.OTHER, unit=change.initiating_unit, target=change,
                 message=f"上传佐证材料（业务编号 {change.pk}）")
    return evidence


@transaction.atomic
def follow_up_add(*, actor, change: StatusChange, note: str) -> FollowUp:
    """Record a follow-up note (随访) on ``change``; ``actor`` needs ``edit_students`` on the student.
    Raises ValidationError for an empty note."""
    require_unit_perm(actor, "edit_students", change.student or change.school)
    if not (note or "").strip():
        raise ValidationError({"note": "请填写随访情况"})
    follow_up = FollowUp(change=change, note=note.strip(), created_by=actor)
    save_with_history(follow_up, actor=actor, reason="随访记录")
    return follow_up


@transaction.atomic
def change_start(*, actor, kind: str, student: Student, submit: bool, evidence_files=(), follow_up: str = "",
                 key_data: dict | None = None, **fields) -> StatusChange:
    """Create a change with its evidence files and follow-up note, and submit it when ``submit``,
    all in one transaction: if any rule refuses, nothing is kept and the form can show the errors.
    Arguments as ``change_create_draft``; raises what it and ``change_submit`` raise."""
    change = change_create_draft(actor=actor, kind=kind, student=student, key_data=key_data, **fields)
    for upload in evidence_files:
        evidence_add(actor=actor, change=change, upload=upload)
    if follow_up.strip():
        follow_up_add(actor=actor, change=change, note=follow_up)
    if submit:
        change = change_submit(actor=actor, change=change)
    return change


def transfer_lookup(*, actor, query: str, ip_address: str | None = None):
    """A receiving school's exact lookup of a student by national student number or ID number.

    ``actor`` needs ``edit_students`` on at least one school. Returns a
    ``selectors.TransferCandidate`` (name, gender, school and grade only) or None. Every lookup
    is an access event in the audit log (without the number searched for)."""
    from .selectors import transfer_candidate

    if not grants_for(actor, "edit_students").school_ids:
        raise PermissionDenied("只有学校学籍管理员可以发起转学")
    candidate = transfer_candidate(query)
    audit_record(actor=actor, kind=AuditEvent.Kind.RECORD_VIEW, ip_address=ip_address,
                 message="转学查询：" + (f"找到学生（学籍 {candidate.pk}）" if candidate else "未找到"),
                 extra={"student": candidate.pk} if candidate else {})
    return candidate


def evidence_open(*, actor, evidence: Evidence, ip_address: str | None = None):
    """Open an evidence file for ``actor`` (who reached it through ``selectors.change_for_user``)
    and log the access. Returns a binary file object."""
    audit_record(actor=actor, kind=AuditEvent.Kind.RECORD_VIEW, target=evidence.change, ip_address=ip_address,
                 message=f"查看佐证材料 {evidence.pk}（业务编号 {evidence.change_id}）")
    return evidence.file.open("rb")


# --------------------------------------------------------------------------------------------
# Submission


@transaction.atomic
def change_submit(*, actor, change: StatusChange) -> StatusChange:
    """Submit a draft: check every rule, build the route's steps (``route_for``), make the first
    step current with its due date, and tell its holders. A resubmission after a rejection
    appends a new round of steps (earlier rounds stay as the record of what happened).

    Only the initiator submits. Raises PermissionDenied, or ValidationError with the rule broken.
    """
    change = _lock(change)
    _require_initiator(actor, change)
    require_unit_perm(actor, "edit_students", change.initiating_unit)
    if change.status != ChangeStatus.DRAFT:
        raise ValidationError("该业务不是草稿，不能提交")
    check_submit(change)
    if change.kind == ChangeKind.RESUMPTION:
        period = suspension_period(change.student)
        if period:
            change.payload = {"suspension": {"start": period[0].isoformat(), "end": period[1].isoformat()}}
    if change.kind == ChangeKind.REGISTRATION:
        _set_students_status(change, actor, StudentStatus.PENDING, "提交注册")
    return _submit_round(actor, change)


def _submit_round(actor, change: StatusChange) -> StatusChange:
    """Open the next round of a checked, locked draft: the route's steps (``route_for``), the first
    one current with its due date, the change pending, its audit event, the first step's holders
    told. The one path of every submission (``change_submit``, ``registration_submit_new``)."""
    now = timezone.now()
    last_order = change.steps.aggregate(m=Max("order"))["m"] or 0
    change.round += 1
    steps = [
        ApprovalStep(change=change, order=last_order + i, round=change.round, role=role,
                     region=unit if _is_region(unit) else None, school=None if _is_region(unit) else unit,
                     unit_path=unit.path)
        for i, (unit, role) in enumerate(route_for(change), start=1)
    ]
    _make_current(steps[0], change, now)
    from simple_history.utils import bulk_create_with_history

    bulk_create_with_history(steps, ApprovalStep, default_user=actor, default_change_reason="提交生成审核步骤")
    steps = list(change.steps.filter(round=change.round).select_related("region", "school").order_by("order"))
    change.status, change.submitted_at = ChangeStatus.PENDING, now
    save_with_history(change, actor=actor, reason=f"提交（第{change.round}轮）",
                      update_fields=["status", "submitted_at", "round", "payload"])
    audit_record(actor=actor, kind=AuditEvent.Kind.SUBMISSION, unit=change.initiating_unit, target=change,
                 message=f"提交{change.get_kind_display()}（编号 {change.pk}，第{change.round}轮，共{len(steps)}步）",
                 extra={"change": change.pk, "kind": change.kind})
    notify.save_and_email(notify.step_arrived([steps[0]]))
    return change


def _is_region(unit) -> bool:
    return unit._meta.model_name == "region"


def _make_current(step: ApprovalStep, change: StatusChange, now) -> None:
    step.status = StepStatus.CURRENT
    step.became_current_at = now
    step.change = change
    level = step.region.level if step.region_id or step.region else "school"
    step.due_date = due_date_for(change.kind, level, now)


# --------------------------------------------------------------------------------------------
# Decisions


def step_decide(*, actor, step: ApprovalStep, decision: str, comment: str = "") -> ApprovalStep:
    """Approve or reject one step. See ``steps_decide_batch`` for the rules and errors; a step
    someone else decided meanwhile gives ValidationError "该步骤已由…处理"."""
    return steps_decide_batch(actor=actor, steps=[step], decision=decision, comment=comment)[0]


@transaction.atomic
def steps_decide_batch(*, actor, steps: list[ApprovalStep], decision: str, comment: str = "") -> list[ApprovalStep]:
    """Approve or reject several current steps with one comment, all or nothing.

    ``decision`` is "approve" or "reject"; a rejection needs ``comment`` (the reason) and returns
    its change to the initiator as an editable draft. An approval makes the change's next step
    current (with its due date) or, on the last step, applies the change (transfers.appliers).
    Rules: the step must still be current; ``actor`` must hold the step's right on its unit
    (a school's step: on the school itself; a bureau's: on that region or above); maker–checker:
    the initiator and whoever decided an earlier step of the same round may not decide.
    Queries do not grow with the number of steps, except for the final approvals' record writes.
    Returns the decided steps. Raises ValidationError (all problems listed) or PermissionDenied.
    """
    if decision not in (APPROVE, REJECT):
        raise ValidationError("未知的处理决定")
    comment = (comment or "").strip()
    if decision == REJECT and not comment:
        raise ValidationError({"comment": "退回必须填写理由"})
    if not steps:
        raise ValidationError("请至少选择一项")
    change_ids = sorted({s.change_id for s in steps})
    # Lock the changes (in id order, so two batches never deadlock), then re-read the steps.
    list(StatusChange.objects.select_for_update().filter(pk__in=change_ids).order_by("pk").values_list("pk"))
    fresh = list(ApprovalStep.objects.filter(pk__in=[s.pk for s in steps]).select_related(
        "change__student__school", "change__student__grade", "change__initiated_by", "change__target_school",
        "change__target_grade", "change__target_class", "change__from_school", "change__school",
        "region", "school", "decided_by"))
    _check_decisions(actor, fresh)
    now = timezone.now()
    following = _next_steps(change_ids)
    decided, changed_steps, changes, notes, events = [], [], [], [], []
    for step in sorted(fresh, key=lambda s: s.change_id):
        change = step.change
        step.status = StepStatus.APPROVED if decision == APPROVE else StepStatus.REJECTED
        step.decided_by, step.decided_at, step.comment = actor, now, comment
        decided.append(step)
        waiting = following.get(change.pk, [])
        if decision == REJECT:
            for other in waiting:
                other.status = StepStatus.SKIPPED
                changed_steps.append(other)
            change.status = ChangeStatus.DRAFT
            changes.append(change)
            notes.append(notify.change_decided(change, f"被{step.unit}退回：{comment}"))
        elif waiting:
            _make_current(waiting[0], change, now)
            changed_steps.append(waiting[0])
        else:
            change.status, change.completed_at = ChangeStatus.APPROVED, now
            changes.append(change)
            notes.append(notify.change_decided(change, "已审核通过并办结"))
        events.append(_decision_event(actor, step, decision, comment))
    bulk_update_with_history(decided + changed_steps, ApprovalStep,
                             ["status", "decided_by", "decided_at", "comment", "became_current_at", "due_date"],
                             default_user=actor, default_change_reason="审核" if decision == APPROVE else "退回")
    bulk_update_with_history(changes, StatusChange, ["status", "completed_at"], default_user=actor,
                             default_change_reason="审核通过办结" if decision == APPROVE else f"退回：{comment}"[:100])
    AuditEvent.objects.bulk_create(events)
    for change in changes:
        if change.status == ChangeStatus.APPROVED:
            apply_change(change, actor=actor)
        elif change.kind == ChangeKind.REGISTRATION:
            _set_students_status(change, actor, StudentStatus.DRAFT, f"注册被退回：{comment}")
    arrived = [s for s in changed_steps if s.status == StepStatus.CURRENT]
    notify.save_and_email(notes + notify.step_arrived(arrived))
    return decided


def _check_decisions(actor, steps: list[ApprovalStep]) -> None:
    deciders = _deciders_this_round(steps)
    problems = []
    for step in steps:
        change = step.change
        label = f"{change.student.name if change.student_id else '注册批次'}（编号 {change.pk}）"
        if step.status in (StepStatus.APPROVED, StepStatus.REJECTED):
            problems.append(f"{label}：该步骤已由{step.decided_by}处理（{step.get_status_display()}，"
                            f"{timezone.localtime(step.decided_at):%Y-%m-%d %H:%M}）")
        elif step.status != StepStatus.CURRENT or change.status != ChangeStatus.PENDING:
            problems.append(f"{label}：该步骤当前不需要处理（业务{change.get_status_display()}）")
        elif not can_act_on_step(actor, step):
            raise PermissionDenied("您不是该步骤所在单位的处理人")
        elif actor.pk == change.initiated_by_id:
            problems.append(f"{label}：发起人不能审核自己发起的业务")
        elif (change.pk, change.round) in deciders.get(actor.pk, set()):
            problems.append(f"{label}：您已处理过本业务的前一步骤，不能再审核后续步骤（审核与经办分离）")
    if problems:
        raise ValidationError(problems)


def can_act_on_step(user, step: ApprovalStep) -> bool:
    """True when ``user`` holds the step's right on its unit: a school's step needs a grant on that
    school itself (a county approver does not decide for a school); a bureau's step a grant on that
    region or a region above it. Uses the cached grants (no query after the first)."""
    grants = grants_for(user, step.codename)
    if step.school_id:
        return step.school_id in grants.school_ids
    return any(step.unit_path.startswith(path) for path in grants.region_paths)


def _deciders_this_round(steps: list[ApprovalStep]) -> dict[int, set[tuple[int, int]]]:
    rows = ApprovalStep.objects.filter(
        change_id__in={s.change_id for s in steps}, status=StepStatus.APPROVED, decided_by__isnull=False,
    ).values_list("decided_by_id", "change_id", "round")
    found: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for user_id, change_id, rnd in rows:
        found[user_id].add((change_id, rnd))
    return found


def _next_steps(change_ids: list[int]) -> dict[int, list[ApprovalStep]]:
    found: dict[int, list[ApprovalStep]] = defaultdict(list)
    for step in (ApprovalStep.objects.filter(change_id__in=change_ids, status=StepStatus.WAITING)
                 .select_related("region", "school").order_by("change_id", "order")):
        found[step.change_id].append(step)
    return found


def _decision_event(actor, step: ApprovalStep, decision: str, comment: str) -> AuditEvent:
    # Built like audits.services.audit_record, but inserted in bulk by the batch decision.
    change = step.change
    verb = "通过" if decision == APPROVE else "退回"
    return AuditEvent(actor=actor, actor_username=actor.get_username(), kind=AuditEvent.Kind.DECISION,
                      unit_path=step.unit_path, unit_name=str(step.unit)[:100],
                      target_type=change._meta.label_lower, target_id=str(change.pk),
                      message=f"{verb}{change.get_kind_display()}（编号 {change.pk}）第{step.order}步"
                              f"（{step.get_role_display()}）",
                      reason=comment[:500], extra={"change": change.pk, "step": step.pk, "decision": decision})


# --------------------------------------------------------------------------------------------
# Withdrawal and roll-back


@transaction.atomic
def change_withdraw(*, actor, change: StatusChange, reason: str = "") -> StatusChange:
    """The initiator withdraws a draft, or a submitted change before anyone decided a step of the
    current round. Open steps are closed as skipped; a registration batch's students return to
    draft. Raises PermissionDenied for anyone else, ValidationError once a decision exists."""
    change = _lock(change)
    _require_initiator(actor, change)
    if change.status not in OPEN_STATUSES:
        raise ValidationError("该业务已结束，不能撤回")
    if change.steps.filter(round=change.round, status=StepStatus.APPROVED).exists() \
            and change.status == ChangeStatus.PENDING:
        raise ValidationError("已有审核人处理，不能撤回；如需终止请联系主管部门退回")
    _close(change, actor, ChangeStatus.WITHDRAWN, reason or "发起人撤回")
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=change.initiating_unit, target=change,
                 message=f"撤回{change.get_kind_display()}（编号 {change.pk}）", reason=reason)
    return change


@transaction.atomic
def change_roll_back(*, actor, change: StatusChange, reason: str) -> StatusChange:
    """A bureau ends a stuck open change (在办业务 that blocks the student): ``actor`` needs
    ``approve_changes`` on a region above the student's school or the target school. Open steps
    are closed as skipped; the initiator is told. Raises PermissionDenied, or ValidationError
    without a reason or when the change is not open."""
    change = _lock(change)
    schools = [s for s in (change.from_school, change.target_school) if s is not None]
    if not any(has_unit_perm(actor, "approve_changes", school.region) for school in schools):
        raise PermissionDenied("只有上级教育行政部门的审核人可以退回撤销业务")
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写退回撤销的理由"})
    if change.status not in OPEN_STATUSES:
        raise ValidationError("该业务已结束，不能退回撤销")
    _close(change, actor, ChangeStatus.ROLLED_BACK, f"主管部门退回撤销：{reason}")
    audit_record(actor=actor, kind=AuditEvent.Kind.DECISION, unit=schools[0].region, target=change,
                 message=f"退回撤销{change.get_kind_display()}（编号 {change.pk}）", reason=reason)
    notify.save_and_email([notify.change_decided(change, f"已被主管部门退回撤销：{reason}")])
    return change


def _close(change: StatusChange, actor, status: str, reason: str) -> None:
    open_steps = list(change.steps.filter(status__in=[StepStatus.WAITING, StepStatus.CURRENT]))
    for step in open_steps:
        step.status = StepStatus.SKIPPED
    bulk_update_with_history(open_steps, ApprovalStep, ["status"], default_user=actor,
                             default_change_reason=reason[:100])
    was_pending = change.status == ChangeStatus.PENDING
    change.status, change.completed_at = status, timezone.now()
    save_with_history(change, actor=actor, reason=reason[:100], update_fields=["status", "completed_at"])
    if change.kind == ChangeKind.REGISTRATION and was_pending:
        _set_students_status(change, actor, StudentStatus.DRAFT, reason)


# --------------------------------------------------------------------------------------------
# Registration batches


@transaction.atomic
def registration_submit(*, actor, students: list[Student]) -> StatusChange:
    """Submit draft records of new students as one registration batch (新生注册) and return it.

    All students must be drafts of one school on which ``actor`` holds ``edit_students``, and in
    no other open batch. Route: the school's approver, then its authority bureau (due 15 working
    days). On approval each becomes active with an L number (with a resident ID number) or a J
    number (without), both kind letter + area code + birth date YYYYMMDD + sequence + check digit
    (``students.services.student_numbers_allocate``); on rejection they return to draft and the
    batch is an editable draft for resubmission with ``change_submit``. Raises PermissionDenied or
    ValidationError (a second live record of the same ID number is refused by the database). The
    registration rules (``transfers.rules._check_registration``) run in ``change_submit``.
    """
    students = list(students)
    if not students:
        raise ValidationError("请选择要提交注册的学生")
    school = students[0].school
    if any(s.school_id != school.pk for s in students):
        raise ValidationError("一个注册批次只能包含同一所学校的学生")
    require_unit_perm(actor, "edit_students", school)
    not_draft = [s.name for s in students if s.status != StudentStatus.DRAFT]
    if not_draft:
        raise ValidationError(f"只有草稿状态的学籍可以提交注册：{'、'.join(not_draft[:10])}")
    busy = StatusChange.objects.filter(kind=ChangeKind.REGISTRATION, status__in=OPEN_STATUSES,
                                       students__in=students).values_list("pk", flat=True).first()
    if busy:
        raise ValidationError(f"部分学生已在另一个在办的注册批次中（编号 {busy}）")
    change = _registration_batch(actor, school)
    change.students.set(students)
    return change_submit(actor=actor, change=change)


@transaction.atomic
def registration_submit_new(*, actor, school, entries: list[tuple[dict, list[dict]]], reason: str) -> StatusChange:
    """Create new students directly as one submitted registration batch (the Excel import).

    ``entries``: [(student values, [member1, member2])] as ``students.services.student_create``
    takes them (cleaned form values). The same registration as ``registration_submit`` of drafts,
    minus the drafts: the registration rules (``transfers.rules.check_registration_students``:
    一生一籍, liability forms) run once on the whole batch before anything is written, then the
    batch, the students already pending with their family members (one history row each, naming
    ``actor`` and ``reason``), and the first round of steps (``_submit_round``, as ``change_submit``).
    ``actor`` needs ``edit_students`` on ``school``. Returns the pending batch. Raises
    PermissionDenied, or ValidationError (nothing written) when a rule refuses or the database's
    one-live-record index does (a record took a number meanwhile).
    """
    from students.services import students_build, students_insert

    require_unit_perm(actor, "edit_students", school)
    if not entries:
        raise ValidationError("请选择要提交注册的学生")
    students = students_build(school=school, entries=entries)
    check_registration_students(students)
    change = _registration_batch(actor, school)
    for student in students:
        student.status = StudentStatus.PENDING
    students_insert(actor=actor, students=students, members=[members for _, members in entries], reason=reason)
    through = StatusChange.students.through
    through.objects.bulk_create([through(statuschange_id=change.pk, student_id=s.pk) for s in students],
                                batch_size=1000)
    return _submit_round(actor, _lock(change))


def _registration_batch(actor, school) -> StatusChange:
    change = StatusChange(kind=ChangeKind.REGISTRATION, school=school, from_school=school, initiated_by=actor,
                          reason_category="new_entry", school_path=school.path, province_code=school.province_code)
    save_with_history(change, actor=actor, reason="新生注册批次")
    return change


@transaction.atomic
def registration_remove_student(*, actor, change: StatusChange, student: Student) -> StatusChange:
    """Take ``student`` out of a draft registration batch (e.g. after a rejection, to resubmit the
    others). Only the initiator; the batch must be a draft."""
    change = _lock(change)
    _require_initiator(actor, change)
    if change.kind != ChangeKind.REGISTRATION or change.status != ChangeStatus.DRAFT:
        raise ValidationError("只能从草稿状态的注册批次中移出学生")
    change.students.remove(student)
    return change


def _set_students_status(change: StatusChange, actor, status: str, reason: str) -> None:
    students = list(change.students.all())
    for student in students:
        student.status = status
    try:
        # Set-based (xueji.bulk): rejecting a 10,000-student batch took 9.4 s with simple-history's
        # bulk_update_with_history.
        update_with_history(Student, students, ["status"], actor=actor, reason=reason)
    except IntegrityError as exc:
        raise ValidationError("批次中有学生的身份证件号已有在籍学籍（一人一籍），请核对后再提交") from exc


# --------------------------------------------------------------------------------------------
# Notifications and reminders


@transaction.atomic
def notifications_mark_read(*, actor, ids: list[int] | None = None) -> int:
    """Mark ``actor``'s notifications read (all unread when ``ids`` is None). Returns how many."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    # Notifications are not audited models (no history), so a bulk update is fine here.
    return qs.update(read_at=timezone.now())


@transaction.atomic
def steps_remind_overdue(*, actor=None, today: date | None = None) -> int:
    """Daily: tell the holders of every current step past its due date (once per step) and mark it.
    Returns the number of steps newly found overdue."""
    today = today or timezone.localdate()
    steps = list(ApprovalStep.objects.filter(status=StepStatus.CURRENT, due_date__lt=today,
                                             overdue_notified_at__isnull=True)
                 .select_related("change__student", "region", "school"))
    if not steps:
        return 0
    holders = notify.step_holders(steps)
    notes = [Notification(user_id=user_id, kind=Notification.Kind.STEP_OVERDUE, change_id=step.change_id,
                          message=f"逾期：{notify._label(step)}在{step.unit}已超过办理期限{step.due_date:%Y-%m-%d}")
             for step in steps for user_id in sorted(holders.get(step.pk, ()))]
    now = timezone.now()
    for step in steps:
        step.overdue_notified_at = now
    bulk_update_with_history(steps, ApprovalStep, ["overdue_notified_at"], default_user=actor,
                             default_change_reason="逾期提醒")
    notify.save_and_email(notes)
    return len(steps)


@transaction.atomic
def suspensions_remind_expired(*, actor=None, today: date | None = None) -> int:
    """Daily: tell each school's registrars about suspended students whose suspension has ended
    without a resumption (once per suspension end date; the list page shows them every day).
    Returns how many such students there are."""
    from .selectors import expired_suspensions

    today = today or timezone.localdate()
    students = list(expired_suspensions(Student.objects.all(), today=today).select_related("school"))
    holders = notify.unit_holders([(s.pk, s.school, "edit_students") for s in students])
    messages = {s.pk: f"休学到期未复学：{s.school}{s.name}（休学至{s.suspended_until:%Y-%m-%d}）" for s in students}
    # Once per suspension end: the message names the end date, so an extension is reminded again.
    already = set(Notification.objects.filter(kind=Notification.Kind.SUSPENSION_EXPIRED,
                                              message__in=messages.values()).values_list("message", flat=True))
    notes = []
    for student in students:
        message = messages[student.pk]
        if message in already:
            continue
        notes += [Notification(user_id=u, kind=Notification.Kind.SUSPENSION_EXPIRED, message=message)
                  for u in sorted(holders.get(student.pk, ()))]
    notify.save_and_email(notes)
    return len(students)


# --------------------------------------------------------------------------------------------
# Helpers


def _lock(change: StatusChange) -> StatusChange:
    """Re-read ``change`` with its row locked until the end of the transaction."""
    return (StatusChange.objects.select_for_update(of=("self",))
            .select_related("student__school", "student__grade", "school__authority", "region", "target_school",
                            "target_grade", "target_class", "from_school", "initiated_by")
            .get(pk=change.pk))


def _require_initiator(actor, change: StatusChange) -> None:
    if actor is None or actor.pk != change.initiated_by_id:
        raise PermissionDenied("只有业务发起人可以执行此操作")
