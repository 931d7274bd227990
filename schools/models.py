"""The organisation tree: regions (GB/T 2260), schools, grades and classes."""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from xueji.scope import UNIT_PERMISSIONS, ScopeFields


class Region(models.Model):
    """An administrative division from GB/T 2260 (province, city or county level).

    The primary key is the 6-digit code. ``path`` is the materialised path of codes from the
    province down ("420000/429004/"), so a subtree is one indexed prefix query whatever its depth.
    Historic codes stay as inactive rows: they validate birthplaces inside old ID numbers.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        CITY = "city", "地市级"
        COUNTY = "county", "区县级"

    code = models.CharField("行政区划代码", max_length=6, primary_key=True,
                            validators=[RegexValidator(r"^\d{6}$", "行政区划代码应为6位数字")])
    name = models.CharField("名称", max_length=64)
    level = models.CharField("级别", max_length=8, choices=Level.choices)
    parent = models.ForeignKey("self", verbose_name="上级", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    path = models.CharField("路径", max_length=32, db_index=True)
    is_active = models.BooleanField("现行", default=True)
    valid_from = models.PositiveSmallIntegerField("启用年份", null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField("停用年份", null=True, blank=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="path")

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        permissions = UNIT_PERMISSIONS
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{6}$"), name="region_code_six_digits"),
        ]

    def __str__(self):
        return self.name

    @property
    def province_code(self) -> str:
        """The 2-digit province prefix of the code (GB/T 2260)."""
        return self.code[:2]

    @property
    def scope_path(self) -> str:
        return self.path


class School(models.Model):
    """A school, hung on the lowest region it belongs to, with the region whose bureau approves it.

    ``school_code`` is the national 10-digit 学校标识码. ``path`` is the region path followed by
    the school code ("340000/340100/340102/3434000001/"), denormalised for scoped queries.
    """

    class Stage(models.TextChoices):
        PRIMARY = "primary", "小学"
        JUNIOR = "junior", "初级中学"
        SENIOR = "senior", "高级中学"
        NINE_YEAR = "nine_year", "九年一贯制学校"
        TWELVE_YEAR = "twelve_year", "十二年一贯制学校"
        COMPLETE_MIDDLE = "complete_middle", "完全中学"
        SPECIAL = "special", "特殊教育学校"

    class Ownership(models.TextChoices):
        PUBLIC = "public", "公办"
        PRIVATE = "private", "民办"

    school_code = models.CharField("学校标识码", max_length=10, unique=True,
                                   validators=[RegexValidator(r"^\d{10}$", "学校标识码应为10位数字")])
    name = models.CharField("学校名称", max_length=100)
    stage = models.CharField("办学类型", max_length=16, choices=Stage.choices)
    primary_years = models.PositiveSmallIntegerField("小学学制", null=True, blank=True,
                                                     choices=[(5, "5年"), (6, "6年")])
    junior_years = models.PositiveSmallIntegerField("初中学制", null=True, blank=True,
                                                    choices=[(3, "3年"), (4, "4年")])
    senior_years = models.PositiveSmallIntegerField("高中学制", null=True, blank=True,
                                                    choices=[(3, "3年")])
    ownership = models.CharField("举办者", max_length=8, choices=Ownership.choices,
                                 default=Ownership.PUBLIC)
    region = models.ForeignKey(Region, verbose_name="所在行政区划", on_delete=models.PROTECT,
                               related_name="schools")
    authority = models.ForeignKey(Region, verbose_name="学籍主管部门", on_delete=models.PROTECT,
                                  related_name="authority_schools")
    path = models.CharField("路径", max_length=48, db_index=True, editable=False)
    province_code = models.CharField("省份代码", max_length=2, db_index=True, editable=False)
    is_active = models.BooleanField("在办", default=True)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="path", school="pk")

    class Meta:
        verbose_name = "学校"
        verbose_name_plural = "学校"
        ordering = ["school_code"]
        permissions = UNIT_PERMISSIONS
        constraints = [
            models.CheckConstraint(condition=Q(school_code__regex=r"^[0-9]{10}$"),
                                   name="school_code_ten_digits"),
        ]

    def __str__(self):
        return self.name

    @property
    def scope_path(self) -> str:
        return self.path

    def stages(self) -> list[str]:
        """The stages (primary, junior, senior) this school teaches, in order."""
        return {
            self.Stage.PRIMARY: ["primary"],
            self.Stage.JUNIOR: ["junior"],
            self.Stage.SENIOR: ["senior"],
            self.Stage.NINE_YEAR: ["primary", "junior"],
            self.Stage.TWELVE_YEAR: ["primary", "junior", "senior"],
            self.Stage.COMPLETE_MIDDLE: ["junior", "senior"],
            self.Stage.SPECIAL: ["primary", "junior"],
        }[self.stage]

    def years_of(self, stage: str) -> int:
        """Number of grades in ``stage`` at this school (学制), e.g. 6 for a 6-3-3 primary."""
        default = {"primary": 6, "junior": 3, "senior": 3}[stage]
        return getattr(self, f"{stage}_years") or default


class Grade(models.Model):
    """A grade (年级) of one stage at one school, e.g. primary level 1 = 一年级.

    ``code`` follows the national convention: stage digit (1 primary, 2 junior, 3 senior)
    followed by the level, e.g. 11 for primary first grade, 21 for junior first grade.
    """

    class Stage(models.TextChoices):
        PRIMARY = "primary", "小学"
        JUNIOR = "junior", "初中"
        SENIOR = "senior", "高中"

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.CASCADE, related_name="grades")
    stage = models.CharField("学段", max_length=8, choices=Stage.choices)
    level = models.PositiveSmallIntegerField("年级序号")
    name = models.CharField("年级名称", max_length=16)

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school__path", school="school_id")

    class Meta:
        verbose_name = "年级"
        verbose_name_plural = "年级"
        ordering = ["school", "stage", "level"]
        constraints = [
            models.UniqueConstraint(fields=["school", "stage", "level"], name="grade_unique_per_school"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=6), name="grade_level_1_to_6"),
        ]

    def __str__(self):
        return self.name

    STAGE_DIGIT = {"primary": 1, "junior": 2, "senior": 3}

    @property
    def code(self) -> str:
        """National grade code, e.g. "11" (primary grade 1) or "31" (senior grade 1)."""
        return f"{self.STAGE_DIGIT[self.stage]}{self.level}"

    @property
    def is_graduating(self) -> bool:
        """True for the last grade of the stage at this school (depends on 学制)."""
        return self.level == self.school.years_of(self.stage)


class SchoolClass(models.Model):
    """A class (班级) in a grade, with its head teacher (班主任)."""

    school = models.ForeignKey(School, verbose_name="学校", on_delete=models.CASCADE, related_name="classes")
    grade = models.ForeignKey(Grade, verbose_name="年级", on_delete=models.CASCADE, related_name="classes")
    number = models.PositiveSmallIntegerField("班号")
    name = models.CharField("班级名称", max_length=32)
    head_teacher = models.ForeignKey("accounts.User", verbose_name="班主任", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="head_of_classes")

    history = HistoricalRecords()
    scope_fields = ScopeFields(path="school__path", school="school_id", school_class="pk")

    class Meta:
        verbose_name = "班级"
        verbose_name_plural = "班级"
        ordering = ["grade__stage", "grade__level", "number"]
        permissions = UNIT_PERMISSIONS
        constraints = [
            models.UniqueConstraint(fields=["grade", "number"], name="class_number_unique_per_grade"),
        ]

    def __str__(self):
        return self.name

    @property
    def scope_path(self) -> str:
        return self.school.path


# Direct foreign-key object permissions (django-guardian): faster than the generic tables, and a
# deleted unit cascades to its permission rows, so none is ever orphaned.
class RegionUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Region, on_delete=models.CASCADE)


class RegionGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Region, on_delete=models.CASCADE)


class SchoolUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(School, on_delete=models.CASCADE)


class SchoolGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(School, on_delete=models.CASCADE)


class SchoolClassUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(SchoolClass, on_delete=models.CASCADE)


class SchoolClassGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(SchoolClass, on_delete=models.CASCADE)
