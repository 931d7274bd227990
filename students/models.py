"""The student record (学籍), DESIGN.md §4."""

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from schools.models import Grade, School, SchoolClass
from xueji.scope import ScopeFields

from .codes import ETHNICITY_CHOICES, GENDER_CHOICES, ID_TYPE_CHOICES


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


# Statuses in which a record holds its ID number: at most one such record per number (一生一籍).
LIVE_STATUSES = (StudentStatus.PENDING, StudentStatus.ACTIVE, StudentStatus.SUSPENDED)


class Student(models.Model):
    """One student's record. ``school_path`` and ``province_code`` are denormalised from the school
    for scoped queries and future partitioning by province (DESIGN.md §9)."""

    name = models.CharField("姓名", max_length=50)
    name_pinyin = models.CharField("姓名拼音", max_length=200, blank=True, db_index=True)
    name_initials = models.CharField("拼音首字母", max_length=50, blank=True, db_index=True)
    gender = models.CharField("性别", max_length=1, choices=GENDER_CHOICES)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=2, choices=ETHNICITY_CHOICES, default="01")
    nationality = models.CharField("国籍/地区", max_length=3, default="CHN")
    id_type = models.CharField("身份证件类型", max_length=1, choices=ID_TYPE_CHOICES, default="1")
    id_number = models.CharField("身份证件号", max_length=32, blank=True, db_index=True)
    student_number = models.CharField("全国学籍号", max_length=32, blank=True, db_index=True)
    number_kind = models.CharField("学籍号类型", max_length=1, choices=NumberKind.choices, blank=True)
    status = models.CharField("学籍状态", max_length=16, choices=StudentStatus.choices,
                              default=StudentStatus.DRAFT, db_index=True)
    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.PROTECT, related_name="students")
    grade = models.ForeignKey(Grade, verbose_name="年级", on_delete=models.PROTECT, related_name="students")
    school_class = models.ForeignKey(SchoolClass, verbose_name="班级", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="students")
    entry_month = models.CharField("入学年月", max_length=6, blank=True, help_text="YYYYMM")
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
        ]
        indexes = [
            models.Index(fields=["school", "status", "name_pinyin"], name="student_school_status_pinyin"),
            models.Index(fields=["school_class", "name_pinyin"], name="student_class_pinyin"),
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


def mask_id_number(value: str) -> str:
    """Mask an ID number as first 6 + asterisks + last 4 ("340102********1234"); short values fully."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
