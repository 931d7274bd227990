"""Scoped reads on the organisation tree, each with the joins its page needs."""

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from accounts.models import User
from xueji.access import grants_for, scoped
from xueji.scope import path_codes

from .models import Grade, Region, School, SchoolClass


def school_list(user) -> QuerySet:
    """Schools inside ``user``'s units (any role), with region and authority joined."""
    return scoped(user, School.objects.select_related("region", "authority"))


def regions_in_scope(user, codename: str | None = None) -> QuerySet:
    """Active regions at or below the regions where ``user`` holds ``codename`` (any when None).

    Ordered by path so that a select reads like the tree (province, its cities, their counties).
    School- and class-level grants give no region.
    """
    return scoped(user, Region.objects.filter(is_active=True), codename).order_by("path")


def authority_choices(user, codename: str = "manage_units") -> QuerySet:
    """Regions that may be a school's 学籍主管部门 for ``user``: the regions in scope and their ancestors.

    A county administrator may hang a senior high school under the city bureau above the county
    (DESIGN.md §3), so the ancestors of each granted region are offered too. The service checks
    that the authority is the school's region or one of its ancestors.
    """
    ancestors = {code for path in grants_for(user, codename).region_paths for code in path_codes(path)}
    return Region.objects.filter(Q(pk__in=regions_in_scope(user, codename).values("pk")) | Q(code__in=ancestors),
                                 is_active=True).order_by("path")


def region_labels(regions) -> dict[str, str]:
    """Labels "合肥市 / 瑶海区" for ``regions`` (an iterable of Regions), built without extra queries.

    Only the ancestors present in ``regions`` are named, so a county administrator reads "瑶海区".
    """
    regions = list(regions)
    names = {r.code: r.name for r in regions}
    return {r.code: " / ".join(names[c] for c in path_codes(r.path) if c in names) for r in regions}


def stage_order(lookup: str = "stage") -> Case:
    """An ordering expression putting stages as primary, junior, senior (not alphabetically)."""
    return Case(*(When(**{lookup: stage}, then=Value(digit)) for stage, digit in Grade.STAGE_DIGIT.items()),
                output_field=IntegerField())


STAGE_ORDER = stage_order()


def classes_in_order(queryset: QuerySet) -> QuerySet:
    """``queryset`` of classes ordered by stage, grade level and class number."""
    return queryset.order_by(stage_order("grade__stage"), "grade__level", "number")


def school_detail(user, pk: int) -> School | None:
    """The school ``pk`` if inside ``user``'s scope, with its grades and their classes prefetched."""
    classes = SchoolClass.objects.select_related("head_teacher").order_by("number")
    return (
        school_list(user)
        .prefetch_related(Prefetch("grades", queryset=Grade.objects.order_by(STAGE_ORDER, "level")
                                   .prefetch_related(Prefetch("classes", queryset=classes))))
        .filter(pk=pk)
        .first()
    )


def head_teacher_candidates(school: School) -> QuerySet:
    """Active accounts belonging to the school's region (or below): who may be a class's 班主任."""
    return (
        User.objects.filter(is_active=True, home_region__path__startswith=school.region.path)
        .order_by("real_name", "username")
    )
