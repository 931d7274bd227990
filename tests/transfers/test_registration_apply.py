"""The final approval of a registration batch (transfers.appliers._registration): set-based writes
with one history row per student naming the approver and the change, a constant number of
queries whatever the batch size, no 500 on a clash, and (PostgreSQL, two connections) two batches
approved at the same moment both succeed with different numbers."""

import threading
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services import role_grant
from students.models import NumberKind, Student, StudentStatus
from tests.cast import _user
from transfers import appliers
from transfers.services import registration_submit, registration_submit_new, step_decide

from .conftest import make_student
from .test_decisions import current
from .test_rules import new_entry

BIRTH = date(2019, 3, 1)


def batch_at_bureau(cast, school, registrar, principal, count: int = 1, *, birth: date = BIRTH):
    """A registration batch of ``count`` new first-graders of ``school`` waiting at the county."""
    entries = [new_entry(school, birth=birth, name=f"新生{i}") for i in range(count)]
    change = registration_submit_new(actor=registrar, school=school, entries=entries, reason="测试：新生注册")
    step_decide(actor=principal, step=current(change), decision="approve")
    return change


@pytest.mark.django_db
class TestApply:
    def test_students_become_active_with_one_history_row_naming_the_approver(self, cast, today):
        change = batch_at_bureau(cast, cast.school_a, cast.registrar_a, cast.approver_a, 3)
        step_decide(actor=cast.county_approver, step=current(change), decision="approve")
        students = list(change.students.all())
        assert {(s.status, s.number_kind) for s in students} == {(StudentStatus.ACTIVE, NumberKind.L)}
        assert len({s.student_number for s in students}) == 3
        for student in students:
            row = student.history.first()
            assert (row.history_type, row.history_user, row.status, row.student_number) == (
                "~", cast.county_approver, StudentStatus.ACTIVE, student.student_number)
            assert row.history_change_reason == f"新生注册（业务编号 {change.pk}）：注册通过，学籍生效"
            assert student.history.count() == 2  # inserted pending, then this approval
            assert row.history_date == student.updated_at

    def test_query_count_does_not_grow_with_the_batch(self, cast, today):
        counts = []
        for count, school, registrar, principal in ((2, cast.school_a, cast.registrar_a, cast.approver_a),
                                                    (40, cast.school_a2, cast.registrar_a2, cast.approver_a2)):
            change = batch_at_bureau(cast, school, registrar, principal, count,
                                     birth=BIRTH.replace(day=1 + count % 27))
            step = current(change)
            approver = type(cast.county_approver).objects.get(pk=cast.county_approver.pk)  # no cached grants
            with CaptureQueriesContext(connection) as captured:
                step_decide(actor=approver, step=step, decision="approve")
            counts.append(len(captured))
            assert change.students.filter(status=StudentStatus.ACTIVE).count() == count
        assert counts[0] == counts[1]

    def test_a_clash_with_a_live_number_is_a_message_not_a_500(self, cast, today, monkeypatch):
        holder = make_student(cast.school_b, level=1)
        holder.student_number, holder.number_kind = f"L{holder.id_number}", NumberKind.L
        holder.save()
        change = batch_at_bureau(cast, cast.school_a, cast.registrar_a, cast.approver_a)

        def taken(students):  # as if another process gave out the same number meanwhile
            for student in students:
                student.student_number, student.number_kind = holder.student_number, NumberKind.L

        monkeypatch.setattr(appliers, "student_numbers_allocate", taken)
        with pytest.raises(ValidationError, match="学籍号"):
            step_decide(actor=cast.county_approver, step=current(change), decision="approve")
        assert change.students.get().status == StudentStatus.PENDING

    def test_a_student_changed_meanwhile_refuses_the_batch(self, cast, today):
        change = batch_at_bureau(cast, cast.school_a, cast.registrar_a, cast.approver_a, 2)
        changed = change.students.first()
        Student.objects.filter(pk=changed.pk).update(status=StudentStatus.DRAFT)  # simulating a concurrent write
        with pytest.raises(ValidationError, match="状态已变化"):
            step_decide(actor=cast.county_approver, step=current(change), decision="approve")
        assert change.students.filter(status=StudentStatus.ACTIVE).count() == 0

    def test_drafts_submitted_as_a_batch_get_numbers_too(self, cast, today):
        students = [make_student(cast.school_a, level=1, status=StudentStatus.DRAFT, number=False, name=f"新生{i}")
                    for i in range(2)]
        change = registration_submit(actor=cast.registrar_a, students=students)
        for user in (cast.approver_a, cast.county_approver):
            step_decide(actor=user, step=current(change), decision="approve")
        assert {s.number_kind for s in change.students.all()} == {NumberKind.L}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two real connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_batches_approved_at_the_same_moment_both_succeed_with_different_numbers(cast, today):
    """The reviewer's case: two one-student batches, same county, same birth date, the two final
    steps approved at once by two county approvers (4/4 tries gave an IntegrityError before)."""
    deputy = _user("county_approver_deputy", "郑副科长", cast.regions["340102"])
    role_grant(actor=None, user=deputy, role=Role.APPROVER, unit=cast.regions["340102"])
    changes = [batch_at_bureau(cast, cast.school_a, cast.registrar_a, cast.approver_a),
               batch_at_bureau(cast, cast.school_a2, cast.registrar_a2, cast.approver_a2)]
    barrier = threading.Barrier(2)
    results: dict[int, str] = {}

    def approve(change, user):
        try:
            step = current(change)
            barrier.wait(timeout=10)
            step_decide(actor=user, step=step, decision="approve", comment="并发测试")
            results[change.pk] = "ok"
        except Exception as exc:  # noqa: BLE001 - the test reports whatever escaped
            results[change.pk] = f"{type(exc).__name__}: {exc}"
        finally:
            connections.close_all()

    for _ in range(3):  # the race is easy to lose: try a few pairs
        threads = [threading.Thread(target=approve, args=(change, user))
                   for change, user in zip(changes, (cast.county_approver, deputy), strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert results == {changes[0].pk: "ok", changes[1].pk: "ok"}
        numbers = [c.students.get().student_number for c in changes]
        assert numbers[0] != numbers[1] and numbers[0][:15] == numbers[1][:15]
        assert all(c.students.get().status == StudentStatus.ACTIVE for c in changes)
        barrier.reset()
        results.clear()
        changes = [batch_at_bureau(cast, cast.school_a, cast.registrar_a, cast.approver_a),
                   batch_at_bureau(cast, cast.school_a2, cast.registrar_a2, cast.approver_a2)]
