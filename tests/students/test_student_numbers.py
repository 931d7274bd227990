"""student_numbers_allocate: L/J numbers from per-prefix counters that only grow (never reused),
lazily started after the highest sequence ever used (current numbers and history), and a constant
number of queries whatever the size of the batch."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from students import services
from students.models import NumberKind, Student, StudentNumberSequence, StudentStatus
from xueji.history import save_with_history

from .helpers import id_number, make_student

pytestmark = pytest.mark.django_db
BIRTH = date(2018, 3, 5)


def active(cast, **kw):
    return make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, **kw)


def sequence_of(number: str) -> int:
    return int(number[15:18])


class TestNeverReused:
    def test_a_verified_students_l_number_is_never_given_to_another_child(self, cast):
        first = active(cast, birth=BIRTH)
        services.student_number_assign(actor=cast.registrar_a, student=first)
        old_l = first.student_number
        services.student_verify(actor=cast.registrar_a, student=first)  # L → G: the L number is history now
        second = active(cast, birth=BIRTH, name="李四")
        services.student_number_assign(actor=cast.registrar_a, student=second)
        assert second.student_number != old_l
        assert second.student_number[:15] == old_l[:15] and sequence_of(second.student_number) > sequence_of(old_l)

    def test_a_number_held_only_in_history_is_not_reused_when_the_counter_is_missing(self, cast):
        """Numbers given out before the counters existed: the counter starts after the highest one
        found in the students and in their history rows."""
        first = active(cast, birth=BIRTH)
        services.student_number_assign(actor=cast.registrar_a, student=first)
        first.student_number = first.student_number[:15] + "007" + "0"  # the sequence is what counts here
        save_with_history(first, actor=None, reason="测试：旧系统学籍号", update_fields=["student_number"])
        services.student_verify(actor=cast.registrar_a, student=first)
        StudentNumberSequence.objects.all().delete()
        second = active(cast, birth=BIRTH, name="李四")
        services.student_number_assign(actor=cast.registrar_a, student=second)
        assert sequence_of(second.student_number) == 8

    def test_a_current_number_outside_history_also_counts(self, cast):
        first = active(cast, birth=BIRTH)
        services.student_number_assign(actor=cast.registrar_a, student=first)
        Student.objects.filter(pk=first.pk).update(  # legacy data written without history
            student_number=first.student_number[:15] + "0120")
        StudentNumberSequence.objects.all().delete()
        second = active(cast, birth=BIRTH, name="李四")
        services.student_number_assign(actor=cast.registrar_a, student=second)
        assert sequence_of(second.student_number) == 13

    def test_l_and_j_numbers_count_apart_and_follow_the_documented_format(self, cast):
        with_id = active(cast, birth=BIRTH)
        without = active(cast, birth=BIRTH, name="王无证", number="", id_type="Z")
        services.student_numbers_allocate([with_id, without])
        assert with_id.student_number.startswith(f"L340102{BIRTH:%Y%m%d}000") and with_id.number_kind == NumberKind.L
        assert without.student_number.startswith(f"J340102{BIRTH:%Y%m%d}000") and without.number_kind == NumberKind.J
        assert set(StudentNumberSequence.objects.values_list("prefix", "last")) == {
            (f"L340102{BIRTH:%Y%m%d}", 0), (f"J340102{BIRTH:%Y%m%d}", 0)}

    def test_a_used_up_prefix_is_refused_and_nothing_is_taken(self, cast):
        students = [active(cast, birth=BIRTH), active(cast, birth=BIRTH + timedelta(days=1), name="李四")]
        StudentNumberSequence.objects.create(prefix=f"L340102{BIRTH:%Y%m%d}", last=999)
        with pytest.raises(ValidationError, match="已用完"):
            services.student_numbers_allocate(students)
        assert not StudentNumberSequence.objects.filter(prefix__endswith=f"{BIRTH + timedelta(days=1):%Y%m%d}").exists()
        assert all(not s.student_number for s in students)

    def test_a_student_with_a_number_keeps_it(self, cast):
        student = active(cast, birth=BIRTH)
        services.student_verify(actor=cast.registrar_a, student=student)
        services.student_numbers_allocate([student])
        assert student.number_kind == NumberKind.G and not StudentNumberSequence.objects.exists()


class TestBatch:
    def unsaved(self, cast, count: int, *, days: int) -> list[Student]:
        """``count`` students of school_a born on ``days`` different dates (no database writes)."""
        school_class = cast.school_a.classes.select_related("grade").first()
        return [Student(school=cast.school_a, name=f"学生{i}", gender="1", birth_date=BIRTH + timedelta(days=i % days),
                        id_type="1", id_number=id_number(birth=BIRTH + timedelta(days=i % days)),
                        grade=school_class.grade, school_class=school_class, status=StudentStatus.PENDING)
                for i in range(count)]

    def test_numbers_within_a_batch_are_distinct_and_consecutive_per_prefix(self, cast):
        students = self.unsaved(cast, 12, days=3)
        services.student_numbers_allocate(students)
        numbers = [s.student_number for s in students]
        assert len(set(numbers)) == 12
        by_prefix: dict[str, list[int]] = {}
        for number in numbers:
            by_prefix.setdefault(number[:15], []).append(sequence_of(number))
        assert sorted(map(sorted, by_prefix.values())) == [[0, 1, 2, 3]] * 3
        more = self.unsaved(cast, 3, days=3)
        services.student_numbers_allocate(more)
        assert {sequence_of(s.student_number) for s in more} == {4}

    @pytest.mark.parametrize("count", [4, 400])
    def test_query_count_does_not_grow_with_the_batch(self, cast, count, django_assert_num_queries):
        students = self.unsaved(cast, count, days=count // 2)
        Student.objects.filter(pk=0).exists()  # warm up the connection
        with django_assert_num_queries(8):
            # 1-2. savepoint/release  3. counters already there (none)  4. highest sequence used in
            # the students  5. ... and in their history  6. insert the new counters  7. lock them in
            # prefix order  8. write their new "last" values
            services.student_numbers_allocate(students)
        assert len({s.student_number for s in students}) == count
