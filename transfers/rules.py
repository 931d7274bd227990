"""The rules a status change must keep, checked at submission (``check_submit``) and, where the
state can have changed meanwhile, again at final approval (``check_still_applicable``).

Sources: 中小学生学籍管理办法 (2013) arts. 11–16, DESIGN.md §5, issue 4. Each rule raises
``ValidationError`` with a Chinese message the user can act on.
"""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from students.models import KEY_DATA_FIELDS, StudentStatus

from .models import OPEN_STATUSES, REASON_CATEGORIES, ChangeKind, ChangeStatus, StatusChange
from .policy import policy_for

COMPULSORY_STAGES = ("primary", "junior")
# Statuses a student must be in for each kind to start (registration checks its batch apart).
ALLOWED_STUDENT_STATUSES = {
    ChangeKind.TRANSFER: (StudentStatus.ACTIVE,),
    ChangeKind.SUSPENSION: (StudentStatus.ACTIVE, StudentStatus.SUSPENDED),  # suspended: an extension
    ChangeKind.RESUMPTION: (StudentStatus.SUSPENDED,),
    ChangeKind.WITHDRAWAL: (StudentStatus.ACTIVE, StudentStatus.SUSPENDED),
    ChangeKind.DROPOUT: (StudentStatus.ACTIVE, StudentStatus.SUSPENDED),
    ChangeKind.DEATH: (StudentStatus.ACTIVE, StudentStatus.SUSPENDED),
    ChangeKind.RETENTION: (StudentStatus.ACTIVE,),
    ChangeKind.ACCELERATION: (StudentStatus.ACTIVE,),
    ChangeKind.KEY_DATA_CORRECTION: (StudentStatus.ACTIVE, StudentStatus.SUSPENDED),
}
EVIDENCE_REQUIRED = (ChangeKind.SUSPENSION, ChangeKind.KEY_DATA_CORRECTION)


def kinds_available(student) -> list[str]:
    """The kinds (other than transfer and registration) that may be started for ``student`` now,
    judged on its status and stage only (the full rules run at submission)."""
    compulsory = student.grade.stage in COMPULSORY_STAGES
    return [kind for kind, statuses in ALLOWED_STUDENT_STATUSES.items()
            if kind != ChangeKind.TRANSFER and student.status in statuses
            and not (compulsory and kind in (ChangeKind.WITHDRAWAL, ChangeKind.RETENTION))]


def local_today() -> date:
    """Today in Asia/Shanghai (a function so that tests can move the clock)."""
    return timezone.localdate()


def check_submit(change: StatusChange) -> None:
    """Every rule for submitting ``change`` now. Raises ValidationError (field-keyed where a form
    field is at fault)."""
    if change.kind == ChangeKind.REGISTRATION:
        _check_registration(change)
        return
    _check_reason(change)
    _check_student_state(change)
    _check_no_other_open_change(change)
    CHECKS[change.kind](change, local_today())


def check_still_applicable(change: StatusChange) -> None:
    """Re-check, at final approval, the rules whose inputs may have changed since submission
    (the student's status, school and grade; the target class). Dates (blackout, last term) are
    judged at submission only: an application made in time is not refused for a slow review."""
    if change.kind == ChangeKind.REGISTRATION:
        return
    _check_student_state(change)
    student = change.student
    if change.from_school_id and student.school_id != change.from_school_id:
        raise ValidationError(f"{student.name}的学校已变化，本业务不再适用，请退回")
    if change.kind == ChangeKind.TRANSFER:
        _check_same_grade(change)
    if change.kind == ChangeKind.KEY_DATA_CORRECTION:
        _check_key_data_old_values(change)


def _check_registration(change: StatusChange) -> None:
    """A batch is registrable when its students are (``check_registration_students``). Checked
    again at each resubmission after a rejection."""
    check_registration_students(list(change.students.select_related("school", "grade")))


def check_registration_students(students: list) -> None:
    """The registration rules for a batch of ``students`` (saved drafts, or new unsaved records of
    transfers.services.registration_submit_new): no ID number live elsewhere or twice in the batch
    (一生一籍; students.services.registration_check) and every underage first-grader's liability
    form signed (agreements.services). A handful of queries whatever the batch size. Raises
    ValidationError listing the first 20 problems."""
    from agreements.services import liability_form_required_unsigned
    from students.services import registration_check

    problems = [str(p) for p in registration_check(students)]
    problems += [message for _, message in liability_form_required_unsigned(students)]
    if problems:
        raise ValidationError(problems[:20])


def _check_reason(change: StatusChange) -> None:
    categories = dict(REASON_CATEGORIES.get(change.kind, []))
    if change.reason_category not in categories:
        raise ValidationError({"reason_category": "请选择原因类别"})
    if not change.reason.strip():
        raise ValidationError({"reason": "请填写原因说明"})


def _check_student_state(change: StatusChange) -> None:
    student = change.student
    allowed = ALLOWED_STUDENT_STATUSES[change.kind]
    if student.status in allowed:
        return
    if change.kind == ChangeKind.TRANSFER and student.status == StudentStatus.SUSPENDED:
        raise ValidationError("该学生处于休学状态，休学期间不能转学，请先办理复学")
    if change.kind == ChangeKind.RESUMPTION:
        raise ValidationError("只有休学学生可以办理复学")
    raise ValidationError(f"该学生学籍状态为“{student.get_status_display()}”，不能办理{change.get_kind_display()}")


def _check_no_other_open_change(change: StatusChange) -> None:
    other = (StatusChange.objects.filter(student_id=change.student_id, status__in=OPEN_STATUSES)
             .exclude(pk=change.pk).first())
    if other is not None:
        raise ValidationError(
            f"该学生已有在办的{other.get_kind_display()}业务（编号 {other.pk}），同一时间只能办理一项学籍异动")


def _check_transfer(change: StatusChange, today: date) -> None:
    student = change.student
    if not student.student_number:
        raise ValidationError("该学生尚无全国学籍号，不能办理转学")
    if change.target_class_id is None:
        raise ValidationError({"target_class": "请选择转入班级"})
    if change.target_school_id == student.school_id:
        raise ValidationError({"target_class": "转入学校与学生现就读学校相同，校内调班不属于转学"})
    _check_same_grade(change)
    for province in sorted({student.school.province_code, change.target_school.province_code}):
        policy = policy_for(province)
        if policy.in_blackout(today):
            windows = "、".join(f"{_md_text(a)}至{_md_text(b)}" for a, b in policy.blackout_windows)
            raise ValidationError(f"每年{windows}为禁止转学时段，今天不受理新的转学申请")
        if student.grade.is_graduating and policy.in_last_term(today):
            start = _md_text(policy.spring_term_start)
            raise ValidationError(f"{student.grade.name}是毕业年级，最后一学期（{start}起）不办理转学")


def _check_same_grade(change: StatusChange) -> None:
    current, target = change.student.grade, change.target_grade
    if target is None or (current.stage, current.level) != (target.stage, target.level):
        raise ValidationError({"target_class": f"转学不得变更年级：该学生现为{current.name}，"
                                               f"转入班级属于{target.name if target else '未选择'}"})


def _check_suspension(change: StatusChange, today: date) -> None:
    _require_evidence(change, "休学须上传佐证材料（如病历、诊断证明、出国证明）")
    if not change.start_date or not change.end_date:
        raise ValidationError({"end_date": "请填写休学起止日期"})
    if change.end_date < change.start_date:
        raise ValidationError({"end_date": "休学结束日期不能早于开始日期"})
    max_days = policy_for(change.student.province_code).suspension_max_days
    if (change.end_date - change.start_date).days + 1 > max_days:
        raise ValidationError({"end_date": f"休学期限最长一学年（{max_days}天）；到期仍需休学的，请另行申请延长"})


def _check_resumption(change: StatusChange, today: date) -> None:
    student = change.student
    if change.target_class_id is None:
        raise ValidationError({"target_class": "复学须编入一个班级"})
    if change.target_school_id != student.school_id:
        raise ValidationError({"target_class": "复学编入的班级必须在本校"})
    current, target = student.grade, change.target_grade
    if target.stage != current.stage or target.level not in (current.level, current.level + 1):
        raise ValidationError({"target_class": f"复学只能编入原年级（{current.name}）或其下一年级"})


def _check_withdrawal(change: StatusChange, today: date) -> None:
    if change.student.grade.stage in COMPULSORY_STAGES:
        raise ValidationError("义务教育阶段学生不能办理退学（义务教育法第五条）")


def _check_dropout(change: StatusChange, today: date) -> None:
    if not change.follow_ups.exists():
        raise ValidationError({"follow_up": "辍学须先填写随访记录（劝返情况）"})


def _check_death(change: StatusChange, today: date) -> None:
    return None


def _check_retention(change: StatusChange, today: date) -> None:
    current = change.student.grade
    if current.stage in COMPULSORY_STAGES:
        raise ValidationError("义务教育阶段不实行留级")
    _check_grade_move(change, lower=True)


def _check_acceleration(change: StatusChange, today: date) -> None:
    _check_grade_move(change, lower=False)


def _check_grade_move(change: StatusChange, *, lower: bool) -> None:
    current, target = change.student.grade, change.target_grade
    if change.target_class_id is None:
        raise ValidationError({"target_class": "请选择编入的班级"})
    if change.target_school_id != change.student.school_id or target.stage != current.stage:
        raise ValidationError({"target_class": "只能编入本校同一学段的班级"})
    if (target.level < current.level) != lower or target.level == current.level:
        raise ValidationError({"target_class": "留级应编入低年级，跳级应编入高年级"})


def _check_key_data_correction(change: StatusChange, today: date) -> None:
    if not change.payload:
        raise ValidationError({"payload": "请至少修改一项关键数据"})
    unknown = set(change.payload) - set(KEY_DATA_FIELDS)
    if unknown:
        raise ValidationError({"payload": "只能变更姓名、性别、出生日期、身份证件类型、身份证件号、民族"})
    _require_evidence(change, "关键数据变更须上传佐证材料（如户口簿、身份证）")
    _check_key_data_old_values(change)


def _check_key_data_old_values(change: StatusChange) -> None:
    from .corrections import current_value

    for field, values in change.payload.items():
        if current_value(change.student, field) != values.get("old"):
            raise ValidationError(f"学籍中的{field}已被修改，与申请时不一致，请重新申请")


def _require_evidence(change: StatusChange, message: str) -> None:
    if not change.evidence.exists():
        raise ValidationError({"evidence": message})


def _md_text(value: str) -> str:
    month, day = value.split("-")
    return f"{int(month)}月{int(day)}日"


def suspension_end(student) -> date | None:
    """The end date of the student's latest approved suspension (or extension), or None."""
    last = (StatusChange.objects.filter(student=student, kind=ChangeKind.SUSPENSION, status=ChangeStatus.APPROVED)
            .order_by("-end_date").values_list("start_date", "end_date").first())
    return last[1] if last else None


def suspension_period(student) -> tuple[date, date] | None:
    """(first start, last end) of the student's current run of approved suspensions, or None."""
    rows = list(StatusChange.objects.filter(student=student, kind=ChangeKind.SUSPENSION,
                                            status=ChangeStatus.APPROVED)
                .order_by("-end_date").values_list("start_date", "end_date"))
    if not rows:
        return None
    start, end = rows[0]
    for prev_start, prev_end in rows[1:]:
        if prev_end + timedelta(days=1) < start:
            break
        start = prev_start
    return start, end


CHECKS = {
    ChangeKind.TRANSFER: _check_transfer,
    ChangeKind.SUSPENSION: _check_suspension,
    ChangeKind.RESUMPTION: _check_resumption,
    ChangeKind.WITHDRAWAL: _check_withdrawal,
    ChangeKind.DROPOUT: _check_dropout,
    ChangeKind.DEATH: _check_death,
    ChangeKind.RETENTION: _check_retention,
    ChangeKind.ACCELERATION: _check_acceleration,
    ChangeKind.KEY_DATA_CORRECTION: _check_key_data_correction,
}
