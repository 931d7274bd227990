"""The queue benchmark's bulk changes (bench/queue_data.py) are the rows the services make: same
change fields, same route, same step states and due dates, and the services can decide them."""

from datetime import date

import pytest
from django.utils import timezone

from bench import queue_data
from students.models import StudentStatus
from tests.transfers.conftest import make_student
from tests.transfers.test_rules import png
from transfers import rules
from transfers.deadlines import due_date_for
from transfers.models import ApprovalStep, ChangeStatus, StatusChange, StepStatus
from transfers.services import change_create_draft, change_submit, evidence_add, step_decide

pytestmark = pytest.mark.django_db

CHANGE_FIELDS = ("kind", "status", "round", "school_id", "region_id", "from_school_id", "from_grade_id",
                 "from_class_id", "target_school_id", "target_grade_id", "target_class_id", "school_path",
                 "target_school_path", "province_code", "reason_category", "payload", "initiated_by_id")
STEP_FIELDS = ("order", "round", "role", "region_id", "school_id", "unit_path", "status")


@pytest.fixture(autouse=True)
def autumn(monkeypatch):
    # Outside the blackout window and the last term, as tests/transfers does.
    monkeypatch.setattr(rules, "local_today", lambda: date(2026, 10, 20))


def bulk(student, *, kind, initiator, current, target_class=None, **dates):
    built = queue_data.change_rows(kind=kind, student=student, initiator=initiator, decider=initiator,
                                   current=current, became_current_at=timezone.now(), target_class=target_class,
                                   **dates)
    built.change.reason_category = {"transfer": "relocation", "suspension": "illness"}[kind]
    queue_data.rows_write([built], initiator=initiator)
    return StatusChange.objects.get(pk=built.change.pk)


def fields(change) -> tuple:
    return tuple(getattr(change, f) for f in CHANGE_FIELDS)


def steps(change) -> list[tuple]:
    return [tuple(getattr(s, f) for f in STEP_FIELDS) for s in change.steps.order_by("order")]


def current_step(change) -> ApprovalStep:
    return change.steps.get(status=StepStatus.CURRENT)


def target_in(school, student):
    return school.classes.get(grade__stage=student.grade.stage, grade__level=student.grade.level, number=1)


def test_a_same_county_transfer_matches_the_services_and_can_be_decided_to_the_end(cast):
    by_services = make_student(cast.school_a, name="甲")
    change = change_create_draft(actor=cast.registrar_a2, kind="transfer", student=by_services,
                                 target_class=target_in(cast.school_a2, by_services),
                                 reason_category="relocation", reason="随迁")
    change = change_submit(actor=cast.registrar_a2, change=change)
    # Route: school_a2 approver, school_a registrar and approver, county registrar and approver.
    for user in (cast.approver_a2, cast.registrar_a):
        step_decide(actor=user, step=current_step(change), decision="approve")
    change.refresh_from_db()

    in_bulk = make_student(cast.school_a, name="乙")
    made = bulk(in_bulk, kind="transfer", initiator=cast.registrar_a2, current=2,
                target_class=target_in(cast.school_a2, in_bulk))
    assert fields(made) == fields(change)
    assert steps(made) == steps(change)
    assert current_step(made).due_date == due_date_for("transfer", "school", current_step(made).became_current_at)
    assert made.history.count() == 1 and all(s.history.count() == 1 for s in made.steps.all())

    for user in (cast.approver_a, cast.county_registrar, cast.county_approver):
        step_decide(actor=user, step=current_step(made), decision="approve")
    made.refresh_from_db()
    in_bulk.refresh_from_db()
    assert made.status == ChangeStatus.APPROVED and in_bulk.school == cast.school_a2


def test_a_suspension_waiting_at_the_bureau_matches_the_services(cast):
    start, end = date(2026, 10, 20), date(2027, 4, 18)
    by_services = make_student(cast.school_a, name="丙")
    change = change_create_draft(actor=cast.registrar_a, kind="suspension", student=by_services,
                                 reason_category="illness", reason="因病", start_date=start, end_date=end)
    evidence_add(actor=cast.registrar_a, change=change, upload=png())
    change = change_submit(actor=cast.registrar_a, change=change)
    step_decide(actor=cast.approver_a, step=current_step(change), decision="approve")
    change.refresh_from_db()

    in_bulk = make_student(cast.school_a, name="丁")
    made = bulk(in_bulk, kind="suspension", initiator=cast.registrar_a, current=1, start_date=start, end_date=end)
    assert fields(made) == fields(change)
    assert steps(made) == steps(change)
    assert current_step(made).region == cast.regions["340102"]

    step_decide(actor=cast.county_approver, step=current_step(made), decision="approve")
    in_bulk.refresh_from_db()
    assert in_bulk.status == StudentStatus.SUSPENDED


def test_plan_gives_each_chosen_student_one_open_change_at_one_current_step_and_remove_clears_them(cast):
    for i in range(6):
        make_student(cast.school_a if i % 2 else cast.school_a2, name=f"学生{i}")
    initiator, decider = queue_data.bench_users()
    built = queue_data.plan(count=4, seed=7, now=timezone.now(), at_bureau=0.5, initiator=initiator,
                            decider=decider, school_code_prefix="340102")
    assert queue_data.rows_write(built, initiator=initiator) == 4
    made = StatusChange.objects.filter(initiated_by=initiator)
    assert made.count() == 4 and len({c.student_id for c in made}) == 4
    for change in made:
        assert change.status == ChangeStatus.PENDING
        assert change.steps.filter(status=StepStatus.CURRENT).count() == 1
        assert not change.steps.filter(status=StepStatus.APPROVED, decided_by__isnull=True).exists()

    assert queue_data.changes_remove(initiator) == 4
    assert not StatusChange.objects.filter(initiated_by=initiator).exists()
    assert not StatusChange.history.filter(initiated_by=initiator).exists()
    assert not ApprovalStep.history.filter(change_id__in=[c.pk for c in made]).exists()
