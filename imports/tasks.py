"""Celery tasks of the import: they take primary keys only (never ID numbers, DESIGN.md §7)."""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from .models import ImportBatch
from .services import batch_fail, batch_files_purge, batch_run

logger = logging.getLogger(__name__)


@shared_task
def run_import_batch(batch_id: int, *, actor_id: int) -> str:
    """Validate and import ImportBatch ``batch_id`` for the user ``actor_id`` (files of 5,000 rows
    or more, see imports.services.batch_start). Returns the batch's final status. An unexpected
    error marks the batch failed (nothing was imported: the import is one transaction) and is
    re-raised for the worker's log (which sees the batch id only)."""
    batch = ImportBatch.objects.select_related("school").get(pk=batch_id)
    actor = get_user_model().objects.get(pk=actor_id)
    try:
        return batch_run(actor=actor, batch=batch).status
    except Exception:
        logger.exception("import batch %s failed", batch_id)
        batch_fail(batch=batch, message="导入过程中系统出错，未导入任何学生。请稍后重新上传，如仍失败请联系管理员")
        raise


@shared_task
def purge_import_files() -> int:
    """Nightly: delete uploaded import files past their retention period. Returns the count."""
    return batch_files_purge()
