"""The student record (学籍), its family members, problem records and archive, DESIGN.md §4.

Code-valued fields take their choices from the national code tables in students/codes/ (see
students/codes.py); region-valued fields hold 6-digit GB/T 2260 codes validated by the forms
against schools.Region (historic codes allowed where the rules allow them).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from schools.models import Grade, Region, School, SchoolClass
from xueji.scope import ScopeFields

from . import codes
from .storage import private_storage


class NumberKind(models.TextChoices):
    """Kinds of national student number: G (verified ID), L (temporary), J (no usable ID)."""

    G = "G", "G 正式学籍号"
    L = "L", "L 临时学籍号"
    J = "J", "J 无证件学籍号"


class StudentStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PENDING = "pending", "待审核"
    ACTIVE = "active", "在籍"
    SUSPENDED = "suspended", "休学"
    GRADUATED = "graduated", "毕业"
    WITHDRAWN = "withdrawn", "退学"
    DROPPED_OUT = "dropped_out", "辍学"
    DECEASED = "deceased", "死亡"
    # A duplicate removed when a problem record was resolved by deletion: the row and its history
    # stay (nothing deletes history), but it no longer holds its ID number.
    DELETED = "deleted", "已删除（重复学籍）"


# Statuses in which a record holds its ID number: at most one such record per number (一生一籍).
LIVE_STATUSES = (StudentStatus.PENDING, StudentStatus.ACTIVE, StudentStatus.SUSPENDED)
# Statuses the duplicate scan looks at: every record still in use, drafts included.
CURRENT_STATUSES = (StudentStatus.DRAFT, *LIVE_STATUSES)

# Key data (关键数据, DESIGN.md §4): on a registered record these change only through an approved
# key-data correction (transfers app); drafts are edited freely.
KEY_DATA_FIELDS = ("name", "gender", "birth_date", "id_type", "id_number", "ethnicity")


class Student(models.Model):
    """One student's record with the national basic-information set (national_import_columns.txt).

    ``id_number`` is stored normalised (upper-case, 18 characters for 居民身份证; see
    students.validators). ``student_number`` is the national number, ``number_kind`` its kind; a
    change of number (L→G, J→G) leaves the old one in history. ``school_path`` and
    ``province_code`` are denormalised from the school for scoped queries and future
    partitioning by province (DESIGN.md §9).
    """

    # 学生个人基本信息
    name = models.CharField("姓名", max_length=50)
    name_pinyin = models.CharField("姓名拼音", max_length=200, blank=True)  # indexes in Meta
    name_initials = models.CharField("拼音首字母", max_length=50, blank=True, db_index=True)
    former_name = models.CharField("曾用名", max_length=50, blank=True)
    gender = models.CharField("性别", max_length=1, choices=codes.GENDER_CHOICES)
    birth_date = models.DateField("出生日期")
    birthplace_code = models.CharField("出生地", max_length=6, blank=True,
                                       help_text="6位行政区划代码（GB/T 2260，可为已撤销的历史代码）")
    native_place_code = models.CharField("籍贯", max_length=6, blank=True, help_text="6位行政区划代码")
    ethnicity = models.CharField("民族", max_length=2, choices=codes.ETHNICITY_CHOICES, default="01")
    nationality = models.CharField("国籍/地区", max_length=3, choices=codes.nationality_choices, default="CHN")
    id_type = models.CharField("身份证件类型", max_length=1, choices=codes.ID_TYPE_CHOICES, default="1")
    id_number = models.CharField("身份证件号", max_length=32, blank=True, db_index=True)
    id_valid_until = models.CharField("身份证件有效期", max_length=21, blank=True,
                                      help_text="如 20200601-20300601，或 长期")
    hk_macau_taiwan_overseas = models.CharField("港澳台侨外", max_length=2, default="00",
                                                choices=codes.HK_MACAU_TAIWAN_CHOICES)
    health = models.CharField("健康状况", max_length=2, choices=codes.HEALTH_CHOICES, default="10")
    political_status = models.CharField("政治面貌", max_length=2, choices=codes.POLITICAL_STATUS_CHOICES,
                                         default="13")
    blood_type = models.CharField("血型", max_length=1, choices=codes.BLOOD_TYPE_CHOICES, blank=True)
    specialty = models.CharField("特长", max_length=100, blank=True)
    hukou_nature = models.CharField("户口性质", max_length=1, choices=codes.HUKOU_NATURE_CHOICES, blank=True)
    hukou_region_code = models.CharField("户口所在地行政区划", max_length=6, blank=True,
                                         help_text="6位行政区划代码")

    # 学籍与就读
    student_number = models.CharField("全国学籍号", max_length=32, blank=True, db_index=True)
    number_kind = models.CharField("学籍号类型", max_length=1, choices=NumberKind.choices, blank=True)
    auxiliary_number = models.CharField("学籍辅号", max_length=32, blank=True)
    class_seat_number = models.CharField("班内学号", max_length=8, blank=True)
    status = models.CharField("学籍状态", max_length=16, choices=StudentStatus.choices,
                              default=StudentStatus.DRAFT, db_index=True)
    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="students")
    grade = models.ForeignKey(Grade, verbose_name="年级", on_delete=models.PROTECT, related_name="students")
    school_class = models.ForeignKey(SchoolClass, verbose_name="班级", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="students")
    entry_month = models.CharField("入学年月", max_length=6, blank=True, help_text="YYYYMM，当前学段起始年级的入学年月")
    entry_mode = models.CharField("入学方式", max_length=2, choices=codes.ENTRY_MODE_CHOICES, blank=True)
    study_mode = models.CharField("就读方式", max_length=1, choices=codes.STUDY_MODE_CHOICES, default="1")
    student_source = models.CharField("学生来源", max_length=1, choices=codes.STUDENT_SOURCE_CHOICES,
                                      default="1")
    enrolled_on = models.DateField("入校日期", null=True, blank=True,
                                   help_text="学生进入本校的日期；学籍档案在此后一个月内建齐")

    # 联系方式
    current_address = models.CharField("现住址", max_length=200, blank=True)
    mailing_address = models.CharField("通信地址", max_length=200, blank=True)
    home_address = models.CharField("家庭地址", max_length=200, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    postal_code = models.CharField("邮政编码", max_length=6, blank=True)
    email = models.EmailField("电子信箱", max_length=100, blank=True)
    homepage = models.URLField("主页地址", max_length=200, blank=True)

    # 学生扩展信息
    is_only_child = models.BooleanField("是否独生子女", default=False)
    had_preschool = models.BooleanField("是否受过学前教育", default=False)
    left_behind = models.CharField("是否留守儿童", max_length=1, choices=codes.LEFT_BEHIND_CHOICES, default="0")
    is_migrant_child = models.BooleanField("是否进城务工人员随迁子女", default=False)
    is_orphan = models.BooleanField("是否孤儿", default=False)
    is_martyr_child = models.BooleanField("是否烈士或优抚子女", default=False)
    needs_aid = models.BooleanField("是否需要申请资助", default=False)
    receives_subsidy = models.BooleanField("是否享受一补", default=False)
    government_funded_place = models.BooleanField("是否由政府购买学位", default=False)
    disability_type = models.CharField("残疾类型", max_length=1, choices=codes.DISABILITY_TYPE_CHOICES,
                                       default="0")
    inclusive_class = models.CharField("随班就读", max_length=1, choices=codes.INCLUSIVE_CLASS_CHOICES,
                                       default="0")

    # 交通方式
    school_distance_km = models.DecimalField("上下学距离（公里）", max_digits=5, decimal_places=1,
                                             null=True, blank=True)
    commute_mode = models.CharField("上下学方式", max_length=1, choices=codes.COMMUTE_MODE_CHOICES, blank=True)
    needs_school_bus = models.BooleanField("是否需要乘坐校车", default=False)

    verified_at = models.DateTimeField("核验时间", null=True, blank=True,
                                       help_text="证件号经核验、赋予G学籍号的时间")
    school_path = models.CharField("学校路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school_path", school="school_id", school_class="school_class_id")

    class Meta:
        verbose_name = "学籍"
        verbose_name_plural = "学籍"
        ordering = ["school_class_id", "name_pinyin", "id"]
        constraints = [
            # 一生一籍: one live record per ID number, guaranteed by the database (a partial unique index).
            models.UniqueConstraint(
                fields=["id_number"], condition=Q(status__in=[s.value for s in LIVE_STATUSES]) & ~Q(id_number=""),
                name="student_one_live_record_per_id_number",
            ),
            models.CheckConstraint(condition=Q(number_kind="") | ~Q(student_number=""),
                                   name="student_number_kind_needs_number"),
            # A national student number names one live record (numbers never collide, DESIGN.md §4).
            models.UniqueConstraint(
                fields=["student_number"],
                condition=Q(status__in=[s.value for s in LIVE_STATUSES]) & ~Q(student_number=""),
                name="student_one_live_record_per_student_number",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status", "name_pinyin"], name="student_school_status_pinyin"),
            models.Index(fields=["school_class", "name_pinyin"], name="student_class_pinyin"),
            # The nightly duplicate scan groups by these (records without an ID number).
            models.Index(fields=["name", "gender", "birth_date"], name="student_name_gender_birth"),
            # Prefix search (LIKE 'x%') on PostgreSQL needs pattern operator classes whatever the
            # database collation; other backends ignore opclasses.
            # (name_initials has db_index, which on PostgreSQL adds a pattern-ops "_like" index of its own.)
            models.Index(fields=["name"], opclasses=["varchar_pattern_ops"], name="student_name_prefix"),
            models.Index(fields=["name_pinyin"], opclasses=["varchar_pattern_ops"], name="student_pinyin_prefix"),
            # Lists and name searches in pinyin order, answered from the index alone: the unit
            # (school_path), the name, and status are tested in the index, so a city's search for
            # 刘 (bounded by its pinyin range) reads 51 entries and no table row (0.2 ms instead of
            # 23 ms of bitmaps), and a province's page 20 reads 1,000 entries (bench/README.md).
            models.Index(fields=["name_pinyin", "school_path", "id"], include=["name", "status"],
                         opclasses=["varchar_ops", "varchar_pattern_ops", "int8_ops"], name="student_pinyin_order"),
            # A bureau's list in pinyin order, deep pages included: PostgreSQL reads the unit's slice
            # of this index alone (no table rows, status included) and sorts it, 12 ms for a county's
            # page 20 instead of walking the whole pinyin index (130 ms); xueji.lists.CappedPaginator
            # fetches the page's ids that way, then the 50 rows (bench/README.md).
            models.Index(fields=["school_path", "name_pinyin", "id"], include=["status"],
                         opclasses=["varchar_pattern_ops", "varchar_ops", "int8_ops"], name="student_path_pinyin"),
            # Lists sort by birth date: without this index a county's list sorts all its 29,000
            # students (0.1 s; a province's million, 1.4 s); with it PostgreSQL reads the index in
            # birth order and stops after the page (15 ms for a county's first page).
            models.Index(fields=["birth_date"], name="student_birth_date"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Keep the denormalised scope in step with the school (moved by transfers).
        if self.school_id and (not self.school_path or self._school_changed()):
            self.school_path = self.school.path
            self.province_code = self.school.province_code
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = set(kwargs["update_fields"]) | {"school_path", "province_code"}
        super().save(*args, **kwargs)

    def _school_changed(self) -> bool:
        return self.school_path != self.school.path

    @property
    def masked_id_number(self) -> str:
        """The ID number with all but the first 6 and last 4 characters hidden (DESIGN.md §7)."""
        return mask_id_number(self.id_number)

    @property
    def masked_student_number(self) -> str:
        """The student number with its embedded ID digits masked (G/L numbers carry them)."""
        number = self.student_number
        return number[:1] + mask_id_number(number[1:]) if number else ""

    @property
    def is_registered(self) -> bool:
        """True once the record left the draft state: key data then change only by correction."""
        return self.status != StudentStatus.DRAFT

    @property
    def scope_path(self) -> str:
        return self.school_path


def mask_id_number(value: str) -> str:
    """Mask an ID number as first 6 + asterisks + last 4 ("340102********1234"); short values fully."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


class StudentNumberSequence(models.Model):
    """The counter of one L/J student-number prefix: ``prefix`` is the kind letter, the 6-digit area
    code and the birth date YYYYMMDD ("L34010220180305"), ``last`` the highest 3-digit sequence
    given out under it (-1 only inside the transaction that creates the row).

    Only ``students.services.student_numbers_allocate`` writes it, with the row locked, so
    sequences are given out once each and never again — not after the number's holder was
    verified (L→G) or left school: a national number names one child, ever (DESIGN.md §4). Not an
    audited record (no history): the numbers themselves are in the students' history. The
    province is the prefix's characters 2–3 (DESIGN.md §9).
    """

    prefix = models.CharField("号段前缀", max_length=15, primary_key=True)
    last = models.SmallIntegerField("已用最大序号")

    class Meta:
        verbose_name = "学籍号序号"
        verbose_name_plural = "学籍号序号"
        constraints = [
            models.CheckConstraint(condition=Q(last__gte=-1, last__lte=999), name="student_number_sequence_range"),
        ]

    def __str__(self):
        return f"{self.prefix}:{self.last:03d}"


class FamilyMember(models.Model):
    """One of the two family members or guardians the national form asks for (成员1, 成员2)."""

    student = models.ForeignKey(Student, verbose_name="学生", on_delete=models.CASCADE,
                                related_name="family_members")
    order = models.PositiveSmallIntegerField("序号", choices=[(1, "成员1"), (2, "成员2")])
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("关系", max_length=2, choices=codes.FAMILY_RELATION_CHOICES)
    relation_note = models.CharField("关系说明", max_length=50, blank=True)
    address = models.CharField("现住址", max_length=200, blank=True)
    hukou_region_code = models.CharField("户口所在地行政区划", max_length=6, blank=True,
                                         help_text="6位行政区划代码")
    phone = models.CharField("联系电话", max_length=20, blank=True)
    is_guardian = models.BooleanField("是否监护人", default=False)
    id_type = models.CharField("身份证件类型", max_length=1, choices=codes.ID_TYPE_CHOICES, blank=True)
    id_number = models.CharField("身份证件号", max_length=32, blank=True)
    ethnicity = models.CharField("民族", max_length=2, choices=codes.ETHNICITY_CHOICES, blank=True)
    work_unit = models.CharField("工作单位", max_length=100, blank=True)
    job = models.CharField("职务", max_length=50, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="student__school_path", school="student__school_id",
                               school_class="student__school_class_id")

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"
        ordering = ["student_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["student", "order"], name="family_member_order_unique"),
            models.CheckConstraint(condition=Q(order__in=[1, 2]), name="family_member_order_1_or_2"),
        ]

    def __str__(self):
        return f"{self.name}（{self.get_relation_display()}）"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class ProblemRecord(models.Model):
    """A problem record (问题学籍): a bad ID number or a (suspected) duplicate.

    ``key`` identifies the problem across nightly scans without holding personal data: a SHA-256
    of the duplicated ID number or of name|gender|birth date, or "student:<pk>" for a bad ID.
    ``assigned_path`` is the unit that resolves it: the school when all students are in one school,
    otherwise the lowest common bureau (DESIGN.md §4). Resolution: evidence (佐证: the records are
    right), correction (变更: the data were corrected), deletion (删除: the duplicate was removed,
    the attending school keeps its record).
    """

    class Kind(models.TextChoices):
        BAD_ID = "bad_id", "身份证件号有误"
        DUPLICATE_WITH_ID = "duplicate_with_id", "重复学籍（证件号相同）"
        DUPLICATE_WITHOUT_ID = "duplicate_without_id", "疑似重复学籍（无证件号）"

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        RESOLVED = "resolved", "已处理"

    class Resolution(models.TextChoices):
        EVIDENCE = "evidence", "佐证"
        CORRECTION = "correction", "变更"
        DELETION = "deletion", "删除"

    kind = models.CharField("问题类型", max_length=24, choices=Kind.choices, db_index=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolution = models.CharField("处理方式", max_length=12, choices=Resolution.choices, blank=True)
    key = models.CharField("问题标识", max_length=80)
    students = models.ManyToManyField(Student, through="ProblemMember", related_name="problems",
                                      verbose_name="涉及学籍")
    assigned_path = models.CharField("负责单位路径", max_length=48, db_index=True)
    assigned_school = models.ForeignKey(School, verbose_name="负责学校", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    assigned_region = models.ForeignKey(Region, verbose_name="负责主管部门", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    province_code = models.CharField("省份代码", max_length=2, db_index=True)
    detected_at = models.DateTimeField("发现时间", auto_now_add=True)
    last_seen_at = models.DateTimeField("最近核查时间", null=True, blank=True)
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    resolution_note = models.TextField("处理说明", blank=True)
    evidence = models.FileField("佐证材料", storage=private_storage, upload_to="problems/%Y/%m/", blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="assigned_path", school="assigned_school_id")

    class Meta:
        verbose_name = "问题学籍"
        verbose_name_plural = "问题学籍"
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], condition=Q(status="open"),
                                    name="problem_one_open_per_key"),
            models.CheckConstraint(
                condition=(Q(status="open", resolution="") | (Q(status="resolved") & ~Q(resolution=""))),
                name="problem_resolution_iff_resolved"),
            models.CheckConstraint(condition=Q(assigned_school__isnull=False) | Q(assigned_region__isnull=False),
                                   name="problem_assigned_to_a_unit"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def scope_path(self) -> str:
        return self.assigned_path

    @property
    def assigned_unit(self):
        """The School or Region that resolves this problem."""
        return self.assigned_school or self.assigned_region


class ProblemMember(models.Model):
    """A student involved in a problem record; ``school_path`` lets each school list its own."""

    problem = models.ForeignKey(ProblemRecord, on_delete=models.CASCADE, related_name="members")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="problem_memberships")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    school_path = models.CharField(max_length=48, db_index=True)

    scope_fields = ScopeFields(path="school_path", school="school_id")

    class Meta:
        verbose_name = "问题学籍成员"
        verbose_name_plural = "问题学籍成员"
        constraints = [
            models.UniqueConstraint(fields=["problem", "student"], name="problem_member_unique"),
        ]

    def __str__(self):
        return f"{self.problem} · {self.student_id}"


class ArchiveItemType(models.Model):
    """One line of the archive checklist (学籍档案). ``province_code`` "" = national default;
    a province adds its own lines with its 2-digit code. ``required`` lines make an archive complete."""

    code = models.SlugField("代码", max_length=32)
    name = models.CharField("名称", max_length=64)
    province_code = models.CharField("省份代码", max_length=2, blank=True, help_text="留空表示全国通用")
    required = models.BooleanField("必备", default=True)
    order = models.PositiveSmallIntegerField("排序", default=100)
    is_active = models.BooleanField("启用", default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "学籍档案材料类型"
        verbose_name_plural = "学籍档案材料类型"
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["code", "province_code"], name="archive_item_type_unique_code"),
        ]

    def __str__(self):
        return self.name


class ArchiveItem(models.Model):
    """What a student's archive holds for one checklist line: present or not, where the paper
    copy is kept, and an optional scan (JPG/PNG/PDF ≤ 2 MB) in private storage."""

    student = models.ForeignKey(Student, verbose_name="学生", on_delete=models.CASCADE,
                                related_name="archive_items")
    item_type = models.ForeignKey(ArchiveItemType, verbose_name="材料", on_delete=models.PROTECT,
                                  related_name="items")
    present = models.BooleanField("已归档", default=False)
    paper_location = models.CharField("纸质材料存放位置", max_length=100, blank=True)
    scan = models.FileField("扫描件", storage=private_storage, upload_to="archive/%Y/%m/", blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="student__school_path", school="student__school_id",
                               school_class="student__school_class_id")

    class Meta:
        verbose_name = "学籍档案材料"
        verbose_name_plural = "学籍档案材料"
        ordering = ["student_id", "item_type__order"]
        constraints = [
            models.UniqueConstraint(fields=["student", "item_type"], name="archive_item_unique_per_student"),
        ]

    def __str__(self):
        return f"{self.student} · {self.item_type}"
