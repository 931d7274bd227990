"""students.selectors: history display and the ID-number holders shared by the form and the import."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from students import selectors, services
from students.models import StudentStatus

from .helpers import make_student

pytestmark = pytest.mark.django_db


class TestHistory:
    def test_times_are_shown_in_local_time_to_the_minute(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        services.student_number_assign(actor=cast.registrar_a, student=student)
        services.student_verify(actor=cast.registrar_a, student=student)
        [(label, old, new)] = [c for e in selectors.student_history(student) for c in e["changes"]
                               if c[0] == "核验时间"]
        assert old == "" and new == timezone.localtime(student.verified_at).strftime("%Y-%m-%d %H:%M")

    def test_a_utc_time_becomes_shanghai_time(self):
        from students.models import Student

        value = datetime(2026, 11, 29, 13, 30, 50, 813807, tzinfo=UTC)
        assert selectors._display(Student, "verified_at", value) == "2026-11-29 21:30"
