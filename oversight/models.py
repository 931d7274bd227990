"""Oversight data: sampling inspections (抽查/互查), rectification notices (整改通知), quarterly
reports (季度报告) and the precomputed figures behind dashboards and scorecards.

Every model that a unit reads carries the path of the unit it concerns (``*_path``) and the
province code, so scoped reads are one indexed prefix query and large tables can be partitioned by
province (DESIGN.md §3, §9).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from students.storage import private_storage
from xueji.scope import ScopeFields


class Failing(models.TextChoices):
    """What a rectification notice orders corrected: the failings the responsibility agreements
    name (agreements.defaults, registrar clause 三 and inter-level clause 四)."""

    LATE_ENTRY = "late_entry", "未按时录入或变更学籍"
    FALSE_DATA = "false_data", "弄虚作假（虚报、重复或空挂学籍）"
    ALTERED_DATA = "altered_data", "擅自删除、篡改学籍数据"
    LATE_PROCEDURE = "late_procedure", "未在时限内办理学籍业务"
    OBSTRUCTED_TRANSFER = "obstructed_transfer", "阻碍学生转学"
    OTHER = "other", "其他"


# --------------------------------------------------------------------------------------------
# Sampling inspections


class Inspection(models.Model):
    """A sampling inspection (抽查) of active records in one region.

    ``inspected_region`` is where the sample is drawn; ``inspecting_region`` is the unit whose
    inspectors verify it: the organiser itself for an ordinary inspection, another county for a
    cross-check (互查) organised by a city. The sample is drawn by ``oversight.sampling.draw``
    from ``seed`` (the same seed on the same records gives the same sample), either
    ``requested_size`` records or ``requested_percent`` per cent of the population.
    Lifecycle: drawn (the inspector reviews the sample) → assigned (schools verify, inspectors
    give verdicts) → closed.
    """

    class Kind(models.TextChoices):
        REGULAR = "regular", "抽查"
        CROSS = "cross", "互查"

    class Status(models.TextChoices):
        DRAWN = "drawn", "已抽样（待下发）"
        ASSIGNED = "assigned", "核实中"
        CLOSED = "closed", "已完成"

    title = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=8, choices=Kind.choices, default=Kind.REGULAR)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.DRAWN)
    school_year = models.PositiveSmallIntegerField("学年", help_text="学年起始年份，如 2026 表示 2026-2027 学年")
    organiser = models.ForeignKey("schools.Region", verbose_name="组织单位", on_delete=models.PROTECT,
                                  related_name="organised_inspections")
    inspecting_region = models.ForeignKey("schools.Region", verbose_name="检查单位", on_delete=models.PROTECT,
                                          related_name="inspections_made")
    inspected_region = models.ForeignKey("schools.Region", verbose_name="被检查单位", on_delete=models.PROTECT,
                                         related_name="inspections_received")
    inspecting_path = models.CharField("检查单位路径", max_length=48, db_index=True, editable=False)
    inspected_path = models.CharField("被检查单位路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)
    seed = models.CharField("随机种子", max_length=32)
    requested_size = models.PositiveIntegerField("抽样数量", null=True, blank=True)
    requested_percent = models.DecimalField("抽样比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    population = models.PositiveIntegerField("在籍总数", default=0)
    sample_size = models.PositiveIntegerField("样本数", default=0)
    answer_due = models.DateField("学校核实期限", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField("抽样时间", auto_now_add=True)
    assigned_at = models.DateTimeField("下发时间", null=True, blank=True)
    closed_at = models.DateTimeField("完成时间", null=True, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="inspected_path")

    class Meta:
        verbose_name = "抽查"
        verbose_name_plural = "抽查"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="inspection_size_or_percent",
                condition=(Q(requested_size__isnull=False, requested_size__gt=0, requested_percent__isnull=True)
                           | Q(requested_size__isnull=True, requested_percent__gt=0, requested_percent__lte=100)),
            ),
            models.CheckConstraint(name="inspection_sample_within_population",
                                   condition=Q(sample_size__lte=F("population"))),
            # A cross-check is made by another unit; an ordinary inspection by the organiser.
            models.CheckConstraint(
                name="inspection_cross_check_other_unit",
                condition=(Q(kind="regular") | (Q(kind="cross") & ~Q(inspecting_region=F("inspected_region")))),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def scope_path(self) -> str:
        return self.inspected_path


class InspectionItem(models.Model):
    """One sampled record: the school answers it (verified or corrected, with a note and evidence),
    then an inspector of the inspecting unit records the verdict (correct, corrected, false).

    ``school`` is the school the record belonged to when drawn; it answers even if the student
    moves later. ``position`` is the record's place in the drawn order.
    """

    class Answer(models.TextChoices):
        PENDING = "pending", "待核实"
        VERIFIED = "verified", "核实无误"
        CORRECTED = "corrected", "已更正"

    class Verdict(models.TextChoices):
        PENDING = "pending", "待评定"
        CORRECT = "correct", "信息准确"
        CORRECTED = "corrected", "已更正"
        FALSE = "false", "信息不实"

    inspection = models.ForeignKey(Inspection, verbose_name="抽查", on_delete=models.CASCADE, related_name="items")
    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.PROTECT,
                                related_name="inspection_items")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.PROTECT, related_name="+")
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, editable=False)
    position = models.PositiveIntegerField("序号")
    answer = models.CharField("学校核实", max_length=10, choices=Answer.choices, default=Answer.PENDING)
    answer_note = models.TextField("核实说明", blank=True)
    evidence = models.FileField("佐证材料", storage=private_storage, upload_to="inspections/%Y/%m/", blank=True)
    evidence_type = models.CharField("材料类型", max_length=40, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核实人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField("核实时间", null=True, blank=True)
    verdict = models.CharField("检查结论", max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    verdict_note = models.TextField("结论说明", blank=True)
    verdict_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="检查人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    verdict_at = models.DateTimeField("评定时间", null=True, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="school_id")

    class Meta:
        verbose_name = "抽查记录"
        verbose_name_plural = "抽查记录"
        ordering = ["inspection_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "student"], name="inspection_item_student_once"),
            models.UniqueConstraint(fields=["inspection", "position"], name="inspection_item_position_unique"),
            models.CheckConstraint(name="inspection_item_answer_has_actor",
                                   condition=Q(answer="pending") | Q(answered_by__isnull=False,
                                                                     answered_at__isnull=False)),
            models.CheckConstraint(name="inspection_item_verdict_has_actor",
                                   condition=Q(verdict="pending") | Q(verdict_by__isnull=False,
                                                                      verdict_at__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["school", "answer"], name="inspection_item_school_answer"),
        ]

    def __str__(self):
        return f"{self.inspection} · 第{self.position}条"

    @property
    def scope_path(self) -> str:
        return self.school_path


# --------------------------------------------------------------------------------------------
# Rectification notices


class RectificationNotice(models.Model):
    """A rectification notice (整改通知) from a bureau to a unit below it (directly or not).

    Exactly one of ``target_region`` / ``target_school``. ``target_path`` is the target's path:
    the target, the issuer and every bureau in between see the notice. Lifecycle: issued → the
    target replies (replied) → the issuer closes it (closed) or returns it (returned → reply again).
    Overdue: not closed and the deadline's day is over (Asia/Shanghai).
    """

    class Status(models.TextChoices):
        ISSUED = "issued", "待整改"
        REPLIED = "replied", "已回复待审核"
        RETURNED = "returned", "已退回重新整改"
        CLOSED = "closed", "已关闭"

    OPEN_STATUSES = ("issued", "replied", "returned")
    # The target still owes a reply (the deadline binds it only in these states).
    AWAITING_TARGET = ("issued", "returned")

    failing = models.CharField("问题类别", max_length=24, choices=Failing.choices)
    title = models.CharField("标题", max_length=100)
    details = models.TextField("问题与整改要求")
    deadline = models.DateField("整改期限")
    issuer = models.ForeignKey("schools.Region", verbose_name="发文单位", on_delete=models.PROTECT,
                               related_name="rectifications_issued")
    target_region = models.ForeignKey("schools.Region", verbose_name="整改单位（教育行政部门）", null=True,
                                      blank=True, on_delete=models.PROTECT, related_name="rectifications_received")
    target_school = models.ForeignKey("schools.School", verbose_name="整改单位（学校）", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="rectifications_received")
    issuer_path = models.CharField("发文单位路径", max_length=48, editable=False)
    target_path = models.CharField("整改单位路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ISSUED, db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签发人", on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField("签发时间", auto_now_add=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="关闭人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="target_path", school="target_school_id")

    class Meta:
        verbose_name = "整改通知"
        verbose_name_plural = "整改通知"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="rectification_exactly_one_target",
                condition=Q(target_region__isnull=False, target_school__isnull=True)
                | Q(target_region__isnull=True, target_school__isnull=False),
            ),
            models.CheckConstraint(name="rectification_closed_has_actor",
                                   condition=~Q(status="closed") | Q(closed_by__isnull=False,
                                                                     closed_at__isnull=False)),
            # The target lies strictly below the issuer.
            models.CheckConstraint(name="rectification_target_below_issuer",
                                   condition=Q(target_path__startswith=F("issuer_path"))
                                   & ~Q(target_path=F("issuer_path"))),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="rectification_status_deadline"),
        ]

    def __str__(self):
        return self.title

    @property
    def scope_path(self) -> str:
        return self.target_path

    @property
    def target(self):
        """The School or Region ordered to rectify."""
        return self.target_school or self.target_region

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RectificationReply(models.Model):
    """One reply of the target unit (what it did, with evidence) and the issuer's review of it."""

    class Decision(models.TextChoices):
        PENDING = "pending", "待审核"
        CLOSED = "closed", "通过，关闭"
        RETURNED = "returned", "退回重新整改"

    notice = models.ForeignKey(RectificationNotice, verbose_name="整改通知", on_delete=models.CASCADE,
                               related_name="replies")
    text = models.TextField("整改情况")
    evidence = models.FileField("佐证材料", storage=private_storage, upload_to="rectifications/%Y/%m/", blank=True)
    evidence_type = models.CharField("材料类型", max_length=40, blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="回复人", on_delete=models.PROTECT,
                                   related_name="+")
    replied_at = models.DateTimeField("回复时间", auto_now_add=True)
    decision = models.CharField("审核结果", max_length=10, choices=Decision.choices, default=Decision.PENDING)
    review_comment = models.TextField("审核意见", blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="notice__target_path", school="notice__target_school_id")

    class Meta:
        verbose_name = "整改回复"
        verbose_name_plural = "整改回复"
        ordering = ["notice_id", "replied_at", "id"]
        constraints = [
            models.CheckConstraint(name="rectification_reply_review_has_actor",
                                   condition=Q(decision="pending") | Q(reviewed_by__isnull=False,
                                                                       reviewed_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.notice} · 回复 {self.replied_at:%Y-%m-%d}"


# --------------------------------------------------------------------------------------------
# Quarterly reports


class QuarterlyReport(models.Model):
    """A city bureau's quarterly report to the province (季度报告).

    ``figures`` (JSON) is filled by the Celery task ``oversight.tasks.quarterly_report_generate``;
    its shape is documented in ``oversight.figures.report_figures``. The city reviews it (a note)
    and submits it; a submitted report never changes. One per reporting unit and quarter.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "生成中"
        READY = "ready", "待审阅报送"
        FAILED = "failed", "生成失败"
        SUBMITTED = "submitted", "已报送"

    city = models.ForeignKey("schools.Region", verbose_name="报送单位", on_delete=models.PROTECT,
                             related_name="quarterly_reports")
    year = models.PositiveSmallIntegerField("年度")
    quarter = models.PositiveSmallIntegerField("季度", choices=[(1, "第一季度"), (2, "第二季度"), (3, "第三季度"),
                                                                (4, "第四季度")])
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    figures = models.JSONField("统计数据", default=dict, blank=True)
    error = models.CharField("错误信息", max_length=300, blank=True)
    city_path = models.CharField("单位路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="生成人", on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField("申请生成时间")
    generated_at = models.DateTimeField("生成时间", null=True, blank=True)
    review_note = models.TextField("审阅说明", blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="报送人", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["figures"])
    scope_fields = ScopeFields(path="city_path")

    class Meta:
        verbose_name = "季度报告"
        verbose_name_plural = "季度报告"
        ordering = ["-year", "-quarter", "city_id"]
        constraints = [
            models.UniqueConstraint(fields=["city", "year", "quarter"], name="quarterly_report_one_per_quarter"),
            models.CheckConstraint(name="quarterly_report_quarter_1_to_4", condition=Q(quarter__gte=1, quarter__lte=4)),
            models.CheckConstraint(name="quarterly_report_submitted_has_actor",
                                   condition=~Q(status="submitted") | Q(submitted_by__isnull=False,
                                                                        submitted_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.city} {self.year}年第{self.quarter}季度学籍工作报告"

    @property
    def scope_path(self) -> str:
        return self.city_path


# --------------------------------------------------------------------------------------------
# Precomputed figures (dashboards and scorecards)


class DashboardFigure(models.Model):
    """One precomputed number: ``value`` of ``metric``/``key`` for the unit at ``unit_path``
    (a region or school path), over its whole subtree. Written only by
    ``oversight.services.figures_refresh`` (a province at a time, in one transaction), read by the
    dashboard and scorecard pages. Metrics and keys: ``oversight.figures``.
    """

    unit_path = models.CharField("单位路径", max_length=48)
    metric = models.CharField("指标", max_length=24)
    key = models.CharField("分项", max_length=40)
    value = models.BigIntegerField("数值")
    province_code = models.CharField("省份代码", max_length=2, db_index=True)
    computed_at = models.DateTimeField("统计时间")

    class Meta:
        verbose_name = "统计数据"
        verbose_name_plural = "统计数据"
        constraints = [
            models.UniqueConstraint(fields=["unit_path", "metric", "key"], name="dashboard_figure_unique"),
        ]

    def __str__(self):
        return f"{self.unit_path} {self.metric}[{self.key}]={self.value}"


class FigureRefresh(models.Model):
    """When the figures of a province were last computed, and how long it took."""

    province_code = models.CharField("省份代码", max_length=2, unique=True)
    computed_at = models.DateTimeField("统计时间")
    seconds = models.FloatField("耗时（秒）", default=0)

    class Meta:
        verbose_name = "统计刷新"
        verbose_name_plural = "统计刷新"

    def __str__(self):
        return f"{self.province_code} {self.computed_at:%Y-%m-%d %H:%M}"
