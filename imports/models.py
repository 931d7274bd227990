"""Excel imports of new students (新生导入): one ``ImportBatch`` per uploaded file and the errors
found in its rows (DESIGN.md §4, §7; issue 3 §7).

A batch is validated as a whole and imported only when every row is valid, in one transaction,
as one registration batch (``transfers.StatusChange`` of kind registration). The uploaded file
lives in private storage (``settings.PRIVATE_MEDIA_ROOT``) and is deleted once it is no longer
needed (see imports.services: after the import, after a failed validation, or after
``XUEJI_IMPORT_RETENTION_DAYS``).

Batches are bookkeeping, not student records: they carry no ID numbers, their progress counters
are updated with ``QuerySet.update`` (so a polling page sees them while the work runs) and they
have no simple-history table; what the import does to students is in the students' history, the
registration batch and the audit log.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from students.storage import private_storage
from xueji.scope import ScopeFields


class ImportBatch(models.Model):
    """One uploaded import file for one school, from upload to import.

    ``total_rows``: non-blank data rows found; ``error_count``: row errors stored as
    ``ImportRowError``; ``file_errors``: file-level problems (wrong type, missing columns …) as a
    list of Chinese messages; ``progress_done``/``progress_total``: rows validated so far (the page
    polls them). ``registration`` is the registration batch created by a successful import.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传"
        QUEUED = "queued", "排队中"
        VALIDATING = "validating", "校验中"
        INVALID = "invalid", "有错误，未导入"
        VALID = "valid", "校验通过，待导入"
        IMPORTING = "importing", "正在写入"
        IMPORTED = "imported", "已导入"
        FAILED = "failed", "导入失败"

    RUNNING = (Status.QUEUED, Status.VALIDATING, Status.IMPORTING)

    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.PROTECT,
                               related_name="import_batches")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT,
                                   related_name="import_batches")
    created_at = models.DateTimeField("上传时间", auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.UPLOADED)
    commit = models.BooleanField("校验通过后导入", default=True,
                                 help_text="否：只校验、不写入（预检）")
    file = models.FileField("文件", storage=private_storage, upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField("文件名", max_length=200, blank=True)
    file_size = models.PositiveIntegerField("文件大小（字节）", default=0)
    file_deleted_at = models.DateTimeField("文件删除时间", null=True, blank=True)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    error_rows = models.PositiveIntegerField("有错误的行数", default=0)
    file_errors = models.JSONField("文件错误", default=list, blank=True)
    progress_done = models.PositiveIntegerField("已校验行数", default=0)
    progress_total = models.PositiveIntegerField("待校验行数", default=0)
    imported_count = models.PositiveIntegerField("导入人数", default=0)
    registration = models.ForeignKey("transfers.StatusChange", verbose_name="注册批次", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, editable=False)

    scope_fields = ScopeFields(path="school_path", school="school_id")

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress_done__lte=models.F("progress_total"))
                                   | Q(progress_total=0), name="import_progress_within_total"),
            models.CheckConstraint(condition=~Q(status="imported") | Q(registration__isnull=False),
                                   name="import_imported_has_registration"),
        ]

    def __str__(self):
        return f"导入批次 #{self.pk}"

    @property
    def scope_path(self) -> str:
        return self.school_path

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def progress_percent(self) -> int:
        """Rows validated so far as 0–100 (100 while writing)."""
        if self.status == self.Status.IMPORTING:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0


class ImportRowError(models.Model):
    """One problem in one row of a batch's file: the row number as Excel shows it, the column
    header ("" for the row as a whole) and a Chinese message. Messages never repeat an ID number."""

    batch = models.ForeignKey(ImportBatch, verbose_name="导入批次", on_delete=models.CASCADE, related_name="errors")
    row_number = models.PositiveIntegerField("行号")
    column = models.CharField("列", max_length=40, blank=True)
    message = models.CharField("错误", max_length=300)

    class Meta:
        verbose_name = "导入错误"
        verbose_name_plural = "导入错误"
        ordering = ["batch", "row_number", "id"]
        indexes = [models.Index(fields=["batch", "row_number"], name="import_error_batch_row")]

    def __str__(self):
        return f"第{self.row_number}行 {self.column}：{self.message}"
