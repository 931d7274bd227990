"""imports.services: upload, validate, import in one transaction as one registration batch."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audits.models import AuditEvent
from imports.models import ImportBatch
from imports.services import batch_files_purge, batch_start, batch_upload
from students.models import FamilyMember, Student
from tests.imports.helpers import student_rows, upload, xlsx_bytes


def run(cast, rows, *, user=None, school=None, **kw):
    user, school = user or cast.registrar_a, school or cast.school_a
    batch = batch_upload(actor=user, school=school, upload=upload(xlsx_bytes(rows)), **kw)
    return batch_start(actor=user, batch=batch)


@pytest.mark.django_db
class TestImport:
    def test_a_good_file_imports_in_one_go_as_one_registration_batch_with_history(self, cast):
        batch = run(cast, student_rows(6))
        assert batch.status == ImportBatch.Status.IMPORTED, batch.file_errors
        students = Student.objects.filter(school=cast.school_a)
        assert students.count() == 6 and set(students.values_list("status", flat=True)) == {"pending"}
        assert FamilyMember.objects.filter(student__in=students).count() == 12
        change = batch.registration
        assert (change.kind, change.students.count(), change.initiated_by) == ("registration", 6, cast.registrar_a)
        for student in students:
            # Created directly as submitted: one history row, no draft step in between.
            created = student.history.get()
            assert (created.history_type, created.status) == ("+", "pending")
            assert created.history_user == cast.registrar_a
            assert f"导入批次#{batch.pk}" in created.history_change_reason
        steps = list(change.steps.order_by("order").values_list("status", "school_id", "region_id"))
        assert steps == [("current", cast.school_a.pk, None), ("waiting", None, cast.school_a.authority_id)]
        assert change.status == "pending" and change.submitted_at and change.round == 1
        member = FamilyMember.objects.filter(student__in=students).first()
        assert member.history.get().history_user == cast.registrar_a
        assert students.first().name_pinyin
        event = AuditEvent.objects.get(kind="other", target_id=str(change.pk))
        assert event.extra == {"import_batch": batch.pk, "rows": 6, "registration": change.pk}
        assert not batch.file and batch.file_deleted_at

    def test_one_bad_row_writes_nothing_and_names_row_and_column_then_the_fixed_file_imports(self, cast):
        rows = student_rows(5)
        rows[3]["性别"] = "男女"
        batch = run(cast, rows)
        assert batch.status == ImportBatch.Status.INVALID
        assert list(batch.errors.values_list("row_number", "column")) == [(5, "性别")]
        assert (batch.error_count, batch.error_rows, batch.total_rows) == (1, 1, 5)
        assert not Student.objects.exists() and not FamilyMember.objects.exists()
        assert not batch.file  # the user fixes the file and uploads it again
        rows[3]["性别"] = "女" if rows[3]["身份证件号"][16] in "02468" else "男"
        fixed = run(cast, rows)
        assert fixed.status == ImportBatch.Status.IMPORTED and Student.objects.count() == 5

    def test_a_validate_only_run_keeps_the_file_then_imports_on_request(self, cast, settings):
        batch = run(cast, student_rows(2), commit=False)
        assert batch.status == ImportBatch.Status.VALID and batch.file and not Student.objects.exists()
        assert Path(batch.file.path).is_relative_to(settings.PRIVATE_MEDIA_ROOT)
        batch = batch_start(actor=cast.registrar_a, batch=batch, commit=True)
        assert batch.status == ImportBatch.Status.IMPORTED and Student.objects.count() == 2

    def test_a_batch_cannot_be_started_twice(self, cast):
        batch = run(cast, student_rows(1))
        with pytest.raises(ValidationError):
            batch_start(actor=cast.registrar_a, batch=batch)
        assert Student.objects.count() == 1

    def test_files_of_the_celery_size_run_in_the_task(self, cast, settings, django_capture_on_commit_callbacks):
        settings.XUEJI_IMPORT_CELERY_ROWS = 3
        batch = batch_upload(actor=cast.registrar_a, school=cast.school_a, upload=upload(xlsx_bytes(student_rows(4))))
        assert batch.progress_total >= 3
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            queued = batch_start(actor=cast.registrar_a, batch=batch)
        assert queued.status == ImportBatch.Status.QUEUED and not Student.objects.exists()
        for callback in callbacks:
            callback()  # the task, eagerly
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.IMPORTED and batch.progress_done == 4
        assert Student.objects.filter(school=cast.school_a).count() == 4

    def test_the_task_takes_primary_keys_only(self, cast, settings, django_capture_on_commit_callbacks, monkeypatch):
        from imports import tasks

        settings.XUEJI_IMPORT_CELERY_ROWS = 1
        sent = []
        monkeypatch.setattr(tasks.run_import_batch, "delay", lambda *a, **kw: sent.append((a, kw)))
        batch = batch_upload(actor=cast.registrar_a, school=cast.school_a, upload=upload(xlsx_bytes(student_rows(1))))
        with django_capture_on_commit_callbacks(execute=True):
            batch_start(actor=cast.registrar_a, batch=batch)
        assert sent == [((batch.pk,), {"actor_id": cast.registrar_a.pk})]

    def test_a_registrar_of_another_school_cannot_upload(self, cast):
        with pytest.raises(PermissionDenied):
            batch_upload(actor=cast.registrar_b, school=cast.school_a, upload=upload(xlsx_bytes(student_rows(1))))

    def test_an_unreadable_file_is_refused_before_anything_is_stored(self, cast):
        with pytest.raises(ValidationError) as info:
            batch_upload(actor=cast.registrar_a, school=cast.school_a, upload=upload(b"not excel", "a.xlsx"))
        assert "不是 Excel 工作簿" in info.value.messages[0] and not ImportBatch.objects.exists()

    def test_old_files_are_purged(self, cast):
        batch = run(cast, student_rows(1), commit=False)
        path = Path(batch.file.path)
        assert batch_files_purge(now=timezone.now() + timedelta(days=6)) == 0 and path.exists()
        assert batch_files_purge(now=timezone.now() + timedelta(days=8)) == 1 and not path.exists()
        batch.refresh_from_db()
        assert not batch.file and batch.file_deleted_at


@pytest.mark.django_db
def test_a_number_taken_between_validation_and_write_fails_the_batch_and_writes_nothing(cast, monkeypatch):
    from imports import parsing
    from tests.imports.test_parsing import _existing

    rows = student_rows(3)
    _existing(cast, rows[1], school=cast.school_b, user=cast.registrar_b, live=True)
    # As if the other school registered the child after our validation had looked.
    monkeypatch.setattr(parsing, "duplicates", lambda valid_rows, school: [])
    batch = run(cast, rows)
    assert batch.status == ImportBatch.Status.FAILED and "未导入任何学生" in batch.file_errors[0]
    assert not Student.objects.filter(school=cast.school_a).exists() and not batch.registration
    assert not batch.file
