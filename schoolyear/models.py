"""Graduation batches and promotion runs (DESIGN.md §6, issue 6).

Graduation (毕业, by 7/31): a school's registrar submits the active students of one graduating
grade as a ``GraduationBatch`` with an outcome per student (毕业 / 结业 / 肄业). Compulsory stages:
the school's approver confirms and the students graduate. Senior high: after the school's approver
the authority bureau (the school's ``authority``) approves. A rejection ends the batch and frees
its students for a new one. A bureau may undo one student's graduation (``GraduationEntry.state``
undone, the record active again, with history).

Promotion (升级, default 8/10): one ``PromotionRun`` per province and school year (a database
constraint), run by a province-level approver, executed by Celery school by school; every school
gets a ``PromotionSchoolResult`` (counts) and every student left where they were a
``PromotionSkip`` with the reason.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from xueji.scope import ScopeFields


class Outcome(models.TextChoices):
    """How a student leaves the graduating grade (中小学生学籍管理办法 art. 20: 毕业、结业、肄业)."""

    GRADUATED = "graduated", "毕业"
    COMPLETED = "completed", "结业"
    INCOMPLETE = "incomplete", "肄业"


class GraduationBatch(models.Model):
    """The graduation of (some of) the active students of one graduating grade of one school.

    ``school_year`` is the starting year of the school year that ends with this graduation
    (graduating in June 2027 → 2026, i.e. 2026-2027). ``needs_bureau`` is true for senior-high
    grades: their graduation needs the authority bureau's approval after the school's.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "待学校审核"
        BUREAU = "bureau", "待主管部门审批"
        COMPLETED = "completed", "已办结"
        REJECTED = "rejected", "已退回"

    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.PROTECT,
                               related_name="graduation_batches")
    grade = models.ForeignKey("schools.Grade", verbose_name="毕业年级", on_delete=models.PROTECT,
                              related_name="graduation_batches")
    school_year = models.PositiveSmallIntegerField("学年（起始年份）")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.SUBMITTED,
                              db_index=True)
    needs_bureau = models.BooleanField("须主管部门审批", default=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提交人", on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True)
    school_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="学校审核人", null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    school_decided_at = models.DateTimeField("学校审核时间", null=True, blank=True)
    bureau_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="主管部门审批人", null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    bureau_decided_at = models.DateTimeField("主管部门审批时间", null=True, blank=True)
    comment = models.TextField("意见", blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="school_id")

    class Meta:
        verbose_name = "毕业批次"
        verbose_name_plural = "毕业批次"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="graduation_batch_bureau_step_only_when_needed",
                condition=~Q(status="bureau") | Q(needs_bureau=True),
            ),
        ]

    def __str__(self):
        return f"{self.school} {self.grade} 毕业批次 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.BUREAU)


class GraduationEntry(models.Model):
    """One student of a graduation batch, the outcome, and what happened to the record.

    ``state``: pending (batch under review) → applied (the record is graduated) → undone (a bureau
    reversed it; the record is active again); released when the batch was rejected. A student is
    in at most one pending or applied entry (a partial unique index): nobody graduates twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", "审核中"
        APPLIED = "applied", "已毕业"
        RELEASED = "released", "批次已退回"
        UNDONE = "undone", "已撤销"

    batch = models.ForeignKey(GraduationBatch, verbose_name="批次", on_delete=models.CASCADE, related_name="entries")
    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.PROTECT,
                                related_name="graduation_entries")
    outcome = models.CharField("结果", max_length=12, choices=Outcome.choices, default=Outcome.GRADUATED)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    previous_status = models.CharField("原学籍状态", max_length=16, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="撤销人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    undone_at = models.DateTimeField("撤销时间", null=True, blank=True)
    undo_reason = models.CharField("撤销理由", max_length=200, blank=True)
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="batch__school_id")

    class Meta:
        verbose_name = "毕业学生"
        verbose_name_plural = "毕业学生"
        ordering = ["batch_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["student"], condition=Q(state__in=["pending", "applied"]),
                                    name="graduation_entry_one_live_per_student"),
            models.UniqueConstraint(fields=["batch", "student"], name="graduation_entry_unique_in_batch"),
            models.CheckConstraint(
                name="graduation_entry_undone_has_actor",
                condition=~Q(state="undone") | Q(undone_by__isnull=False, undone_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.student} {self.get_outcome_display()}"


class PromotionRun(models.Model):
    """The promotion (升级) of one province for one school year: at most one, ever (a database
    constraint), so a second start is refused and nobody is moved twice.

    ``school_year`` is the year students move into (the run of August 2026 moves them into
    2026-2027 → 2026). Lifecycle: queued → running → done, or failed (the run can be resumed:
    schools already done keep their ``PromotionSchoolResult`` and are not touched again).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "执行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败（可继续）"

    province = models.ForeignKey("schools.Region", verbose_name="省份", on_delete=models.PROTECT,
                                 related_name="promotion_runs", limit_choices_to={"level": "province"})
    school_year = models.PositiveSmallIntegerField("升入学年（起始年份）")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.QUEUED)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始执行时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    error = models.TextField("错误信息", blank=True)
    schools_done = models.PositiveIntegerField("已处理学校数", default=0)
    promoted_count = models.PositiveIntegerField("升级人数", default=0)
    skipped_count = models.PositiveIntegerField("未升级人数", default=0)
    classes_created = models.PositiveIntegerField("新建班级数", default=0)
    path = models.CharField("省份路径", max_length=32, db_index=True, editable=False)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="path")

    class Meta:
        verbose_name = "升级批次"
        verbose_name_plural = "升级批次"
        ordering = ["-school_year", "province_id"]
        constraints = [
            models.UniqueConstraint(fields=["province", "school_year"], name="promotion_run_once_per_province_year"),
        ]

    def __str__(self):
        return f"{self.province} {self.school_year}-{self.school_year + 1}学年升级"


class PromotionSchoolResult(models.Model):
    """What a promotion run did at one school; written in the same transaction as the school's
    moves, and unique per run and school, so a resumed or doubled run never touches a school twice."""

    run = models.ForeignKey(PromotionRun, verbose_name="升级批次", on_delete=models.CASCADE, related_name="results")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    school_path = models.CharField("学校路径", max_length=48, db_index=True)
    promoted = models.PositiveIntegerField("升级人数", default=0)
    skipped = models.PositiveIntegerField("未升级人数", default=0)
    classes_created = models.PositiveIntegerField("新建班级数", default=0)
    finished_at = models.DateTimeField("完成时间", auto_now_add=True)

    scope_fields = ScopeFields(path="school_path", school="school_id")

    class Meta:
        verbose_name = "升级结果（学校）"
        verbose_name_plural = "升级结果（学校）"
        ordering = ["run_id", "school_path"]
        constraints = [
            models.UniqueConstraint(fields=["run", "school"], name="promotion_result_once_per_school"),
        ]

    def __str__(self):
        return f"{self.school_id}: +{self.promoted} / {self.skipped}"


class SkipReason(models.TextChoices):
    """Why a student was not promoted (see services.promotion_school)."""

    GRADUATING = "graduating", "毕业年级（未办理毕业）"
    SUSPENDED = "suspended", "休学中（复学时编班）"
    NO_CLASS = "no_class", "未编入班级"
    OPEN_BUSINESS = "open_business", "有在办学籍异动"
    NEW_ENTRANT = "new_entrant", "新学年入学新生"


class PromotionSkip(models.Model):
    """A student a promotion run left in place, and why (``detail`` names e.g. the open change)."""

    run = models.ForeignKey(PromotionRun, verbose_name="升级批次", on_delete=models.CASCADE, related_name="skips")
    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.CASCADE,
                                related_name="promotion_skips")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey("schools.Grade", verbose_name="年级", on_delete=models.PROTECT, related_name="+")
    school_path = models.CharField("学校路径", max_length=48, db_index=True)
    reason = models.CharField("原因", max_length=16, choices=SkipReason.choices, db_index=True)
    detail = models.CharField("说明", max_length=100, blank=True)
    promoted_at = models.DateTimeField("补升时间", null=True, blank=True,
                                       help_text="原因消除后由补升（services.promotion_catch_up）升级的时间")

    scope_fields = ScopeFields(path="school_path", school="school_id")

    class Meta:
        verbose_name = "未升级学生"
        verbose_name_plural = "未升级学生"
        ordering = ["run_id", "school_path", "grade_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "student"], name="promotion_skip_once_per_student"),
        ]

    def __str__(self):
        return f"{self.student_id}: {self.get_reason_display()}"
