"""List filters for student rosters (django-filter): grade, class, status, flags."""

import django_filters
from django.db.models import Q, QuerySet

from schools.models import Grade, Region, School, SchoolClass
from xueji.access import grants_for, scoped
from xueji.scope import path_codes

from .models import NumberKind, StudentStatus

GRADE_CODES = [(f"{d}{lvl}", name) for d, stage_names in (
    (1, ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]),
    (2, ["初一", "初二", "初三", "初四"]),
    (3, ["高一", "高二", "高三"]),
) for lvl, name in enumerate(stage_names, start=1)]
STAGE_OF_DIGIT = {"1": Grade.Stage.PRIMARY, "2": Grade.Stage.JUNIOR, "3": Grade.Stage.SENIOR}

# A user with more schools than this chooses a region before the school drop-down lists any.
SCHOOL_CHOICES_MAX = 200

# Flag filters: the yes/no and code items of the national sheet's extended information.
FLAGS = {
    "only_child": ("独生子女", Q(is_only_child=True)),
    "left_behind": ("留守儿童", ~Q(left_behind="0")),
    "migrant": ("进城务工人员随迁子女", Q(is_migrant_child=True)),
    "orphan": ("孤儿", Q(is_orphan=True)),
    "martyr": ("烈士或优抚子女", Q(is_martyr_child=True)),
    "needs_aid": ("需要申请资助", Q(needs_aid=True)),
    "disability": ("残疾", ~Q(disability_type="0")),
    "inclusive": ("随班就读", ~Q(inclusive_class="0")),
    "boarding": ("住校", Q(study_mode="2")),
    "no_id": ("无身份证件号", Q(id_number="")),
    "unverified": ("未核验（非G学籍号）", ~Q(number_kind=NumberKind.G)),
}


class StudentFilter(django_filters.FilterSet):
    """Filters of the student list. ``request`` scopes the school and class choices to the user.

    Class choices are those of the chosen school (or of the user's only school), so that a
    bureau's page does not render thousands of classes. Likewise a city or province user picks a
    city or county (``region``) before its schools are offered: a province has thousands of
    schools (rendering 974 options alone cost 46 ms of the province's list page, bench/README.md).
    """

    region = django_filters.ModelChoiceFilter(label="区域", queryset=Region.objects.none(), method="filter_region",
                                              empty_label="全部区域")
    school = django_filters.ModelChoiceFilter(label="学校", queryset=School.objects.none(), empty_label="全部学校")
    grade = django_filters.ChoiceFilter(label="年级", choices=GRADE_CODES, method="filter_grade",
                                        empty_label="全部年级")
    school_class = django_filters.ModelChoiceFilter(label="班级", queryset=SchoolClass.objects.none(),
                                                    empty_label="全部班级")
    status = django_filters.ChoiceFilter(label="学籍状态", choices=StudentStatus.choices, empty_label="全部状态")
    flag = django_filters.ChoiceFilter(label="标记", choices=[(k, v[0]) for k, v in FLAGS.items()],
                                       method="filter_flag", empty_label="全部")

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = request.user
        grants = grants_for(user, "view_students")
        self.filters["region"].queryset = self._regions(grants)
        self.filters["school"].queryset, region_first = self._schools(user, grants, data or {})
        self.filters["school_class"].queryset = self._classes(user, data or {})
        self.filters["grade"].extra["choices"] = self._grade_choices(grants)
        for field in self.form.fields.values():
            field.widget.attrs.setdefault("class", "form-select")
        self.form.fields["region"].label_from_instance = _region_label
        # Choosing a region reloads the school choices (the previous school may lie outside it).
        self.form.fields["region"].widget.attrs["onchange"] = (
            "if (this.form.elements.school) this.form.elements.school.value = ''; this.form.requestSubmit()")
        if region_first:
            self.form.fields["school"].empty_label = "全部学校（先选区域，再选学校）"
        if not grants.region_paths:
            del self.form.fields["region"]  # a school's own staff: nothing to choose
        else:
            self.form.fields["region"].error_messages["invalid_choice"] = "所选区域不在您的管辖范围内"
        self.form.fields["school"].error_messages["invalid_choice"] = "所选学校不在您的管辖范围内或不属于所选区域"
        self.form.fields["school_class"].error_messages["invalid_choice"] = (
            "所选班级不在您的管辖范围内或不属于所选学校")

    @staticmethod
    def _regions(grants) -> QuerySet:
        """The user's regions and the cities and counties under them, in tree order."""
        if not grants.region_paths:
            return Region.objects.none()
        inside = Q(pk__in=[])
        for path in grants.region_paths:
            inside |= Q(path__startswith=path)
        return Region.objects.filter(inside, is_active=True).only("code", "name", "level", "path").order_by("path")

    @staticmethod
    def _schools(user, grants, data) -> tuple[QuerySet, bool]:
        """School choices, and whether the user must choose a (smaller) region first: the schools
        of the user's scope, or of the chosen region, when there are at most SCHOOL_CHOICES_MAX;
        else only the one school a link names."""
        schools = scoped(user, School.objects.all(), "view_students").only("id", "name").order_by("school_code")
        if not any(len(path_codes(path)) < 3 for path in grants.region_paths):
            return schools, False  # no grant above a county: few schools, no count needed
        code, school_id = str(data.get("region") or ""), _id_param(data.get("school"))
        region = Region.objects.filter(code=code).only("path").first() if code.isdigit() else None
        if region:
            schools = schools.filter(path__startswith=region.path)
        if schools.count() <= SCHOOL_CHOICES_MAX:
            return schools, False
        return (schools.filter(pk=school_id) if school_id is not None else schools.none()), True

    @classmethod
    def _classes(cls, user, data) -> QuerySet:
        """Class choices: the classes of the chosen school, or of the user's only school; else
        only the one class a link names (validated within the user's scope, like a school named
        by a link), so that a bureau's page never lists thousands of classes."""
        classes = scoped(user, SchoolClass.objects.all(), "view_students").select_related("grade").only(
            "id", "name", "grade__stage", "grade__level", "number")
        school_id, class_id = _id_param(data.get("school")), _id_param(data.get("school_class"))
        if school_id is not None:
            return classes.filter(school_id=school_id)
        if cls._single_school(user):
            return classes
        return classes.filter(pk=class_id) if class_id is not None else classes.none()

    @staticmethod
    def _grade_choices(grants) -> list[tuple[str, str]]:
        """The grades of the stages the user's schools teach, for a school's own staff (one query);
        every grade for bureau users (a county mixes primary and secondary schools)."""
        if grants.region_paths or not (grants.school_ids or grants.class_ids):
            return GRADE_CODES
        stages = set()
        for stage in (School.objects.filter(Q(pk__in=grants.school_ids) | Q(classes__pk__in=grants.class_ids))
                      .order_by().values_list("stage", flat=True).distinct()):
            stages.update(School(stage=stage).stages())
        return [(code, name) for code, name in GRADE_CODES if STAGE_OF_DIGIT[code[0]] in stages] or GRADE_CODES

    @staticmethod
    def _single_school(user) -> bool:
        grants = grants_for(user, "view_students")
        return not grants.region_paths and (len(grants.school_ids) == 1 or bool(grants.class_ids))

    def filter_grade(self, queryset, name, value):
        if not value or value[0] not in STAGE_OF_DIGIT:
            return queryset
        return queryset.filter(grade__stage=STAGE_OF_DIGIT[value[0]], grade__level=int(value[1:]))

    def filter_region(self, queryset, name, value):
        # The dashboards' drill-down links name a county or city by its GB/T 2260 code too.
        return queryset.filter(school_path__startswith=value.path) if value else queryset

    def filter_flag(self, queryset, name, value):
        return queryset.filter(FLAGS[value][1]) if value in FLAGS else queryset


def _id_param(value) -> int | None:
    """A primary key given in the query string, or None when absent or not a plausible id."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else None


def _region_label(region: Region) -> str:
    # Counties indented under their city in the drop-down.
    return ("\u3000" if region.level == Region.Level.COUNTY else "") + region.name
