"""Responsibility agreements (责任书): one concept, three kinds.

* ``AgreementTemplate``: the clause text of a kind, as a national default, a province's version or a
  school's own version.
* ``Agreement``: one agreement made from a template for one school year, with the text AS IT WAS
  when issued (a frozen copy) and the filled-in facts (party names, the child's data).
* ``Signature``: who signed which side, when, from which address, online or on paper (scan).
* ``GuardianInvitation`` / ``GuardianLink``: the parents' portal (one-time code → account → child).
* ``EnrolmentAgeRule``: a province's window for the underage-enrolment liability form.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from xueji.scope import ScopeFields


class AgreementKind(models.TextChoices):
    REGISTRAR = "registrar", "学籍管理员责任书"
    INTER_LEVEL = "inter_level", "学籍管理工作目标责任书"
    LIABILITY = "liability", "未满六周岁入学责任书"


class ValidityRule(models.TextChoices):
    """How long an agreement made from a template holds."""

    SCHOOL_YEAR = "school_year", "一个学年（9月1日至次年9月1日）"
    ENTRY = "entry", "入学当学年（随学籍注册）"


class AgreementTemplate(models.Model):
    """The text of one kind of agreement for one scope.

    Scope: national default (no region, no school), a province's version (``region`` a province) or
    a school's own version (``school``). The most specific active version wins (see
    ``agreements.selectors.template_for``). ``clauses`` may hold placeholders such as ``{甲方}``,
    ``{乙方}``, ``{学年}``, ``{学校}``, ``{学生姓名}`` filled when an agreement is issued.
    ``unit_path`` is denormalised ("" national, else the region or school path) for scoped reads.
    """

    kind = models.CharField("类别", max_length=16, choices=AgreementKind.choices)
    title = models.CharField("标题", max_length=100)
    clauses = models.TextField("条款")
    party_a_role = models.CharField("甲方签署角色", max_length=16, default="approver")
    party_a_label = models.CharField("甲方称谓", max_length=50)
    party_b_role = models.CharField("乙方签署角色", max_length=16)
    party_b_label = models.CharField("乙方称谓", max_length=50)
    validity = models.CharField("有效期规则", max_length=16, choices=ValidityRule.choices,
                                default=ValidityRule.SCHOOL_YEAR)
    region = models.ForeignKey("schools.Region", verbose_name="省级版本", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("schools.School", verbose_name="学校版本", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    unit_path = models.CharField("单位路径", max_length=48, blank=True, db_index=True, editable=False)
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="unit_path", school="school_id")

    class Meta:
        verbose_name = "责任书模板"
        verbose_name_plural = "责任书模板"
        ordering = ["kind", "unit_path"]
        constraints = [
            models.CheckConstraint(name="agreement_template_one_scope",
                                   condition=Q(region__isnull=True) | Q(school__isnull=True)),
            models.UniqueConstraint(fields=["kind"], condition=Q(region__isnull=True, school__isnull=True),
                                    name="agreement_template_one_national_per_kind"),
            models.UniqueConstraint(fields=["kind", "region"], condition=Q(region__isnull=False),
                                    name="agreement_template_one_per_province"),
            models.UniqueConstraint(fields=["kind", "school"], condition=Q(school__isnull=False),
                                    name="agreement_template_one_per_school"),
        ]

    def __str__(self):
        return f"{self.title}（{self.scope_label}）"

    @property
    def scope_label(self) -> str:
        if self.school_id:
            return f"{self.school}版"
        if self.region_id:
            return f"{self.region}版"
        return "全国默认"


class AgreementStatus(models.TextChoices):
    ISSUED = "issued", "待签署"
    PARTLY_SIGNED = "partly_signed", "部分签署"
    SIGNED = "signed", "已签订"
    VOID = "void", "已作废"


class Agreement(models.Model):
    """One agreement for one school year, frozen at issue.

    Parties by kind:

    * registrar: ``issuer_school`` (甲方, the school's approver signs) and ``party_user`` (乙方, the registrar);
    * inter_level: ``issuer_region`` (甲方, its approver) and ``party_region`` or ``party_school``
      (乙方, the approver of that unit);
    * liability: ``issuer_school`` (甲方, the school confirms: its stamp) and the guardian of ``student`` (乙方).

    ``title``, ``clauses``, the party labels and ``facts`` are copies taken at issue; later edits
    of the template or the student record never change them. ``facts`` may hold the child's full
    ID number (shown masked on screen, in full only on the PDF for the school and the guardian);
    it never goes to an audit event or a log. ``unit_path`` is the path of the lower party's unit
    (school path or region path), so both sides and every bureau above see the agreement.
    """

    kind = models.CharField("类别", max_length=16, choices=AgreementKind.choices, db_index=True)
    template = models.ForeignKey(AgreementTemplate, verbose_name="模板", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="agreements")
    school_year = models.PositiveSmallIntegerField("学年", help_text="学年起始年份，如 2026 表示 2026-2027 学年")
    period_start = models.DateField("生效日期")
    period_end = models.DateField("截止日期")
    title = models.CharField("标题", max_length=100)
    clauses = models.TextField("条款（签发时文本）")
    party_a_label = models.CharField("甲方称谓", max_length=50)
    party_b_label = models.CharField("乙方称谓", max_length=50)
    facts = models.JSONField("填写内容", default=dict, blank=True)
    issuer_region = models.ForeignKey("schools.Region", verbose_name="发起单位（行政区划）", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    issuer_school = models.ForeignKey("schools.School", verbose_name="发起单位（学校）", null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    party_region = models.ForeignKey("schools.Region", verbose_name="乙方单位（行政区划）", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    party_school = models.ForeignKey("schools.School", verbose_name="乙方单位（学校）", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    party_user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="乙方（学籍管理员）", null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="agreements")
    student = models.ForeignKey("students.Student", verbose_name="学生", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="agreements")
    school = models.ForeignKey("schools.School", verbose_name="所涉学校", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="agreements")
    unit_path = models.CharField("单位路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)
    status = models.CharField("状态", max_length=16, choices=AgreementStatus.choices,
                              default=AgreementStatus.ISSUED, db_index=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField("发起时间", auto_now_add=True)
    signed_at = models.DateTimeField("签订完成时间", null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField("提醒次数", default=0)
    last_reminded_at = models.DateTimeField("最近提醒时间", null=True, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="unit_path", school="school_id")

    class Meta:
        verbose_name = "责任书"
        verbose_name_plural = "责任书"
        ordering = ["-school_year", "kind", "unit_path", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer_school", "party_user", "school_year"],
                condition=Q(kind="registrar") & ~Q(status="void"),
                name="agreement_one_registrar_per_school_user_year"),
            models.UniqueConstraint(
                fields=["issuer_region", "party_region", "school_year"],
                condition=Q(kind="inter_level", party_region__isnull=False) & ~Q(status="void"),
                name="agreement_one_inter_level_per_region_year"),
            models.UniqueConstraint(
                fields=["issuer_region", "party_school", "school_year"],
                condition=Q(kind="inter_level", party_school__isnull=False) & ~Q(status="void"),
                name="agreement_one_inter_level_per_school_year"),
            models.UniqueConstraint(
                fields=["student"], condition=Q(kind="liability") & ~Q(status="void"),
                name="agreement_one_liability_form_per_student"),
            models.CheckConstraint(
                name="agreement_parties_match_kind",
                condition=(
                    Q(kind="registrar", issuer_school__isnull=False, party_user__isnull=False)
                    | Q(kind="liability", issuer_school__isnull=False, student__isnull=False)
                    | (Q(kind="inter_level", issuer_region__isnull=False)
                       & (Q(party_region__isnull=False) | Q(party_school__isnull=False)))
                ),
            ),
            models.CheckConstraint(name="agreement_period_order", condition=Q(period_end__gt=models.F("period_start"))),
        ]
        indexes = [
            models.Index(fields=["school", "kind", "school_year"], name="agreement_school_kind_year"),
            models.Index(fields=["issuer_region", "school_year"], name="agreement_issuer_region_year"),
        ]

    def __str__(self):
        return f"{self.title}（{self.school_year}学年）"

    @property
    def is_frozen(self) -> bool:
        """A signed or void agreement never changes again."""
        return self.status in (AgreementStatus.SIGNED, AgreementStatus.VOID)

    @property
    def issuer_unit(self):
        return self.issuer_region or self.issuer_school

    @property
    def party_unit(self):
        """The lower unit (inter-level) or the school (registrar, liability)."""
        return self.party_region or self.party_school or self.issuer_school


class Signature(models.Model):
    """One side's signature on an agreement.

    ``signer`` is the account that signed online (approver, registrar, guardian) or, for a paper
    signature, None with ``recorded_by`` the school user who uploaded the scan. ``signer_name`` is
    the name as signed (the typed full name of a guardian, or the signer's real name).
    """

    class Party(models.TextChoices):
        A = "a", "甲方"
        B = "b", "乙方"

    class Method(models.TextChoices):
        ONLINE = "online", "在线签署"
        PAPER = "paper", "纸质签字（扫描件）"

    agreement = models.ForeignKey(Agreement, verbose_name="责任书", on_delete=models.PROTECT,
                                  related_name="signatures")
    party = models.CharField("签署方", max_length=1, choices=Party.choices)
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="签署账号", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField("签署人姓名", max_length=50)
    signer_role = models.CharField("签署身份", max_length=16)
    unit_name = models.CharField("所在单位", max_length=100, blank=True)
    signed_at = models.DateTimeField("签署时间")
    ip_address = models.GenericIPAddressField("来源地址", null=True, blank=True)
    method = models.CharField("方式", max_length=8, choices=Method.choices, default=Method.ONLINE)
    scan_path = models.CharField("扫描件", max_length=200, blank=True)
    scan_content_type = models.CharField("扫描件类型", max_length=40, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "签署记录"
        verbose_name_plural = "签署记录"
        ordering = ["agreement_id", "party"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "party"], name="signature_one_per_party"),
            models.CheckConstraint(name="signature_paper_has_scan",
                                   condition=Q(method="online") | ~Q(scan_path="")),
        ]

    def __str__(self):
        return f"{self.get_party_display()} {self.signer_name} {self.signed_at:%Y-%m-%d %H:%M}"


class GuardianInvitation(models.Model):
    """A one-time code a school gives a guardian to open a portal account linked to one child.

    Only ``code_hash`` (HMAC-SHA256 of the normalised code with SECRET_KEY, hex) is stored; the
    code is shown once. A code is good until ``expires_at`` and only once (``used_at``).
    ``guardian_name`` is the guardian's name as the school recorded it on the invitation; a guardian
    signs by typing that name (or the name of a guardian family member on the record).
    """

    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.CASCADE,
                                related_name="guardian_invitations")
    school = models.ForeignKey("schools.School", verbose_name="学校", on_delete=models.CASCADE, related_name="+")
    unit_path = models.CharField("单位路径", max_length=48, db_index=True, editable=False)
    code_hash = models.CharField("邀请码摘要", max_length=64, unique=True)
    guardian_name = models.CharField("监护人姓名", max_length=50)
    expires_at = models.DateTimeField("有效期至")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="使用账号", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="生成人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["code_hash"])
    scope_fields = ScopeFields(path="unit_path", school="school_id")

    class Meta:
        verbose_name = "家长邀请码"
        verbose_name_plural = "家长邀请码"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.student} · {self.guardian_name}"


class GuardianLink(models.Model):
    """A guardian account linked to one child: the only way a guardian reaches a student."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="监护人账号", on_delete=models.CASCADE,
                             related_name="guardian_links")
    student = models.ForeignKey("students.Student", verbose_name="学生", on_delete=models.CASCADE,
                                related_name="guardian_links")
    guardian_name = models.CharField("监护人姓名", max_length=50)
    invitation = models.ForeignKey(GuardianInvitation, verbose_name="邀请码", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("关联时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "监护人关联"
        verbose_name_plural = "监护人关联"
        ordering = ["user_id", "student_id"]
        constraints = [models.UniqueConstraint(fields=["user", "student"], name="guardian_link_unique")]

    def __str__(self):
        return f"{self.guardian_name} → {self.student}"


class EnrolmentAgeRule(models.Model):
    """A province's window for the underage-enrolment liability form (default Sep 1 – Oct 31).

    For entry year Y a first-grade child born from (start month/day of Y−6) to (end month/day of
    Y−6) needs the liability form; born earlier needs none; born later is refused for first grade
    that year. Source: 义务教育法 art. 11 (age six by Aug 31) and provincial enrolment rules.
    """

    province = models.OneToOneField("schools.Region", verbose_name="省份", primary_key=True,
                                    on_delete=models.CASCADE, related_name="+")
    start_month = models.PositiveSmallIntegerField("窗口起始月", default=9)
    start_day = models.PositiveSmallIntegerField("窗口起始日", default=1)
    end_month = models.PositiveSmallIntegerField("窗口截止月", default=10)
    end_day = models.PositiveSmallIntegerField("窗口截止日", default=31)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="province__path")

    class Meta:
        verbose_name = "入学年龄责任书窗口"
        verbose_name_plural = "入学年龄责任书窗口"
        constraints = [
            models.CheckConstraint(name="enrolment_age_rule_valid_dates", condition=(
                Q(start_month__gte=1, start_month__lte=12, end_month__gte=1, end_month__lte=12,
                  start_day__gte=1, start_day__lte=31, end_day__gte=1, end_day__lte=31))),
        ]

    def __str__(self):
        return f"{self.province}：{self.start_month}月{self.start_day}日—{self.end_month}月{self.end_day}日"
