"""xueji.bulk.bulk_insert_with_history and update_with_history write what simple-history's
bulk_create_with_history and bulk_update_with_history write."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from students.models import FamilyMember, Student, StudentStatus
from students.services import students_build
from tests.students.helpers import student_data
from xueji.bulk import RowsChanged, bulk_insert_with_history, update_with_history

# Set by the database or by the call itself, so they differ between the two ways of writing.
VARYING = {"id", "created_at", "updated_at"}


def stored(student: Student) -> dict:
    values = Student.objects.filter(pk=student.pk).values().get()
    return {k: v for k, v in values.items() if k not in VARYING}


def build(cast, count: int, status=StudentStatus.DRAFT, **extra) -> list[Student]:
    entries = [(student_data(cast.school_a, name=f"王{'一二三四五'[i]}", **extra), []) for i in range(count)]
    students = students_build(school=cast.school_a, entries=entries)
    for student in students:
        student.status = status
    return students


@pytest.mark.django_db
class TestBulkInsertWithHistory:
    def test_rows_and_history_equal_those_of_bulk_create_with_history(self, cast):
        extra = {"school_distance_km": Decimal("1.5"), "birth_date": date(2018, 3, 5),
                 "current_address": "制表符\t换行\n反斜杠\\"}
        ours, theirs = build(cast, 3, **extra), build(cast, 3, **extra)
        for student in ours + theirs:
            student.enrolled_on = None  # a null date
        bulk_insert_with_history(Student, ours, actor=cast.registrar_a, reason="批量导入")
        bulk_create_with_history(theirs, Student, default_user=cast.registrar_a, default_change_reason="批量导入")
        for mine, other in zip(ours, theirs, strict=True):
            assert mine.pk and not mine._state.adding
            assert stored(mine) | {"id_number": ""} == stored(other) | {"id_number": ""}
            row = Student.objects.get(pk=mine.pk)
            assert row.current_address == "制表符\t换行\n反斜杠\\" and row.school_distance_km == Decimal("1.5")
            history = row.history.get()
            assert (history.history_type, history.history_user, history.history_change_reason) == (
                "+", cast.registrar_a, "批量导入")
            assert history.history_date == row.created_at == row.updated_at
            tracked = {f.attname: getattr(history, f.attname) for f in Student.history.model.tracked_fields}
            assert tracked == {f.attname: getattr(row, f.attname) for f in Student._meta.concrete_fields}

    def test_saved_objects_update_later_and_children_refer_to_them(self, cast):
        students = build(cast, 2)
        bulk_insert_with_history(Student, students, actor=None, reason="")
        members = [FamilyMember(student=s, order=1, name="王建国", relation="51") for s in students]
        bulk_insert_with_history(FamilyMember, members, actor=cast.registrar_a, reason="成员")
        assert [m.student_id for m in FamilyMember.objects.order_by("pk")] == [s.pk for s in students]
        students[0].phone = "13900000000"
        students[0].save(update_fields=["phone"])
        assert Student.objects.count() == 2 and students[0].history.count() == 2
        assert students[1].history.get().history_user is None

    def test_a_constraint_refuses_the_whole_call(self, cast):
        live = build(cast, 1, status=StudentStatus.ACTIVE)
        bulk_insert_with_history(Student, live, actor=None)
        clash = build(cast, 2, status=StudentStatus.PENDING)
        clash[1].id_number = live[0].id_number
        with pytest.raises(IntegrityError), transaction.atomic():
            bulk_insert_with_history(Student, clash, actor=None)
        assert Student.objects.count() == 1 and Student.history.count() == 1


@pytest.mark.django_db
class TestUpdateWithHistory:
    def written(self, cast, status=StudentStatus.PENDING) -> list[Student]:
        students = build(cast, 3, status=status)
        bulk_insert_with_history(Student, students, actor=cast.registrar_a, reason="录入")
        return students

    def change(self, students, first: int = 0):
        for i, student in enumerate(students, start=first):
            student.status, student.student_number, student.number_kind = StudentStatus.ACTIVE, f"L{i}", "L"
            student.phone = "13900000000"  # not among the fields written: stays as stored

    def test_rows_and_history_equal_those_of_bulk_update_with_history(self, cast):
        ours, theirs = self.written(cast), self.written(cast)
        self.change(ours)
        self.change(theirs, 3)
        fields = ["status", "student_number", "number_kind"]
        assert update_with_history(Student, ours, fields, actor=cast.approver_a, reason="注册通过",
                                   where={"status": StudentStatus.PENDING}) == 3
        bulk_update_with_history(theirs, Student, fields, default_user=cast.approver_a,
                                 default_change_reason="注册通过")
        for mine, other in zip(ours, theirs, strict=True):
            assert stored(mine) | {"id_number": "", "student_number": ""} == stored(other) | {
                "id_number": "", "student_number": ""}
            row = Student.objects.get(pk=mine.pk)
            assert (row.status, row.student_number, row.phone) == (StudentStatus.ACTIVE, mine.student_number, "")
            history = row.history.first()
            assert (history.history_type, history.history_user, history.history_change_reason) == (
                "~", cast.approver_a, "注册通过")
            assert history.history_date == row.updated_at == mine.updated_at and row.updated_at > row.created_at
            tracked = {f.attname: getattr(history, f.attname) for f in Student.history.model.tracked_fields}
            assert tracked == {f.attname: getattr(row, f.attname) for f in Student._meta.concrete_fields}
            assert row.history.count() == 2

    def test_a_row_that_changed_meanwhile_refuses_the_whole_call(self, cast):
        students = self.written(cast)
        Student.objects.filter(pk=students[2].pk).update(status=StudentStatus.DRAFT)  # as another process would
        self.change(students)
        with pytest.raises(RowsChanged):
            update_with_history(Student, students, ["status"], actor=None, where={"status": StudentStatus.PENDING})
        assert not Student.objects.filter(status=StudentStatus.ACTIVE).exists() and Student.history.count() == 3

    def test_a_constraint_refuses_the_whole_call(self, cast):
        students = self.written(cast)
        self.change(students)
        students[2].student_number = students[0].student_number  # two live records, one number
        with pytest.raises(IntegrityError), transaction.atomic():
            update_with_history(Student, students, ["status", "student_number", "number_kind"], actor=None)
        assert not Student.objects.filter(status=StudentStatus.ACTIVE).exists() and Student.history.count() == 3
