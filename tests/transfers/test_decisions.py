"""Submitting and deciding changes: the route walked step by step, maker–checker, rejection back to
draft, withdrawal, roll-back, batches and their query count."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from accounts.services import role_grant
from audits.models import AuditEvent
from tests.cast import _user
from transfers.models import ChangeStatus, Notification, StepStatus
from transfers.services import (
    change_create_draft,
    change_roll_back,
    change_submit,
    change_update_draft,
    change_withdraw,
    step_decide,
    steps_decide_batch,
)

from .conftest import make_student


def current(change):
    return change.steps.get(status=StepStatus.CURRENT)


def start_transfer(cast, student, *, receiving=None, actor=None):
    receiving = receiving or cast.school_a2
    actor = actor or {cast.school_a2.pk: cast.registrar_a2, cast.school_b.pk: cast.registrar_b}[receiving.pk]
    target = receiving.classes.get(grade__level=student.grade.level, grade__stage=student.grade.stage, number=1)
    change = change_create_draft(actor=actor, kind="transfer", student=student, target_class=target,
                                 reason_category="relocation", reason="随父母工作调动")
    return change_submit(actor=actor, change=change)


@pytest.fixture
def extra(cast):
    """Registrars at the county bureaus, who handle the bureau steps of transfer routes."""
    for username, role, unit in [("sending_registrar", Role.REGISTRAR, cast.school_a),
                                 ("yaohai_registrar", Role.REGISTRAR, cast.regions["340102"]),
                                 ("shushan_registrar", Role.REGISTRAR, cast.regions["340104"])]:
        user = _user(username, username, unit)
        role_grant(actor=None, user=user, role=role, unit=unit)
        setattr(cast, username, user)
    return cast


@pytest.mark.django_db
class TestSameCountyTransfer:
    def test_walks_the_route_and_moves_the_student(self, cast, today):
        student = make_student(cast.school_a)
        change = start_transfer(cast, student)
        assert change.status == ChangeStatus.PENDING
        deciders = [cast.approver_a2, cast.registrar_a, cast.approver_a, cast.county_registrar, cast.county_approver]
        for user in deciders:
            step_decide(actor=user, step=current(change), decision="approve", comment="同意")
        change.refresh_from_db()
        student.refresh_from_db()
        assert change.status == ChangeStatus.APPROVED and change.completed_at
        assert student.school == cast.school_a2 and student.grade.school == cast.school_a2
        assert student.school_class.school == cast.school_a2 and student.school_path == cast.school_a2.path
        last = student.history.first()
        assert last.history_user == cast.county_approver and "转学" in last.history_change_reason
        # The sending school still sees where the student went: the change keeps its original school.
        assert change.from_school == cast.school_a
        assert AuditEvent.objects.filter(kind="decision", message__contains="转学办结").count() == 1

    def test_first_step_is_current_with_a_due_date_and_its_approver_is_notified(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step = current(change)
        assert step.school == cast.school_a2 and step.role == "approver" and step.due_date
        assert Notification.objects.filter(user=cast.approver_a2, kind="step_arrived").count() == 1

    def test_initiator_is_told_when_the_change_is_completed(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        for user in [cast.approver_a2, cast.registrar_a, cast.approver_a, cast.county_registrar,
                     cast.county_approver]:
            step_decide(actor=user, step=current(change), decision="approve")
        assert Notification.objects.filter(user=cast.registrar_a2, kind="change_decided").exists()


@pytest.mark.django_db
class TestDecisionRules:
    def test_only_the_steps_unit_may_decide(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(PermissionDenied):
            step_decide(actor=cast.approver_a, step=current(change), decision="approve")

    def test_a_county_approver_does_not_decide_a_schools_step(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(PermissionDenied):
            step_decide(actor=cast.county_approver, step=current(change), decision="approve")

    def test_a_registrar_cannot_take_an_approver_step(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(PermissionDenied):
            step_decide(actor=cast.registrar_a2, step=current(change), decision="approve")

    def test_the_initiator_may_not_decide_even_holding_the_right(self, cast, today):
        role_grant(actor=None, user=cast.registrar_a2, role=Role.APPROVER, unit=cast.school_a2)
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(ValidationError, match="发起人不能审核"):
            step_decide(actor=cast.registrar_a2, step=current(change), decision="approve")

    def test_who_decided_an_earlier_step_may_not_decide_a_later_one(self, cast, today):
        role_grant(actor=None, user=cast.registrar_a, role=Role.APPROVER, unit=cast.school_a)
        change = start_transfer(cast, make_student(cast.school_a))
        step_decide(actor=cast.approver_a2, step=current(change), decision="approve")
        step_decide(actor=cast.registrar_a, step=current(change), decision="approve")
        with pytest.raises(ValidationError, match="审核与经办分离"):
            step_decide(actor=cast.registrar_a, step=current(change), decision="approve")

    def test_a_decided_step_cannot_be_decided_again(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step = current(change)
        step_decide(actor=cast.approver_a2, step=step, decision="approve")
        with pytest.raises(ValidationError, match="该步骤已由李校长|该步骤已由赵校长"):
            step_decide(actor=cast.approver_a2, step=step, decision="approve")

    def test_rejection_needs_a_reason(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(ValidationError, match="退回必须填写理由"):
            step_decide(actor=cast.approver_a2, step=current(change), decision="reject", comment="  ")


@pytest.mark.django_db
class TestRejection:
    def test_returns_the_change_to_draft_and_keeps_the_rejection_on_its_step(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step_decide(actor=cast.approver_a2, step=current(change), decision="approve")
        rejected = current(change)
        step_decide(actor=cast.registrar_a, step=rejected, decision="reject", comment="材料不全")
        change.refresh_from_db()
        rejected.refresh_from_db()
        assert change.status == ChangeStatus.DRAFT
        assert rejected.status == StepStatus.REJECTED and rejected.comment == "材料不全"
        assert not change.steps.filter(status__in=[StepStatus.WAITING, StepStatus.CURRENT]).exists()
        note = Notification.objects.get(user=cast.registrar_a2, kind="change_decided")
        assert "材料不全" in note.message

    def test_the_initiator_edits_and_resubmits_as_a_new_round(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step_decide(actor=cast.approver_a2, step=current(change), decision="reject", comment="班级不对")
        other_class = cast.school_a2.classes.get(grade__level=3, number=2)
        change_update_draft(actor=cast.registrar_a2, change=change, target_class=other_class, reason="已改班级")
        change = change_submit(actor=cast.registrar_a2, change=change)
        assert change.round == 2 and change.target_class == other_class
        assert list(change.steps.values_list("order", flat=True)) == list(range(1, 11))
        # The approver who rejected in round 1 decides the same step again in round 2.
        step_decide(actor=cast.approver_a2, step=current(change), decision="approve")

    def test_only_the_initiator_edits_a_draft(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step_decide(actor=cast.approver_a2, step=current(change), decision="reject", comment="x")
        with pytest.raises(PermissionDenied):
            change_update_draft(actor=cast.approver_a2, change=change, reason="改")


@pytest.mark.django_db
class TestWithdrawAndRollBack:
    def test_initiator_withdraws_before_the_first_decision(self, cast, today):
        student = make_student(cast.school_a)
        change = start_transfer(cast, student)
        change_withdraw(actor=cast.registrar_a2, change=change)
        change.refresh_from_db()
        assert change.status == ChangeStatus.WITHDRAWN
        assert not change.steps.filter(status=StepStatus.CURRENT).exists()
        # The student is free for new business.
        start_transfer(cast, student)

    def test_no_withdrawal_after_a_decision(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step_decide(actor=cast.approver_a2, step=current(change), decision="approve")
        with pytest.raises(ValidationError, match="已有审核人处理"):
            change_withdraw(actor=cast.registrar_a2, change=change)

    def test_someone_else_cannot_withdraw(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(PermissionDenied):
            change_withdraw(actor=cast.approver_a2, change=change)

    def test_a_bureau_rolls_back_a_stuck_change(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        step_decide(actor=cast.approver_a2, step=current(change), decision="approve")
        change_roll_back(actor=cast.county_approver, change=change, reason="长期未办理")
        change.refresh_from_db()
        assert change.status == ChangeStatus.ROLLED_BACK
        assert AuditEvent.objects.filter(kind="decision", message__contains="退回撤销").exists()

    def test_a_school_approver_cannot_roll_back(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(PermissionDenied):
            change_roll_back(actor=cast.approver_a, change=change, reason="x")

    def test_roll_back_needs_a_reason(self, cast, today):
        change = start_transfer(cast, make_student(cast.school_a))
        with pytest.raises(ValidationError):
            change_roll_back(actor=cast.county_approver, change=change, reason="")


@pytest.mark.django_db
class TestCrossCountyAndProvince:
    def test_cross_county_transfer_ends_in_the_new_class(self, cast, extra, today):
        student = make_student(cast.school_a)
        change = start_transfer(cast, student, receiving=cast.school_b)
        for user in [cast.approver_b, cast.shushan_registrar, cast.other_county_approver, cast.registrar_a,
                     cast.approver_a, cast.county_registrar, cast.county_approver]:
            step_decide(actor=user, step=current(change), decision="approve")
        student.refresh_from_db()
        assert student.school == cast.school_b and student.school_class.school == cast.school_b

    def test_cross_province_transfer_reaches_both_provinces(self, cast, today):
        student = make_student(cast.school_a)
        change = start_transfer(cast, student, receiving=cast.other_school, actor=cast.other_province_registrar)
        units = [str(s.unit) for s in change.steps.order_by("order")]
        assert units.count("湖北省") == 2 and units.count("安徽省") == 2
        assert change.province_code == "34"


@pytest.mark.django_db
class TestBatch:
    def test_decides_several_with_one_comment(self, cast, today):
        changes = [start_transfer(cast, make_student(cast.school_a, name=f"学生{i}")) for i in range(3)]
        steps = [current(c) for c in changes]
        decided = steps_decide_batch(actor=cast.approver_a2, steps=steps, decision="approve", comment="批量同意")
        assert len(decided) == 3
        for change in changes:
            assert current(change).school == cast.school_a and current(change).role == "registrar"

    def test_is_all_or_nothing(self, cast, today):
        changes = [start_transfer(cast, make_student(cast.school_a, name=f"学生{i}")) for i in range(2)]
        steps = [current(c) for c in changes]
        step_decide(actor=cast.approver_a2, step=steps[0], decision="approve")
        with pytest.raises(ValidationError, match="该步骤已由"):
            steps_decide_batch(actor=cast.approver_a2, steps=steps, decision="approve")
        assert current(changes[1]).pk == steps[1].pk

    def test_query_count_does_not_grow_with_the_batch(self, cast, today, django_assert_max_num_queries):
        def batch(n, prefix):
            changes = [start_transfer(cast, make_student(cast.school_a, name=f"{prefix}{i}")) for i in range(n)]
            steps = [current(c) for c in changes]
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            actor = type(cast.approver_a2).objects.get(pk=cast.approver_a2.pk)
            with CaptureQueriesContext(connection) as ctx:
                steps_decide_batch(actor=actor, steps=steps, decision="approve", comment="同意")
            return len(ctx.captured_queries)

        assert batch(2, "甲") == batch(8, "乙")
