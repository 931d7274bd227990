"""List filters for student rosters (django-filter): grade, class, status, flags."""

import django_filters
from django.db.models import Q

from schools.models import Grade, Region, School, SchoolClass
from xueji.access import grants_for, scoped

from .models import NumberKind, StudentStatus

GRADE_CODES = [(f"{d}{lvl}", name) for d, stage_names in (
    (1, ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]),
    (2, ["初一", "初二", "初三", "初四"]),
    (3, ["高一", "高二", "高三"]),
) for lvl, name in enumerate(stage_names, start=1)]
STAGE_OF_DIGIT = {"1": Grade.Stage.PRIMARY, "2": Grade.Stage.JUNIOR, "3": Grade.Stage.SENIOR}

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
    bureau's page does not render thousands of classes.
    """

    school = django_filters.ModelChoiceFilter(label="学校", queryset=School.objects.none(), empty_label="全部学校")
    grade = django_filters.ChoiceFilter(label="年级", choices=GRADE_CODES, method="filter_grade",
                                        empty_label="全部年级")
    school_class = django_filters.ModelChoiceFilter(label="班级", queryset=SchoolClass.objects.none(),
                                                    empty_label="全部班级")
    status = django_filters.ChoiceFilter(label="学籍状态", choices=StudentStatus.choices, empty_label="全部状态")
    flag = django_filters.ChoiceFilter(label="标记", choices=[(k, v[0]) for k, v in FLAGS.items()],
                                       method="filter_flag", empty_label="全部")
    region = django_filters.CharFilter(label="行政区划代码", method="filter_region", max_length=6)

    def __init__(self, data=None, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        user = request.user
        schools = scoped(user, School.objects.all(), "view_students").only("id", "name")
        self.filters["school"].queryset = schools
        school_id = (data or {}).get("school")
        classes = scoped(user, SchoolClass.objects.all(), "view_students").select_related("grade").only(
            "id", "name", "grade__stage", "grade__level", "number")
        if school_id and str(school_id).isdigit():
            classes = classes.filter(school_id=int(school_id))
        elif not self._single_school(user):
            classes = classes.none()
        self.filters["school_class"].queryset = classes
        for field in self.form.fields.values():
            field.widget.attrs.setdefault("class", "form-select")

    @staticmethod
    def _single_school(user) -> bool:
        grants = grants_for(user, "view_students")
        return not grants.region_paths and (len(grants.school_ids) == 1 or bool(grants.class_ids))

    def filter_grade(self, queryset, name, value):
        if not value or value[0] not in STAGE_OF_DIGIT:
            return queryset
        return queryset.filter(grade__stage=STAGE_OF_DIGIT[value[0]], grade__level=int(value[1:]))

    def filter_region(self, queryset, name, value):
        # The dashboards' drill-down links name a county or city by its GB/T 2260 code.
        region = Region.objects.filter(code=value).only("path").first() if value.isdigit() else None
        return queryset.filter(school_path__startswith=region.path) if region else queryset.none()

    def filter_flag(self, queryset, name, value):
        return queryset.filter(FLAGS[value][1]) if value in FLAGS else queryset
