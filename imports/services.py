"""Writes of the Excel import: upload, validate, import, clean up (issue 3 §7, DESIGN.md §4, §7).

The life of a batch: ``batch_upload`` stores the file (private storage) and counts its rows;
``batch_start`` runs ``batch_run`` in the request, or in Celery from XUEJI_IMPORT_CELERY_ROWS
rows on (5,000); ``batch_run`` validates every row (imports.parsing) and, only when all rows are
valid, imports the whole file in ONE transaction (``_import_rows``): one registration batch
(transfers.services.registration_submit_new: the registration rules on all rows, then the students
created pending with their two family members, in bulk, one history row each naming the actor and
the batch, then the batch's approval steps), then an audit event. A dry run (``commit=False``)
stops after validation; ``batch_start`` on the valid batch imports it later.

Files: deleted as soon as they are not needed (after an import, after a validation that found
errors: the user uploads the corrected file as a new batch), otherwise after
XUEJI_IMPORT_RETENTION_DAYS (7) by ``batch_files_purge`` (nightly Celery beat task).
"""

import gc
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import School
from xueji.access import require_unit_perm

from .models import ImportBatch, ImportRowError
from .parsing import FileRejected, Validation, ValidRow, limit, open_sheet, sniff, validate_file

# Bytes per data row of a typical compressed sheet: estimates the rows of a file without a
# <dimension> element (to choose between the request and Celery).
BYTES_PER_ROW = 130
MAX_STORED_ERRORS = 50_000
WRITE_BATCH = 1000


def retention_days() -> int:
    """Days an uploaded file not imported yet is kept (XUEJI_IMPORT_RETENTION_DAYS, default 7)."""
    return int(getattr(settings, "XUEJI_IMPORT_RETENTION_DAYS", 7))


def batch_upload(*, actor, school: School, upload, commit: bool = True) -> ImportBatch:
    """Store ``upload`` (a Django UploadedFile) as a new batch of ``school``.

    ``commit``: import when every row is valid (False: validate only). ``actor`` needs
    ``edit_students`` on ``school``. The file is checked (``parsing.sniff``) and its headers read
    before anything is stored, and stored under PRIVATE_MEDIA_ROOT with a random name. Returns the
    batch (status uploaded, ``progress_total`` = estimated rows). Raises PermissionDenied, or
    ValidationError with the Chinese reason the file cannot be read.
    """
    require_unit_perm(actor, "edit_students", school)
    try:
        sniff(upload, upload.size)
        workbook, sheet = open_sheet(upload, scan_merged=False)
        workbook.close()
    except FileRejected as exc:
        raise ValidationError(exc.messages) from None
    upload.seek(0)
    estimated = sheet.estimated_rows or upload.size // BYTES_PER_ROW
    batch = ImportBatch(school=school, created_by=actor, commit=commit, original_name=(upload.name or "")[-200:],
                        file_size=upload.size, progress_total=estimated, school_path=school.path,
                        province_code=school.province_code)
    batch.file.save(f"{uuid.uuid4().hex}.xlsx", upload, save=False)
    batch.save()
    return batch


def batch_start(*, actor, batch: ImportBatch, commit: bool | None = None) -> ImportBatch:
    """Run ``batch`` now, or queue it for Celery when it has XUEJI_IMPORT_CELERY_ROWS rows or more.

    Allowed on an uploaded batch, and on a valid dry-run batch (``commit=True`` imports it).
    ``actor`` needs ``edit_students`` on the batch's school. The status switch is made under a row
    lock, so two clicks start one run. Returns the batch as it is after the run (or queued).
    Raises PermissionDenied, or ValidationError when the batch was already started or its file is gone.
    """
    require_unit_perm(actor, "edit_students", batch.school)
    from .tasks import run_import_batch

    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in (ImportBatch.Status.UPLOADED, ImportBatch.Status.VALID) or not locked.file:
            raise ValidationError("该导入批次已开始或已结束，不能重复导入；如需重新导入请重新上传文件")
        if commit is not None:
            locked.commit = commit
        queued = locked.progress_total >= limit("CELERY_ROWS")
        locked.status = ImportBatch.Status.QUEUED if queued else ImportBatch.Status.VALIDATING
        locked.save(update_fields=["status", "commit"])
        if queued:
            run_import_batch.delay_on_commit(locked.pk, actor_id=actor.pk)
    if not queued:
        batch_run(actor=actor, batch=locked)
        locked.refresh_from_db()
    return locked


def batch_run(*, actor, batch: ImportBatch) -> ImportBatch:
    """Validate the batch's file and, when every row is valid and ``batch.commit``, import it.

    Not one transaction as a whole on purpose: progress counters are committed while rows are
    validated, so the page polling them sees them move; the import itself (``_import_rows``) is
    one transaction. Errors are stored as ImportRowError rows (row, column header, message).
    Called by ``batch_start`` and the Celery task. Returns the batch (refreshed).
    """
    require_unit_perm(actor, "edit_students", batch.school)
    with cycle_collection_paused():
        return _run(actor, batch)


def _run(actor, batch: ImportBatch) -> ImportBatch:
    _update(batch, status=ImportBatch.Status.VALIDATING, progress_done=0)
    with batch.file.open("rb") as fh:
        result = validate_file(fh, school=batch.school,
                               progress=lambda done, total: _update(batch, progress_done=done, progress_total=total))
    counts = {"total_rows": result.total_rows, "progress_done": result.total_rows,
              "progress_total": result.total_rows}
    if not result.ok:
        _store_errors(batch, result)
        _update(batch, status=ImportBatch.Status.INVALID, finished_at=timezone.now(), **counts)
        _delete_file(batch)
    elif not batch.commit:
        _update(batch, status=ImportBatch.Status.VALID, finished_at=timezone.now(), **counts)
    else:
        _update(batch, status=ImportBatch.Status.IMPORTING, **counts)
        try:
            _import_rows(actor=actor, batch=batch, rows=result.rows)
        except ValidationError as exc:
            # A record took one of the numbers meanwhile (the database's one-live-record index).
            _update(batch, status=ImportBatch.Status.FAILED, finished_at=timezone.now(),
                    file_errors=["导入时数据库拒绝写入，未导入任何学生：", *exc.messages])
        _delete_file(batch)
    batch.refresh_from_db()
    return batch


_gc_lock = threading.Lock()
_gc_state = {"holders": 0, "was_enabled": False}


@contextmanager
def cycle_collection_paused():
    """Pause Python's cyclic garbage collector while a file is validated and imported.

    A 10,000-row file makes millions of short-lived objects (cells, form values, records); the
    collector would walk the survivors again and again (~10 % of the run) and finds next to
    nothing: rows, dicts and records form no reference cycles, so reference counting frees them.
    Process-wide, so nested and concurrent runs (threads) share one pause; the collector's
    previous state comes back when the last one ends."""
    with _gc_lock:
        if _gc_state["holders"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["holders"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["holders"] -= 1
            if _gc_state["holders"] == 0 and _gc_state["was_enabled"]:
                gc.enable()


def batch_fail(*, batch: ImportBatch, message: str) -> None:
    """Mark a batch failed after an unexpected error (the Celery task calls this); nothing was
    imported, since the import is one transaction. The file is deleted."""
    _update(batch, status=ImportBatch.Status.FAILED, finished_at=timezone.now(), file_errors=[message])
    _delete_file(batch)


@transaction.atomic
def _import_rows(*, actor, batch: ImportBatch, rows: list[ValidRow]) -> None:
    from transfers.services import registration_submit_new

    school = batch.school
    require_unit_perm(actor, "edit_students", school)
    change = registration_submit_new(actor=actor, school=school, entries=[(row.student, row.members) for row in rows],
                                     reason=f"Excel导入新生（导入批次#{batch.pk}）")
    audit_record(actor=actor, kind=AuditEvent.Kind.OTHER, unit=school, target=change,
                 message=f"Excel导入新生{len(rows)}人（导入批次#{batch.pk}），作为注册批次#{change.pk}提交审核",
                 extra={"import_batch": batch.pk, "rows": len(rows), "registration": change.pk})
    _update(batch, status=ImportBatch.Status.IMPORTED, registration=change, imported_count=len(rows),
            finished_at=timezone.now())


def _update(batch: ImportBatch, **fields) -> None:
    # Bookkeeping counters, not an audited record: a plain UPDATE (see imports.models).
    ImportBatch.objects.filter(pk=batch.pk).update(**fields)


def _store_errors(batch: ImportBatch, result: Validation) -> None:
    ImportRowError.objects.filter(batch=batch).delete()
    errors = result.errors[:MAX_STORED_ERRORS]
    ImportRowError.objects.bulk_create(
        [ImportRowError(batch=batch, row_number=e.row, column=e.column[:40], message=e.message[:300]) for e in errors],
        batch_size=WRITE_BATCH)
    file_errors = list(result.file_errors)
    if len(result.errors) > MAX_STORED_ERRORS:
        file_errors.append(f"错误过多，只列出前{MAX_STORED_ERRORS}条")
    _update(batch, error_count=len(result.errors), error_rows=result.error_rows, file_errors=file_errors)


def _delete_file(batch: ImportBatch) -> None:
    if batch.file:
        batch.file.delete(save=False)
    _update(batch, file="", file_deleted_at=timezone.now())


def batch_files_purge(*, now=None) -> int:
    """Delete uploaded files older than ``retention_days()`` that are still stored (dry runs never
    imported, runs whose worker died). A batch still marked running after that long is marked
    failed. Returns how many files were deleted. System job: no actor."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days())
    stale = list(ImportBatch.objects.filter(created_at__lt=cutoff).exclude(file=""))
    for batch in stale:
        if batch.status in ImportBatch.RUNNING:
            _update(batch, status=ImportBatch.Status.FAILED, finished_at=timezone.now(),
                    file_errors=["处理中断且超过保留期限，文件已删除，未导入任何学生。请重新上传"])
        _delete_file(batch)
    return len(stale)
