"""The append-only audit log: workflow decisions, security and access events (DESIGN.md §7);
class-roll checks, follow-ups of absent children, daily roll calls and integrity findings (issue 6)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from students.storage import private_storage
from xueji.scope import ScopeFields


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: audit rows are written once and never changed."""

    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除")


class AuditEvent(models.Model):
    """One event: who did what, on which unit and object, when, from where.

    Rows are append-only: ``save`` refuses an existing row, ``delete`` refuses always, and on
    PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE from any client.
    ``unit_path`` is the region path of the unit concerned, so a bureau filters its subtree.
    """

    class Kind(models.TextChoices):
        LOGIN_SUCCESS = "login_success", "登录成功"
        LOGIN_FAILURE = "login_failure", "登录失败"
        LOCKOUT = "lockout", "账号锁定"
        LOGOUT = "logout", "退出登录"
        PASSWORD_CHANGE = "password_change", "修改密码"
        ROLE_GRANT = "role_grant", "授予角色"
        ROLE_REVOKE = "role_revoke", "撤销角色"
        ACCOUNT_CREATE = "account_create", "创建账号"
        UNIT_CHANGE = "unit_change", "组织机构变更"
        RECORD_VIEW = "record_view", "查看完整学籍"
        ID_REVEAL = "id_reveal", "查看完整证件号"
        EXPORT = "export", "导出"
        DECISION = "decision", "审批决定"
        SUBMISSION = "submission", "提交业务"
        HEARTBEAT = "heartbeat", "系统心跳"
        OTHER = "other", "其他"

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    actor_username = models.CharField("操作账号", max_length=150, blank=True)
    kind = models.CharField("事件", max_length=24, choices=Kind.choices, db_index=True)
    unit_path = models.CharField("单位路径", max_length=48, blank=True, db_index=True)
    unit_name = models.CharField("单位", max_length=100, blank=True)
    target_type = models.CharField("对象类型", max_length=64, blank=True)
    target_id = models.CharField("对象编号", max_length=64, blank=True)
    message = models.CharField("摘要", max_length=500, blank=True)
    reason = models.CharField("原因", max_length=500, blank=True)
    extra = models.JSONField("附加信息", default=dict, blank=True)
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()
    scope_fields = ScopeFields(path="unit_path")

    class Meta:
        verbose_name = "审计事件"
        verbose_name_plural = "审计事件"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.actor_username}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除")


# ------------------------------------------------------------------------------------------------
# Class-roll verification (按月核对), follow-up of absent children (随访), daily roll call, and the
# nightly integrity checks. Issue 6; DESIGN.md §1 (head teacher), §6 (every month), §7.


class RollCheck(models.Model):
    """The monthly check of one class roll against the children present (按月核对).

    Opened for every class on the 1st of each month (Celery beat). The head teacher (``take_roll``
    on the class) marks recorded children missing (``RollCheckEntry``), adds children present
    without a record here (``UnrecordedChild``) and completes the check; every child not marked
    missing is then confirmed present. The counts are kept at completion, so completion and
    mismatch figures are one indexed aggregate. ``month`` is the first day of the month.
    """

    class Status(models.TextChoices):
        OPEN = "open", "待核对"
        COMPLETED = "completed", "已完成"

    school_class = models.ForeignKey("schools.SchoolClass", verbose_name="班级", on_delete=models.CASCADE,
                                     related_name="roll_checks")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.CASCADE, related_name="+")
    month = models.DateField("核对月份")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核对人", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    recorded_count = models.PositiveIntegerField("在籍人数", default=0)
    present_count = models.PositiveIntegerField("在校人数（有学籍）", default=0)
    missing_count = models.PositiveIntegerField("有籍无人", default=0)
    unrecorded_count = models.PositiveIntegerField("有人无籍", default=0)
    school_path = models.CharField("学校路径", max_length=48, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="school_id", school_class="school_class_id")

    class Meta:
        verbose_name = "班级学籍核对"
        verbose_name_plural = "班级学籍核对"
        ordering = ["-month", "school_path", "school_class_id"]
        constraints = [
            models.UniqueConstraint(fields=["school_class", "month"], name="roll_check_once_per_class_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="roll_check_month_first_day"),
            models.CheckConstraint(
                name="roll_check_completed_has_actor",
                condition=Q(status="open") | Q(completed_at__isnull=False, completed_by__isnull=False),
            ),
        ]
        indexes = [
            # Completion and mismatch figures of a subtree for one month.
            models.Index(fields=["month", "school_path"], opclasses=["date_ops", "varchar_pattern_ops"],
                         name="roll_check_month_path"),
        ]

    def __str__(self):
        return f"{self.school_class} {self.month:%Y年%m月}核对"

    @property
    def scope_path(self) -> str:
        return self.school_path


class RollCheckEntry(models.Model):
    """A head teacher's mark on one recorded child of a roll check: missing (有籍无人) or, after
    toggling back, present. Children without an entry count as present at completion."""

    class Presence(models.TextChoices):
        PRESENT = "present", "在校"
        MISSING = "missing", "不在校"

    roll_check = models.ForeignKey(RollCheck, verbose_name="核对", on_delete=models.CASCADE, related_name="entries")
    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.CASCADE,
                                related_name="roll_check_entries")
    presence = models.CharField("在校情况", max_length=8, choices=Presence.choices, default=Presence.MISSING)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="标记人", on_delete=models.PROTECT,
                                  related_name="+")
    marked_at = models.DateTimeField("标记时间", auto_now=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="roll_check__school_path", school="roll_check__school_id",
                               school_class="roll_check__school_class_id")

    class Meta:
        verbose_name = "核对标记"
        verbose_name_plural = "核对标记"
        ordering = ["roll_check_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["roll_check", "student"], name="roll_check_entry_once_per_student"),
        ]

    def __str__(self):
        return f"{self.student} {self.get_presence_display()}"


class UnrecordedChild(models.Model):
    """A child present in class without a record at this school (有人无籍), found by a roll check.

    It stays open until the school registers the child or the transfer in is done (the resolving
    record is ``student``), or the child is confirmed gone. The nightly integrity check matches
    open cases against records elsewhere by name, gender and birth date (人籍分离).
    """

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        REGISTERED = "registered", "已注册学籍"
        TRANSFERRED_IN = "transferred_in", "已转入"
        LEFT = "left", "已离校（无需处理）"

    roll_check = models.ForeignKey(RollCheck, verbose_name="发现于核对", on_delete=models.CASCADE,
                                   related_name="unrecorded")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey("schools.SchoolClass", verbose_name="就读班级", on_delete=models.CASCADE,
                                     related_name="+")
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=[("1", "男"), ("2", "女")])
    birth_date = models.DateField("出生日期")
    note = models.CharField("说明", max_length=200, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.OPEN)
    student = models.ForeignKey("students.Student", verbose_name="对应学籍", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolution_note = models.CharField("处理说明", max_length=200, blank=True)
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="school_id", school_class="school_class_id")

    class Meta:
        verbose_name = "有人无籍"
        verbose_name_plural = "有人无籍"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["name", "gender", "birth_date"], condition=Q(status="open"),
                         name="unrecorded_open_match"),
        ]
        constraints = [
            models.CheckConstraint(
                name="unrecorded_resolution_needs_record",
                condition=Q(status__in=["open", "left"]) | Q(student__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.name}（{self.school_class}）"


class AbsenceFollowUp(models.Model):
    """The follow-up (随访) of a recorded child who is not in school: marked missing in a roll check,
    or absent without leave three school days in a row in the daily roll call.

    Not ``transfers.FollowUp``: that one is a note on an existing status change, while this case
    starts before any change exists and ends in one (a transfer started by the new school, a
    dropout reported) or in the child's return. The head teacher or the school's registrar records
    the contacts made, the reason, the destination and evidence (JPG/PNG/PDF ≤ 2 MB); the case
    stays open until an outcome is recorded. One open follow-up per student (a partial unique index).
    """

    class Origin(models.TextChoices):
        ROLL_CHECK = "roll_check", "按月核对不在校"
        DAILY_ABSENCE = "daily_absence", "连续三个上课日无故缺勤"

    class Status(models.TextChoices):
        OPEN = "open", "随访中"
        CLOSED = "closed", "已结案"

    class Outcome(models.TextChoices):
        TRANSFER_STARTED = "transfer_started", "已办理转学"
        RETURNED = "returned", "已返校"
        DROPOUT_REPORTED = "dropout_reported", "已上报辍学"

    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.CASCADE,
                                related_name="absence_follow_ups")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey("schools.SchoolClass", verbose_name="班级", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    origin = models.CharField("来源", max_length=16, choices=Origin.choices)
    roll_check = models.ForeignKey(RollCheck, verbose_name="来源核对", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="follow_ups")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField("开始时间", auto_now_add=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    contacts = models.TextField("联系情况", blank=True, help_text="何时以何种方式联系了谁，结果如何")
    reason = models.CharField("缺勤原因", max_length=200, blank=True)
    destination = models.CharField("去向", max_length=200, blank=True, help_text="如：随父母迁往外省某市就读")
    evidence = models.FileField("佐证材料", storage=private_storage, upload_to="followups/%Y/%m/", blank=True)
    evidence_name = models.CharField("佐证原文件名", max_length=200, blank=True)
    evidence_type = models.CharField("佐证类型", max_length=40, blank=True)
    outcome = models.CharField("结果", max_length=20, choices=Outcome.choices, blank=True)
    change = models.ForeignKey("transfers.StatusChange", verbose_name="对应学籍异动", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="结案人", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="school_id", school_class="school_class_id")

    class Meta:
        verbose_name = "缺勤随访"
        verbose_name_plural = "缺勤随访"
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["student"], condition=Q(status="open"),
                                    name="absence_follow_up_one_open_per_student"),
            models.CheckConstraint(
                name="absence_follow_up_closed_has_outcome",
                condition=(Q(status="open", outcome="")
                           | (Q(status="closed", closed_at__isnull=False) & ~Q(outcome=""))),
            ),
        ]

    def __str__(self):
        return f"{self.student} 随访 #{self.pk}"


class DailyRollCall(models.Model):
    """The head teacher's roll call of one class on one school day (xueji.workdays).

    Only children on leave or absent get a ``DailyAttendance`` row; everyone else on the roster
    that day was present (``present_count``)."""

    school_class = models.ForeignKey("schools.SchoolClass", verbose_name="班级", on_delete=models.CASCADE,
                                     related_name="roll_calls")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.CASCADE, related_name="+")
    date = models.DateField("日期")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="点名人", on_delete=models.PROTECT,
                                 related_name="+")
    taken_at = models.DateTimeField("点名时间", auto_now=True)
    present_count = models.PositiveIntegerField("出勤", default=0)
    leave_count = models.PositiveIntegerField("请假", default=0)
    absent_count = models.PositiveIntegerField("缺勤", default=0)
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="school_id", school_class="school_class_id")

    class Meta:
        verbose_name = "每日点名"
        verbose_name_plural = "每日点名"
        ordering = ["-date", "school_class_id"]
        constraints = [
            models.UniqueConstraint(fields=["school_class", "date"], name="roll_call_once_per_class_day"),
        ]

    def __str__(self):
        return f"{self.school_class} {self.date:%Y-%m-%d}点名"


class DailyAttendance(models.Model):
    """A child on leave or absent in one daily roll call (present children have no row)."""

    class Status(models.TextChoices):
        PRESENT = "present", "出勤"
        LEAVE = "leave", "请假"
        ABSENT = "absent", "缺勤"

    roll_call = models.ForeignKey(DailyRollCall, verbose_name="点名", on_delete=models.CASCADE,
                                  related_name="attendances")
    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.CASCADE,
                                related_name="attendances")
    date = models.DateField("日期")
    status = models.CharField("出勤情况", max_length=8, choices=Status.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "出勤记录"
        verbose_name_plural = "出勤记录"
        ordering = ["roll_call_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["roll_call", "student"], name="attendance_once_per_roll_call"),
            models.CheckConstraint(condition=~Q(status="present"), name="attendance_rows_only_for_absences"),
        ]
        indexes = [models.Index(fields=["student", "date"], name="attendance_student_date")]

    def __str__(self):
        return f"{self.student} {self.date:%Y-%m-%d} {self.get_status_display()}"


class IntegrityKind(models.TextChoices):
    """The nightly integrity checks (issue 6 §3); each is one set-based query in audits.integrity."""

    NO_CLASS = "no_class", "在籍学生未编班"
    SCHOOL_MISMATCH = "school_mismatch", "学籍学校与就读学校不一致"
    GRADE_MISMATCH = "grade_mismatch", "学籍年级与就读年级不一致"
    SUSPENSION_EXPIRED = "suspension_expired", "休学到期未复学"
    OVERDUE_STEP = "overdue_step", "审核逾期"
    SUSPECTED_DUPLICATE = "suspected_duplicate", "疑似重复学籍"
    AGE_OUT_OF_RANGE = "age_out_of_range", "年龄与年级不符"
    L_NUMBER_STALE = "l_number_stale", "临时学籍号超过六个月"
    ROLL_CHECK_NOT_DONE = "roll_check_not_done", "按月核对未完成"
    ARCHIVE_INCOMPLETE = "archive_incomplete", "入学一个月档案不全"
    NO_REGISTRAR = "no_registrar", "未指定学籍管理员"
    NO_APPROVER = "no_approver", "未指定审核人"
    ENTRY_NOT_FINISHED = "entry_not_finished", "新生9月30日前未完成注册"
    GRADUATION_NOT_FINISHED = "graduation_not_finished", "7月31日前未办理毕业"


class IntegrityIssue(models.Model):
    """One finding of the nightly integrity checks, kept while it persists.

    ``key`` identifies the finding across nights ("student:12", "step:7", "school:3"); at most one
    unresolved issue per kind and key (a partial unique index). ``unit_path`` is the path of the
    unit that must act (a school's path, or a region's for bureau findings); ``school``, ``region``
    and ``student`` are set where they apply. ``resolved_at`` is set the first night the finding
    is gone. Not an audited model: the checks rewrite these rows every night.
    """

    kind = models.CharField("问题类型", max_length=24, choices=IntegrityKind.choices)
    key = models.CharField("问题标识", max_length=64)
    unit_path = models.CharField("单位路径", max_length=48)
    school = models.ForeignKey("schools.School", verbose_name="学校", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey("schools.Region", verbose_name="主管部门", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey("students.Student", verbose_name="学生", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    detail = models.CharField("说明", max_length=300, blank=True)
    first_seen = models.DateTimeField("首次发现")
    last_seen = models.DateTimeField("最近发现")
    resolved_at = models.DateTimeField("消除时间", null=True, blank=True)
    province_code = models.CharField("省份代码", max_length=2, db_index=True)

    scope_fields = ScopeFields(path="unit_path", school="school_id")

    class Meta:
        verbose_name = "数据核查问题"
        verbose_name_plural = "数据核查问题"
        ordering = ["kind", "unit_path", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], condition=Q(resolved_at__isnull=True),
                                    name="integrity_issue_one_open_per_key"),
        ]
        indexes = [
            # Counts by kind and lists of a subtree's unresolved issues.
            models.Index(fields=["unit_path", "kind"], condition=Q(resolved_at__isnull=True),
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"], name="integrity_open_path_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}"

    @property
    def scope_path(self) -> str:
        return self.unit_path
