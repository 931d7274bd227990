"""Scoped reads of status changes, approval queues, escalations and notifications.

Who sees a change (issue 4): users in scope of the student's current school, of the change's
original school, of the target school, or of any unit on its route. Every region on a route is
an ancestor of the original or the target school (transfers.routes), so the three school paths
decide visibility in one indexed query. Outside them all → 404; inside without the right → 403.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from students.models import Student, StudentStatus
from xueji.access import Grants, grants_for

from .models import (
    OPEN_STATUSES,
    ROLE_CODENAME,
    ApprovalStep,
    ChangeKind,
    ChangeStatus,
    Notification,
    StatusChange,
    StepStatus,
)

CHANGE_RELATED = ("student__school", "student__grade", "student__school_class", "initiated_by", "school",
                  "region", "from_school", "from_grade", "from_class", "target_school", "target_grade",
                  "target_class")
STEP_RELATED = ("change__student__school", "change__student__grade", "change__initiated_by",
                "change__from_school", "change__target_school", "region", "school")
QUEUE_ROW_RELATED = ("change__student", "change__initiated_by", "change__from_school", "change__target_school",
                     "region", "school")


def _change_scope_q(grants: Grants) -> Q:
    q = Q(pk__in=[])
    for path in grants.region_paths:
        q |= (Q(school_path__startswith=path) | Q(target_school_path__startswith=path)
              | Q(student__school_path__startswith=path))
    if grants.school_ids:
        ids = grants.school_ids
        q |= Q(from_school_id__in=ids) | Q(target_school_id__in=ids) | Q(student__school_id__in=ids)
    if grants.class_ids:
        q |= Q(student__school_class_id__in=grants.class_ids)
    return q


def _change_in(grants: Grants, change: StatusChange) -> bool:
    student = change.student
    paths = [change.school_path, change.target_school_path, student.school_path if student else ""]
    schools = {change.from_school_id, change.target_school_id, student.school_id if student else None}
    return (any(p and p.startswith(g) for p in paths for g in grants.region_paths)
            or bool(schools & grants.school_ids)
            or bool(student and student.school_class_id in grants.class_ids))


def changes_for_user(user, codename: str | None = None) -> QuerySet:
    """Changes ``user`` may see (holding ``codename`` there when given), with their related rows."""
    return StatusChange.objects.filter(_change_scope_q(grants_for(user, codename))).select_related(*CHANGE_RELATED)


def change_for_user(user, pk: int, codename: str = "view_students") -> StatusChange:
    """The change ``pk`` for ``user``: Http404 when outside every unit that may see it,
    PermissionDenied when inside without ``codename``. Three queries (grants twice, the change)."""
    change = changes_for_user(user).filter(pk=pk).first()
    if change is None:
        raise Http404("业务不存在或不在您的管辖范围内")
    if not _change_in(grants_for(user, codename), change):
        raise PermissionDenied("您没有执行此操作的权限")
    return change


def route_steps(change: StatusChange) -> list[ApprovalStep]:
    """Every step of ``change``, all rounds, in order, with unit and decider (one query)."""
    return list(change.steps.select_related("region", "school", "decided_by").order_by("order"))


def step_for_user(user, pk: int) -> ApprovalStep:
    """The step ``pk`` for a decision: 404 when its change is invisible to ``user``, 403 when the
    user may not act on it (see ``services.can_act_on_step``)."""
    from .services import can_act_on_step

    step = ApprovalStep.objects.select_related(*STEP_RELATED).filter(pk=pk).first()
    if step is None:
        raise Http404("步骤不存在")
    change_for_user(user, step.change_id, "view_students")
    if not can_act_on_step(user, step):
        raise PermissionDenied("您不是该步骤所在单位的处理人")
    return step


def _queue_q(user) -> Q:
    """Current steps ``user`` may act on: bureau steps at a region where the user holds the step's
    right on that region or above; school steps only for holders on the school itself."""
    q = Q(pk__in=[])
    for role, codename in ROLE_CODENAME.items():
        grants = grants_for(user, codename)
        units = Q(pk__in=[])
        for path in grants.region_paths:
            units |= Q(region_id__isnull=False, unit_path__startswith=path)
        if grants.school_ids:
            units |= Q(school_id__in=grants.school_ids)
        q |= Q(role=role) & units
    return q


def queue_steps(user) -> QuerySet:
    """The user's queue: current steps waiting for their units (see ``_queue_q``), with the change,
    student, submitter and unit in the same query."""
    return ApprovalStep.objects.filter(_queue_q(user), status=StepStatus.CURRENT).select_related(*STEP_RELATED)


def queue_rows_of(steps) -> list[ApprovalStep]:
    """``steps`` (a page of a queue, any order) fetched again in that order with what a queue row
    shows: change, student, submitter, original and target school, and the step's unit (one query)."""
    ids = [step.pk for step in steps]
    found = ApprovalStep.objects.select_related(*QUEUE_ROW_RELATED).in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def escalation_steps(user, today: date) -> QuerySet:
    """Overdue current steps in the subtree of the user's ``approve_changes`` regions that are not
    in the user's own queue (下级逾期): the common superior sees them, read-only."""
    subtree = Q(pk__in=[])
    for path in grants_for(user, "approve_changes").region_paths:
        subtree |= Q(unit_path__startswith=path)
    return (ApprovalStep.objects.filter(subtree, status=StepStatus.CURRENT, due_date__lt=today)
            .exclude(_queue_q(user)).select_related(*STEP_RELATED))


def student_changes(student: Student) -> list[StatusChange]:
    """The student's changes (and registration batches), newest first, each with its steps
    (two queries)."""
    steps = Prefetch("steps", queryset=ApprovalStep.objects.select_related("region", "school", "decided_by")
                     .order_by("order"))
    return list(StatusChange.objects.filter(Q(student=student) | Q(students=student)).distinct()
                .select_related("initiated_by", "target_school", "from_school").prefetch_related(steps))


def open_change_of(student: Student) -> StatusChange | None:
    """The student's open business (在办业务), if any."""
    return StatusChange.objects.filter(student=student, status__in=OPEN_STATUSES).first()


def expired_suspensions(students: QuerySet, *, today: date) -> QuerySet:
    """Suspended students among ``students`` whose latest approved suspension ended before
    ``today`` and who have no open resumption; annotated with ``suspended_until``."""
    open_resumption = StatusChange.objects.filter(student=OuterRef("pk"), kind=ChangeKind.RESUMPTION,
                                                  status__in=OPEN_STATUSES)
    return (students.filter(status=StudentStatus.SUSPENDED)
            .annotate(suspended_until=Max("status_changes__end_date",
                                          filter=Q(status_changes__kind=ChangeKind.SUSPENSION,
                                                   status_changes__status=ChangeStatus.APPROVED)))
            .filter(suspended_until__lt=today).exclude(Exists(open_resumption)))


@dataclass(frozen=True)
class TransferCandidate:
    """What a receiving school may see of a student before the transfer: nothing more."""

    pk: int
    name: str
    gender: str
    school_name: str
    grade_name: str
    status: str
    stage: str
    level: int


def normalise_lookup(value: str) -> str:
    """Upper-case, full-width folded (NFKC), spaces removed: the form student and ID numbers are
    stored in."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()[:40]


def transfer_candidate(query: str) -> TransferCandidate | None:
    """The live student whose national student number or ID number is exactly ``query``, reduced
    to ``TransferCandidate``; None when there is none. Callers check the right and audit."""
    value = normalise_lookup(query)
    if len(value) < 6:
        return None
    student = (Student.objects.filter(Q(student_number=value) | Q(id_number=value),
                                      status__in=[StudentStatus.ACTIVE, StudentStatus.SUSPENDED])
               .select_related("school", "grade").first())
    if student is None:
        return None
    return TransferCandidate(pk=student.pk, name=student.name, gender=student.get_gender_display(),
                             school_name=student.school.name, grade_name=student.grade.name,
                             status=student.get_status_display(), stage=student.grade.stage,
                             level=student.grade.level)


def inbox(user) -> QuerySet:
    """The user's notifications, newest first."""
    return Notification.objects.filter(user=user).select_related("change")


def unread_count(user) -> int:
    """How many of the user's notifications are unread (one indexed query)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
