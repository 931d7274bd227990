"""Scoped reads of the oversight app, each with its select_related.

Who sees what:

* inspections: everyone holding a right on a unit at or above the inspected region (the bureaus
  in charge), plus the inspecting unit's staff (a cross-check's other county); acting needs
  ``inspect`` (``can_view_inspection``);
* sampled records to verify: the school's registrar (``edit_students`` on the school);
* rectification notices: the target unit and every bureau above it (the issuer included);
* quarterly reports: the city and the bureaus above it;
* dashboards and scorecards: the precomputed ``DashboardFigure`` rows of a unit.
"""

from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from schools.models import Region, School
from xueji.access import get_for_user, grants_for, grants_prefetch, has_unit_perm, holds, scope_q, scoped

from .models import DashboardFigure, FigureRefresh, Inspection, InspectionItem, QuarterlyReport, RectificationNotice

INSPECTION_RELATED = ("organiser", "inspecting_region", "inspected_region", "created_by")
NOTICE_RELATED = ("issuer", "target_region", "target_school", "issued_by")
# Who may open the oversight pages of a unit (a notice, a report, an inspection's results).
OVERSIGHT_CODENAMES = ("approve_changes", "inspect")


def _prefix_q(field: str, paths) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


# --------------------------------------------------------------------------------------------
# Inspections


def inspections_for(user) -> QuerySet:
    """Inspections ``user`` can find: inspected region under any of the user's region grants, or
    inspecting region under them (a cross-check's inspecting county). One query once the grants
    are known."""
    paths = grants_for(user).region_paths
    return (Inspection.objects.filter(_prefix_q("inspected_path", paths) | _prefix_q("inspecting_path", paths))
            .select_related(*INSPECTION_RELATED))


def inspections_visible(user) -> QuerySet:
    """Inspections whose results ``user`` may open: inspected region under the user's ``inspect``
    or ``approve_changes`` regions, or inspecting region under the user's ``inspect`` regions."""
    inspect = grants_for(user, "inspect").region_paths
    approve = grants_for(user, "approve_changes").region_paths
    return (Inspection.objects.filter(_prefix_q("inspected_path", inspect + approve)
                                      | _prefix_q("inspecting_path", inspect))
            .select_related(*INSPECTION_RELATED))


def can_view_inspection(user, inspection: Inspection) -> bool:
    """Inspectors of the inspecting or inspected side, and approvers of the inspected region."""
    return (has_unit_perm(user, "inspect", inspection.inspecting_region)
            or has_unit_perm(user, "inspect", inspection.inspected_region)
            or has_unit_perm(user, "approve_changes", inspection.inspected_region))


def inspection_for_user(user, pk: int) -> Inspection:
    """One inspection: 404 when ``user`` cannot find it, 403 without a right to its results."""
    inspection = inspections_for(user).filter(pk=pk).first()
    if inspection is None:
        raise Http404("抽查不存在或不在您的管辖范围内")
    if not can_view_inspection(user, inspection):
        raise PermissionDenied("您没有查看抽查结果的权限")
    return inspection


def inspection_items(inspection: Inspection) -> QuerySet:
    """The sampled records of ``inspection`` with the minimal student fields (ID masked on display)."""
    return (inspection.items.select_related("school", "student", "student__grade", "student__school_class",
                                            "answered_by", "verdict_by")
            .only("id", "inspection_id", "position", "answer", "answer_note", "evidence", "evidence_type",
                  "answered_at", "verdict", "verdict_note", "verdict_at", "school_path",
                  "school__name", "student__name", "student__gender", "student__birth_date",
                  "student__student_number", "student__id_number", "student__grade__name",
                  "student__school_class__name", "answered_by__real_name", "answered_by__username",
                  "verdict_by__real_name", "verdict_by__username"))


def verification_items(user) -> QuerySet:
    """Sampled records the user's schools must verify (``edit_students``), of inspections sent out."""
    qs = InspectionItem.objects.filter(inspection__status__in=(Inspection.Status.ASSIGNED, Inspection.Status.CLOSED))
    return scoped(user, qs, "edit_students").select_related(
        "inspection", "school", "student", "student__grade", "student__school_class")


def item_for_school(user, pk: int) -> InspectionItem:
    """One sampled record for its school's registrar: 404 outside the user's units (or not sent to
    the schools yet), 403 without ``edit_students`` (e.g. the principal)."""
    qs = InspectionItem.objects.filter(inspection__status__in=(Inspection.Status.ASSIGNED, Inspection.Status.CLOSED))
    return get_for_user(user, qs.select_related("inspection", "school", "student", "student__grade",
                                                "student__school_class"), "edit_students", pk=pk)


# --------------------------------------------------------------------------------------------
# Rectification notices


def notices_for(user) -> QuerySet:
    """Notices whose target is inside the units where ``user`` holds a right to oversight pages
    (approve_changes, inspect) or is the unit's registrar (edit_students)."""
    q = Q(pk__in=[])
    for codename in (*OVERSIGHT_CODENAMES, "edit_students"):
        q |= scope_q(RectificationNotice, grants_for(user, codename))
    return RectificationNotice.objects.filter(q).select_related(*NOTICE_RELATED)


def notice_for_user(user, pk: int) -> RectificationNotice:
    """One notice: 404 outside the user's units, 403 inside without a right to see notices."""
    notice = scoped(user, RectificationNotice.objects.select_related(*NOTICE_RELATED)).filter(pk=pk).first()
    if notice is None:
        raise Http404("整改通知不存在或不在您的管辖范围内")
    if not any(has_unit_perm(user, c, notice) for c in (*OVERSIGHT_CODENAMES, "edit_students")):
        raise PermissionDenied("您没有查看整改通知的权限")
    return notice


# --------------------------------------------------------------------------------------------
# Quarterly reports


def reports_for(user) -> QuerySet:
    """Quarterly reports of the cities inside the units where ``user`` holds approve_changes or inspect."""
    q = Q(pk__in=[])
    for codename in OVERSIGHT_CODENAMES:
        q |= scope_q(QuarterlyReport, grants_for(user, codename))
    return QuarterlyReport.objects.filter(q).select_related("city", "requested_by", "submitted_by")


def report_for_user(user, pk: int) -> QuarterlyReport:
    """One report: 404 outside the user's units, 403 inside without approve_changes or inspect."""
    report = scoped(user, QuarterlyReport.objects.select_related("city", "requested_by", "submitted_by")
                    ).filter(pk=pk).first()
    if report is None:
        raise Http404("报告不存在或不在您的管辖范围内")
    if not any(has_unit_perm(user, c, report) for c in OVERSIGHT_CODENAMES):
        raise PermissionDenied("您没有查看季度报告的权限")
    return report


# --------------------------------------------------------------------------------------------
# Units, dashboards and scorecards


def unit_for_user(user, kind: str, key: str, codenames: tuple[str, ...]):
    """The Region (``kind="region"``, ``key`` its code) or School (``kind="school"``, ``key`` its id)
    for ``user``: 404 outside the user's scope, 403 unless the user holds one of ``codenames``.

    Two queries: all the user's grants at once (``grants_prefetch``, which also answers the
    navigation and later rights checks of the page) and the unit (a region from the cache)."""
    grants_prefetch(user)
    if kind == "region":
        unit = cached_region(key)
    elif kind == "school" and str(key).isdigit():
        unit = School.objects.select_related("region").filter(pk=int(key)).first()
    else:
        unit = None
    if unit is None or not holds(user, None, unit):
        raise Http404("单位不存在或不在您的管辖范围内")
    if not any(holds(user, c, unit) for c in codenames):
        raise PermissionDenied("您没有查看该单位统计的权限")
    return unit


REGION_SECONDS = 60 * 60


def cached_region(code: str) -> Region | None:
    """The Region with GB/T 2260 ``code`` (None if none), cached for an hour: a region's path follows
    from its code and never changes, so access decisions stay exact; a renamed region shows its
    old name for up to an hour."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    key = f"oversight:region:{code}"
    region = cache.get(key)
    if region is None:
        region = Region.objects.filter(code=code).first()
        if region is not None:
            cache.set(key, region, REGION_SECONDS)
    return region


def top_unit(user, codenames: tuple[str, ...]):
    """The highest unit where ``user`` holds one of ``codenames`` (shortest region path, else a
    school), or None. Used to open the dashboard on the user's own unit."""
    paths, schools = set(), set()
    for codename in codenames:
        grants = grants_for(user, codename)
        paths |= set(grants.region_paths)
        schools |= set(grants.school_ids)
    if paths:
        return Region.objects.filter(path=min(paths, key=lambda p: (len(p), p))).first()
    if schools:
        return School.objects.filter(pk=min(schools)).first()
    return None


def unit_breadcrumb(unit) -> list[Region]:
    """The regions above ``unit`` from the province down (one query)."""
    path = unit.path
    codes = [c for c in path.split("/") if len(c) == 6]
    if isinstance(unit, Region):
        codes = codes[:-1]
    return list(Region.objects.filter(code__in=codes).order_by("path"))


def unit_children(unit) -> list:
    """The units directly below ``unit``: active child regions, then schools hung on it (none for a
    school). Two queries."""
    if isinstance(unit, School):
        return []
    regions = list(Region.objects.filter(parent=unit, is_active=True).order_by("code"))
    schools = list(School.objects.filter(region=unit, is_active=True).order_by("school_code"))
    return regions + schools


def unit_figures(path: str) -> dict[tuple[str, str], int]:
    """The precomputed figures of the unit at ``path``: {(metric, key): value}. One indexed query."""
    return {(m, k): v for m, k, v in DashboardFigure.objects.filter(unit_path=path).values_list("metric", "key",
                                                                                                 "value")}


def figures_of_units(paths: list[str], metrics: tuple[str, ...]) -> dict[str, dict[tuple[str, str], int]]:
    """Figures of several units at once: {path: {(metric, key): value}}, only ``metrics``. One query."""
    found: dict[str, dict] = {p: {} for p in paths}
    rows = DashboardFigure.objects.filter(unit_path__in=paths, metric__in=metrics).values_list(
        "unit_path", "metric", "key", "value")
    for path, metric, key, value in rows:
        found[path][(metric, key)] = value
    return found


def last_refresh(province_code: str) -> FigureRefresh | None:
    """When the province's figures were last computed (None: never)."""
    return FigureRefresh.objects.filter(province_code=province_code).first()


# Warm dashboards read their data from the cache (Redis in production): the figures change only
# when they are recomputed, so the cache key carries the province's refresh time ("version").
# A refresh sets the new version at commit; other processes (local-memory cache) see it within
# VERSION_SECONDS.
VERSION_SECONDS = 60
DATA_SECONDS = 15 * 60
# The children table and scorecards read these metrics of the units below.
CHILD_METRICS = ("status", "pending", "steps", "problems", "verdicts", "rectifications", "timeliness", "archives",
                 "rollchecks", "rollchecks_year")


def version_key(province_code: str) -> str:
    return f"oversight:figures-version:{province_code}"


def figures_version(province_code: str) -> str:
    """The refresh time (ISO) of the province's figures, "" when never computed. Cached."""
    version = cache.get(version_key(province_code))
    if version is None:
        refresh = last_refresh(province_code)
        version = refresh.computed_at.isoformat() if refresh else ""
        cache.set(version_key(province_code), version, VERSION_SECONDS)
    return version


def dashboard_data(unit) -> dict:
    """Everything a unit's dashboard or scorecard reads, cached per figures version:
    ``figures`` (the unit's, all metrics), ``children`` (units below), ``child_figures``
    ({path: figures}, ``CHILD_METRICS``), ``breadcrumb`` and ``refreshed_at`` (aware datetime or
    None). Cold: six queries; warm: none."""
    version = figures_version(unit.path[:2])
    key = f"oversight:dashboard:{version}:{unit.path}"
    data = cache.get(key)
    if data is None:
        children = unit_children(unit)
        data = {"figures": unit_figures(unit.path), "children": children,
                "child_figures": figures_of_units([c.path for c in children], CHILD_METRICS),
                "breadcrumb": unit_breadcrumb(unit),
                "refreshed_at": datetime.fromisoformat(version) if version else None}
        cache.set(key, data, DATA_SECONDS)
    return data
