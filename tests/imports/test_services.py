"""imports.services: upload, validate, import in one transaction as one registration batch."""

import pytest

from imports.models import ImportBatch
from imports.services import batch_start, batch_upload
from students.models import FamilyMember, Student
from tests.imports.helpers import student_rows, upload, xlsx_bytes


def run(cast, rows, *, user=None, school=None, **kw):
    user, school = user or cast.registrar_a, school or cast.school_a
    batch = batch_upload(actor=user, school=school, upload=upload(xlsx_bytes(rows)), **kw)
    return batch_start(actor=user, batch=batch)


@pytest.mark.django_db
class TestImport:
    def test_a_good_file_imports_in_one_go_as_one_registration_batch(self, cast):
        batch = run(cast, student_rows(6))
        assert batch.status == ImportBatch.Status.IMPORTED, batch.file_errors
        students = Student.objects.filter(school=cast.school_a)
        assert students.count() == 6 and set(students.values_list("status", flat=True)) == {"pending"}
        assert FamilyMember.objects.filter(student__in=students).count() == 12
        change = batch.registration
        assert change.kind == "registration" and change.students.count() == 6
        first = students.first()
        created = first.history.order_by("history_id").first()
        assert created.history_type == "+" and created.history_user == cast.registrar_a
        assert f"导入批次#{batch.pk}" in created.history_change_reason
        assert not batch.file
