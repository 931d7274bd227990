"""Open status changes in bulk for the queue benchmark, shaped as transfers.services makes them.

Through the services (``change_create_draft`` + ``change_submit`` + one ``step_decide`` per earlier
step) a change costs 50–100 queries; 10,000 of them would take the best part of an hour on this
machine. So the rows are built in memory with the services' own parts — ``transfers.routes.route_for``
for the route, ``transfers.deadlines.due_date_for`` for every due date, the same field assignments
as ``change_create_draft`` — and written with ``bulk_create_with_history`` (one history row per
change and per step, naming the bench initiator). tests/bench/test_queue_data.py checks that a
change made here equals the one the services make for the same student and stage, and that the
services can decide it to the end.

What the bulk path leaves out: evidence files, notifications and audit events of the earlier
steps (the queue page reads none of them), and the intermediate history rows of each decision.
All bench changes are initiated by ``bench_queue_initiator``; ``changes_remove`` deletes them with
their steps, history rows and notifications.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from simple_history.utils import bulk_create_with_history

INITIATOR = "bench_queue_initiator"
DECIDER = "bench_queue_decider"
KIND_SHARES = (("transfer", 0.5), ("suspension", 0.35), ("withdrawal", 0.15))
SAME_COUNTY_SHARE = 0.7
REASONS = {
    "transfer": ("relocation", "随父母工作调动（基准测试）"),
    "suspension": ("illness", "因病休学（基准测试）"),
    "withdrawal": ("abroad", "出国（境）学习（基准测试）"),
}
# A step waits this long before the next one arrives (earlier steps of a bench change).
STEP_GAP = timedelta(days=1)


@dataclass
class Built:
    """One change and its steps, unsaved."""

    change: object
    steps: list


def bench_users():
    """(initiator, decider): the plain accounts bench changes are initiated and decided by
    (created through accounts.services the first time; no role grants: they never log in)."""
    from accounts.models import User
    from accounts.services import user_create

    users = []
    for username, real_name in ((INITIATOR, "基准发起人"), (DECIDER, "基准经办人")):
        user = User.objects.filter(username=username).first() or user_create(
            actor=None, username=username, real_name=real_name, password="bench-Pass-2026",
            must_change_password=False)
        users.append(user)
    return users[0], users[1]


def change_rows(*, kind: str, student, initiator, decider, current: int, became_current_at: datetime,
                target_class=None, start_date: date | None = None, end_date: date | None = None) -> Built:
    """The unsaved rows of a submitted change whose step ``current`` (0-based index into its route)
    is current since ``became_current_at``: earlier steps approved by ``decider`` one ``STEP_GAP``
    apart, later ones waiting. ``student`` needs school (with authority and region), grade and
    class loaded; ``target_class`` (transfers) its school (with authority) and grade.
    A ``current`` past the end of the route is clipped to its last step."""
    from transfers.deadlines import due_date_for
    from transfers.models import ApprovalStep, ChangeStatus, StatusChange, StepStatus
    from transfers.routes import route_for

    school = student.school
    category, reason = REASONS.get(kind, ("other", "基准测试"))
    change = StatusChange(kind=kind, student=student, initiated_by=initiator, from_school=school,
                          from_grade=student.grade, from_class=student.school_class, school_path=school.path,
                          province_code=school.province_code, reason_category=category, reason=reason,
                          start_date=start_date, end_date=end_date, status=ChangeStatus.PENDING, round=1)
    if kind == "transfer":
        change.school = target_class.school
        change.target_class, change.target_grade = target_class, target_class.grade
        change.target_school, change.target_school_path = target_class.school, target_class.school.path
    else:
        change.school = school
    route = route_for(change)
    current = min(current, len(route) - 1)
    change.submitted_at = became_current_at - current * STEP_GAP
    steps = []
    for index, (unit, role) in enumerate(route):
        is_region = unit._meta.model_name == "region"
        step = ApprovalStep(change=change, order=index + 1, round=1, role=role, unit_path=unit.path,
                            region=unit if is_region else None, school=None if is_region else unit)
        if index <= current:
            step.became_current_at = change.submitted_at + index * STEP_GAP
            step.due_date = due_date_for(kind, unit.level if is_region else "school", step.became_current_at)
        if index < current:
            step.status, step.decided_by, step.comment = StepStatus.APPROVED, decider, "同意"
            step.decided_at = step.became_current_at + STEP_GAP
        elif index == current:
            step.status = StepStatus.CURRENT
        else:
            step.status = StepStatus.WAITING
        steps.append(step)
    return Built(change, steps)


@transaction.atomic
def rows_write(built: list[Built], *, initiator) -> int:
    """Insert the changes, then their steps, each with one history row naming ``initiator``.
    Returns the number of changes written."""
    from transfers.models import ApprovalStep, StatusChange

    changes = bulk_create_with_history([b.change for b in built], StatusChange, batch_size=2000,
                                       default_user=initiator, default_change_reason="新建并提交（基准测试）")
    steps = []
    for b, change in zip(built, changes, strict=True):
        for step in b.steps:
            step.change = change
            steps.append(step)
    bulk_create_with_history(steps, ApprovalStep, batch_size=5000, default_user=initiator,
                             default_change_reason="提交生成审核步骤（基准测试）")
    return len(changes)


def changes_remove(initiator) -> int:
    """Delete every change ``initiator`` started, with its steps, notifications and history rows (a
    bench tool: it deletes history on purpose). Audit events stay (the log is append-only; the
    benchmark's own decisions are rolled back and leave none). Returns the count."""
    from transfers.models import ApprovalStep, Evidence, FollowUp, Notification, StatusChange

    ids = list(StatusChange.objects.filter(initiated_by=initiator).values_list("pk", flat=True))
    with transaction.atomic():
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            for model in (Notification, Evidence, FollowUp):
                model.objects.filter(change_id__in=chunk).delete()
            # One DELETE each, without Django's per-row collection and the "-" history row
            # simple-history would write for every deleted step and change.
            for queryset in (ApprovalStep.objects.filter(change_id__in=chunk),
                             StatusChange.objects.filter(pk__in=chunk),
                             ApprovalStep.history.filter(change_id__in=chunk),
                             StatusChange.history.filter(id__in=chunk)):
                queryset._raw_delete(queryset.db)
    return len(ids)


def plan(*, count: int, seed: int, now: datetime, at_bureau: float, initiator, decider,
         school_code_prefix: str = "9") -> list[Built]:
    """``count`` changes for random active students of the schools whose code starts with
    ``school_code_prefix`` (the generated ones), without open business: half transfers (70 % to
    another school of the same county, the rest to another county), 35 % suspensions, 15 %
    withdrawals (senior students; others get a suspension). With probability ``at_bureau`` a change
    waits at one of its bureau approver steps, else at any step of its route; it arrived there
    0–15 days before ``now`` (so some are overdue). Same seed, same data on the same database."""
    from schools.models import Region, SchoolClass
    from students.models import Student, StudentStatus
    from transfers.models import OPEN_STATUSES, StatusChange
    from transfers.routes import route_for

    rng = random.Random(seed)
    busy = set(StatusChange.objects.filter(status__in=OPEN_STATUSES, student__isnull=False)
               .values_list("student_id", flat=True))
    pool = [pk for pk in Student.objects.filter(school__school_code__startswith=school_code_prefix,
                                                 status=StudentStatus.ACTIVE)
            .order_by("pk").values_list("pk", flat=True) if pk not in busy]
    chosen = sorted(rng.sample(pool, min(count, len(pool))))
    students = []
    for start in range(0, len(chosen), 2000):
        students += list(Student.objects.filter(pk__in=chosen[start:start + 2000]).select_related(
            "school__authority", "school__region", "grade", "school_class").order_by("pk"))
    classes = _classes_by_grade(SchoolClass.objects.filter(school__school_code__startswith=school_code_prefix)
                                .select_related("grade", "school__authority", "school__region").order_by("pk"))
    out = []
    for student in students:
        kind = _kind(rng, student)
        target = _target_class(rng, student, classes) if kind == "transfer" else None
        if kind == "transfer" and target is None:
            kind = "suspension"
        today = now.date()
        start_date, end_date = (today, today + timedelta(days=180)) if kind == "suspension" else (None, None)
        probe = change_rows(kind=kind, student=student, initiator=initiator, decider=decider, current=0,
                            became_current_at=now, target_class=target)
        route = route_for(probe.change)
        bureau = [i for i, (unit, role) in enumerate(route) if isinstance(unit, Region) and role == "approver"]
        current = rng.choice(bureau) if bureau and rng.random() < at_bureau else rng.randrange(len(route))
        arrived = now - timedelta(days=rng.uniform(0, 15))
        out.append(change_rows(kind=kind, student=student, initiator=initiator, decider=decider, current=current,
                               became_current_at=arrived, target_class=target, start_date=start_date,
                               end_date=end_date))
    return out


def _kind(rng: random.Random, student) -> str:
    kind = rng.choices([k for k, _ in KIND_SHARES], weights=[w for _, w in KIND_SHARES])[0]
    # Compulsory-stage students cannot withdraw (DESIGN.md §5).
    return "suspension" if kind == "withdrawal" and student.grade.stage != "senior" else kind


def _classes_by_grade(classes) -> dict:
    by_grade: dict[tuple, list] = {}
    for school_class in classes:
        key = (school_class.grade.stage, school_class.grade.level)
        by_grade.setdefault(key, []).append(school_class)
        by_grade.setdefault((school_class.school.region_id, *key), []).append(school_class)
    return by_grade


def _target_class(rng: random.Random, student, classes: dict):
    """A class of the same stage and level in another school: of the same county for most, else
    of another county. None when there is none."""
    key = (student.grade.stage, student.grade.level)
    same = [c for c in classes.get((student.school.region_id, *key), []) if c.school_id != student.school_id]
    if same and rng.random() < SAME_COUNTY_SHARE:
        return rng.choice(same)
    others = classes.get(key, [])
    for _ in range(20):
        candidate = rng.choice(others) if others else None
        if candidate is not None and candidate.school.region_id != student.school.region_id:
            return candidate
    return rng.choice(same) if same else None
