"""Two approvers deciding the same step at the same moment: exactly one decision (PostgreSQL, two
connections). The change row is locked with SELECT ... FOR UPDATE, so the second waits, then sees
the step decided and gets a clear message."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from accounts.models import Role
from accounts.services import role_grant
from tests.cast import _user
from transfers.models import ApprovalStep, StepStatus
from transfers.services import step_decide

from .conftest import make_student
from .test_decisions import current, start_transfer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("decisions", [("approve", "approve"), ("approve", "reject")])
def test_two_concurrent_decisions_on_one_step_make_exactly_one(cast, today, decisions):
    second = _user("approver_a2_deputy", "钱副校长", cast.school_a2)
    role_grant(actor=None, user=second, role=Role.APPROVER, unit=cast.school_a2)
    change = start_transfer(cast, make_student(cast.school_a))
    step_pk = current(change).pk
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def decide(user, decision):
        try:
            step = ApprovalStep.objects.get(pk=step_pk)
            barrier.wait(timeout=10)
            step_decide(actor=user, step=step, decision=decision, comment="并发测试")
            results[user.username] = "ok"
        except ValidationError as exc:
            results[user.username] = " ".join(exc.messages)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(user, decision))
               for user, decision in zip((cast.approver_a2, second), decisions, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results.values(), key=len)[0] == "ok"
    loser = [msg for msg in results.values() if msg != "ok"]
    assert len(loser) == 1 and "该步骤已由" in loser[0] and "处理" in loser[0]
    step = ApprovalStep.objects.get(pk=step_pk)
    assert step.status in (StepStatus.APPROVED, StepStatus.REJECTED) and step.decided_by is not None
    # Exactly one decision, exactly one next step current (or none after a rejection).
    assert change.steps.filter(decided_by__isnull=False).count() == 1
    assert change.steps.filter(status=StepStatus.CURRENT).count() == (1 if step.status == "approved" else 0)
