"""Status changes (学籍异动) and their approval steps, DESIGN.md §5.

One ``StatusChange`` per piece of business, whatever its kind; ``ApprovalStep`` rows are generated
from ``transfers.routes.route_for`` when it is submitted. A rejection sends the change back to
``draft`` (the rejection stays on its step); a resubmission appends a new round of steps, so the
whole story stays on the change.

Registration (新生注册) is a batch: ``student`` is empty and the batch's students are in
``students`` (a many-to-many until the student record carries a ``registration_change`` key).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from students.storage import private_storage
from xueji.scope import ScopeFields


class ChangeKind(models.TextChoices):
    REGISTRATION = "registration", "新生注册"
    TRANSFER = "transfer", "转学"
    SUSPENSION = "suspension", "休学"
    RESUMPTION = "resumption", "复学"
    WITHDRAWAL = "withdrawal", "退学"
    DROPOUT = "dropout", "辍学"
    DEATH = "death", "死亡注销"
    RETENTION = "retention", "留级"
    ACCELERATION = "acceleration", "跳级"
    KEY_DATA_CORRECTION = "key_data_correction", "关键数据变更"


class ChangeStatus(models.TextChoices):
    """A rejected change goes back to DRAFT (its rejection stays on the step), so there is no
    'rejected' status on the change itself."""

    DRAFT = "draft", "草稿（待提交）"
    PENDING = "pending", "审核中"
    APPROVED = "approved", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"
    ROLLED_BACK = "rolled_back", "已退回撤销"


# Open business (在办业务): at most one per student (a partial unique index), and it blocks graduation.
OPEN_STATUSES = (ChangeStatus.DRAFT, ChangeStatus.PENDING)

# Reason categories per kind (the national forms' 异动原因 lists, shortened); "other" needs the text.
REASON_CATEGORIES: dict[str, list[tuple[str, str]]] = {
    ChangeKind.TRANSFER: [("relocation", "随迁/搬家"), ("hukou", "户籍迁移"), ("other", "其他")],
    ChangeKind.SUSPENSION: [("illness", "因病"), ("injury", "意外伤害"), ("family", "家庭原因"),
                            ("abroad", "出国（境）"), ("other", "其他")],
    ChangeKind.RESUMPTION: [("recovered", "病愈"), ("returned", "返校"), ("other", "其他")],
    ChangeKind.WITHDRAWAL: [("abroad", "出国（境）"), ("employment", "就业"), ("illness", "因病"),
                            ("other", "其他")],
    ChangeKind.DROPOUT: [("study", "厌学"), ("family", "家庭经济困难"), ("work", "外出务工"), ("other", "其他")],
    ChangeKind.DEATH: [("illness", "疾病"), ("accident", "意外"), ("other", "其他")],
    ChangeKind.RETENTION: [("illness", "因病缺课"), ("study", "学业"), ("other", "其他")],
    ChangeKind.ACCELERATION: [("ability", "学有余力"), ("other", "其他")],
    ChangeKind.KEY_DATA_CORRECTION: [("entry_error", "录入错误"), ("hukou_change", "户籍信息变更"),
                                     ("other", "其他")],
    ChangeKind.REGISTRATION: [("new_entry", "新生入学")],
}



class StatusChange(models.Model):
    """One piece of status business: its kind, its student (or batch), who started it, its dates,
    reason, targets and payload. ``school``/``region`` is the initiating unit (exactly one);
    ``from_school`` is the student's school when the change was created; ``school_path`` and
    ``target_school_path`` are denormalised for scoped lists; ``province_code`` for partitioning
    (DESIGN.md §9). ``round`` counts submissions (1 on the first, +1 after each rejection).
    """

    kind = models.CharField("业务类型", max_length=24, choices=ChangeKind.choices, db_index=True)
    status = models.CharField("状态", max_length=16, choices=ChangeStatus.choices, default=ChangeStatus.DRAFT)
    student = models.ForeignKey("students.Student", verbose_name="学生", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="status_changes")
    students = models.ManyToManyField("students.Student", verbose_name="注册批次学生", blank=True,
                                      related_name="registration_changes")
    school = models.ForeignKey("schools.School", verbose_name="发起学校", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="initiated_changes")
    region = models.ForeignKey("schools.Region", verbose_name="发起单位", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="initiated_changes")
    initiated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT,
                                     related_name="initiated_changes")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)
    round = models.PositiveSmallIntegerField("提交轮次", default=0)
    reason_category = models.CharField("原因类别", max_length=24, blank=True)
    reason = models.TextField("原因说明", blank=True)
    start_date = models.DateField("开始日期", null=True, blank=True)
    end_date = models.DateField("结束日期", null=True, blank=True)
    from_school = models.ForeignKey("schools.School", verbose_name="原学校", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="outgoing_changes")
    from_grade = models.ForeignKey("schools.Grade", verbose_name="原年级", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    from_class = models.ForeignKey("schools.SchoolClass", verbose_name="原班级", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    target_school = models.ForeignKey("schools.School", verbose_name="转入/目标学校", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="incoming_changes")
    target_grade = models.ForeignKey("schools.Grade", verbose_name="目标年级", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    target_class = models.ForeignKey("schools.SchoolClass", verbose_name="目标班级", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField("变更内容", default=dict, blank=True,
                               help_text='关键数据变更：{"字段": {"old": 原值, "new": 新值}}')
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)
    target_school_path = models.CharField("目标学校路径", max_length=48, blank=True, db_index=True,
                                          editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)

    history = HistoricalRecords(excluded_fields=["students"])
    scope_fields = ScopeFields(path="school_path", school="from_school_id")

    class Meta:
        verbose_name = "学籍异动"
        verbose_name_plural = "学籍异动"
        ordering = ["-created_at", "-id"]
        constraints = [
            # 在办业务: one open change per student at a time, guaranteed by the database.
            models.UniqueConstraint(fields=["student"], condition=Q(status__in=["draft", "pending"]),
                                    name="status_change_one_open_per_student"),
            models.CheckConstraint(
                name="status_change_student_unless_registration",
                condition=Q(kind="registration", student__isnull=True) | (~Q(kind="registration")
                                                                         & Q(student__isnull=False)),
            ),
            models.CheckConstraint(
                name="status_change_one_initiating_unit",
                condition=Q(school__isnull=False, region__isnull=True) | Q(school__isnull=True, region__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["student", "status"], name="status_change_student_status"),
            models.Index(fields=["from_school", "status", "kind"], name="status_change_school_status"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def initiating_unit(self):
        """The school or region that started the change."""
        return self.school or self.region

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def reason_category_display(self) -> str:
        return dict(REASON_CATEGORIES.get(self.kind, [])).get(self.reason_category, self.reason_category)


class StepRole(models.TextChoices):
    """Within a unit a registrar handles (submits) and an approver decides (DESIGN.md §5)."""

    REGISTRAR = "registrar", "学籍管理员核办"
    APPROVER = "approver", "主管领导审核"


# The unit permission that lets a user act on a step of each role.
ROLE_CODENAME = {StepRole.REGISTRAR: "edit_students", StepRole.APPROVER: "approve_changes"}


class StepStatus(models.TextChoices):
    WAITING = "waiting", "未到达"
    CURRENT = "current", "待处理"
    APPROVED = "approved", "已通过"
    REJECTED = "rejected", "已退回"
    SKIPPED = "skipped", "未处理（已终止）"


class ApprovalStep(models.Model):
    """One step of a change's route: one unit (a region or a school, exactly one), one role.

    ``order`` is unique per change and keeps counting across rounds; ``due_date`` is set when the
    step becomes current (``transfers.deadlines.due_date_for``); ``unit_path`` is the unit's path,
    denormalised for subtree (escalation) queries.
    """

    change = models.ForeignKey(StatusChange, verbose_name="业务", on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField("顺序")
    round = models.PositiveSmallIntegerField("提交轮次", default=1)
    region = models.ForeignKey("schools.Region", verbose_name="审核单位（教育行政部门）", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="approval_steps")
    school = models.ForeignKey("schools.School", verbose_name="审核单位（学校）", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="approval_steps")
    role = models.CharField("岗位", max_length=16, choices=StepRole.choices)
    status = models.CharField("状态", max_length=16, choices=StepStatus.choices, default=StepStatus.WAITING)
    became_current_at = models.DateTimeField("到达时间", null=True, blank=True)
    due_date = models.DateField("办理期限", null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="decided_steps")
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    comment = models.TextField("意见", blank=True)
    unit_path = models.CharField("单位路径", max_length=48, editable=False)
    overdue_notified_at = models.DateTimeField("逾期提醒时间", null=True, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="unit_path", school="school_id")

    class Meta:
        verbose_name = "审核步骤"
        verbose_name_plural = "审核步骤"
        ordering = ["change_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["change", "order"], name="approval_step_order_unique_per_change"),
            models.CheckConstraint(
                name="approval_step_exactly_one_unit",
                condition=Q(region__isnull=False, school__isnull=True) | Q(region__isnull=True, school__isnull=False),
            ),
            models.CheckConstraint(
                name="approval_step_decision_has_actor",
                condition=~Q(status__in=["approved", "rejected"]) | Q(decided_by__isnull=False,
                                                                       decided_at__isnull=False),
            ),
        ]
        indexes = [
            # The queues: current steps of a unit, by due date (partial: only current steps are hot).
            models.Index(fields=["region", "role", "due_date"], condition=Q(status="current"),
                         name="approval_step_region_queue"),
            models.Index(fields=["school", "role", "due_date"], condition=Q(status="current"),
                         name="approval_step_school_queue"),
            # Escalations: current steps under a path prefix, overdue by due date.
            models.Index(fields=["unit_path", "due_date"], condition=Q(status="current"),
                         opclasses=["varchar_pattern_ops", "date_ops"], name="approval_step_subtree_due"),
        ]

    def __str__(self):
        return f"{self.change} 第{self.order}步 {self.unit}"

    @property
    def unit(self):
        """The region or school this step belongs to."""
        return self.region or self.school

    @property
    def codename(self) -> str:
        """The unit permission needed to act on this step."""
        return ROLE_CODENAME[self.role]


class Evidence(models.Model):
    """A supporting document (佐证材料) of a change: JPG, PNG or PDF up to 2 MB, type checked from
    its content (``transfers.evidence.sniff``)."""

    change = models.ForeignKey(StatusChange, verbose_name="业务", on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", storage=private_storage, upload_to="evidence/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["change_id", "uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class FollowUp(models.Model):
    """A follow-up note (随访记录) on a change; a dropout needs at least one before it is submitted."""

    change = models.ForeignKey(StatusChange, verbose_name="业务", on_delete=models.CASCADE,
                               related_name="follow_ups")
    note = models.TextField("随访情况")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="记录人", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "随访记录"
        verbose_name_plural = "随访记录"
        ordering = ["change_id", "created_at", "id"]

    def __str__(self):
        return f"随访 {self.created_at:%Y-%m-%d}"


class Notification(models.Model):
    """One message in a user's in-app inbox; e-mailed too when the user has an address."""

    class Kind(models.TextChoices):
        STEP_ARRIVED = "step_arrived", "待办到达"
        CHANGE_DECIDED = "change_decided", "业务已处理"
        STEP_OVERDUE = "step_overdue", "审核逾期"
        SUSPENSION_EXPIRED = "suspension_expired", "休学到期未复学"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField("类型", max_length=24, choices=Kind.choices)
    change = models.ForeignKey(StatusChange, verbose_name="业务", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="notifications")
    message = models.CharField("内容", max_length=300)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], condition=Q(read_at__isnull=True),
                         name="notification_unread"),
            models.Index(fields=["user", "created_at"], name="notification_inbox"),
        ]

    def __str__(self):
        return self.message


class ProvincePolicy(models.Model):
    """Rules that provinces set differently (DESIGN.md §5). Without a row the code defaults in
    ``transfers.policy`` apply. Dates are "MM-DD" strings; windows are inclusive."""

    province = models.OneToOneField("schools.Region", verbose_name="省份", on_delete=models.CASCADE,
                                    related_name="transfer_policy", limit_choices_to={"level": "province"})
    blackout_windows = models.JSONField("禁止转学时段", default=list, blank=True,
                                        help_text='如 [["07-15", "08-14"]]（含首尾日）')
    suspension_max_days = models.PositiveSmallIntegerField("休学最长天数", default=365)
    spring_term_start = models.CharField("春季学期开始（MM-DD）", max_length=5, default="02-01")
    school_year_end = models.CharField("学年结束（MM-DD）", max_length=5, default="08-31")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "省级学籍异动规则"
        verbose_name_plural = "省级学籍异动规则"

    def __str__(self):
        return f"{self.province} 学籍异动规则"
