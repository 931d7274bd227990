"""一人一籍 under concurrency (PostgreSQL, two connections): two registrars making the same ID
number live at the same moment leave exactly one live record; the loser gets a Chinese
ValidationError naming the school that holds the number, not an IntegrityError or a 500."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from students import services
from students.models import LIVE_STATUSES, Student, StudentStatus

from .helpers import id_number, make_student

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]


def _run(workers):
    threads = [threading.Thread(target=w) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)


def test_two_simultaneous_registrations_of_one_id_number_leave_exactly_one_live(cast):
    number = id_number()
    drafts = {"a": make_student(cast.registrar_a, cast.school_a, number=number),
              "b": make_student(cast.registrar_b, cast.school_b, number=number)}
    actors = {"a": cast.approver_a, "b": cast.approver_b}
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def register(key):
        def work():
            try:
                student = Student.objects.get(pk=drafts[key].pk)
                barrier.wait(timeout=10)
                services.student_status_set(actor=actors[key], student=student, status=StudentStatus.PENDING,
                                            reason="提交注册（并发测试）")
                results[key] = "ok"
            except ValidationError as exc:
                results[key] = " ".join(exc.messages)
            finally:
                connections.close_all()
        return work

    _run([register("a"), register("b")])
    assert sorted(results.values()).count("ok") == 1
    loser = next(msg for msg in results.values() if msg != "ok")
    assert "一人一籍" in loser and ("瑶海区第一小学" in loser or "蜀山区实验小学" in loser)
    assert Student.objects.filter(id_number=number, status__in=LIVE_STATUSES).count() == 1


def test_the_database_refuses_what_the_application_check_could_not_see(cast):
    """B checks while A's transaction is still open (registration_check sees no holder), then
    writes: the partial unique index makes B wait for A's commit and refuse."""
    number = id_number()
    a = make_student(cast.registrar_a, cast.school_a, number=number)
    b = make_student(cast.registrar_b, cast.school_b, number=number)
    a_written, results = threading.Event(), {}

    def first():
        try:
            with transaction.atomic():
                services.student_status_set(actor=cast.approver_a, student=Student.objects.get(pk=a.pk),
                                            status=StudentStatus.ACTIVE, reason="注册通过")
                a_written.set()
                time.sleep(1.0)  # hold the transaction open while B checks and writes
            results["a"] = "ok"
        finally:
            connections.close_all()

    def second():
        try:
            a_written.wait(timeout=10)
            student = Student.objects.get(pk=b.pk)
            results["check"] = services.registration_check([student])
            services.student_status_set(actor=cast.approver_b, student=student, status=StudentStatus.ACTIVE,
                                        reason="注册通过")
            results["b"] = "ok"
        except ValidationError as exc:
            results["b"] = " ".join(exc.messages)
        finally:
            connections.close_all()

    _run([first, second])
    assert results["a"] == "ok" and results["check"] == []
    assert "瑶海区第一小学" in results["b"]
    assert list(Student.objects.filter(id_number=number, status__in=LIVE_STATUSES).values_list("pk", flat=True)) == [
        a.pk]
