"""Precomputed dashboard figures equal counts taken directly from the records, for a province, a
city, a county and a school; refresh replaces a province's figures and nothing else."""

from datetime import date, timedelta

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from oversight import figures
from oversight.models import DashboardFigure, FigureRefresh, InspectionItem, RectificationNotice
from oversight.selectors import unit_figures
from oversight.services import (
    figures_refresh,
)
from students.models import ProblemRecord, Student
from students.services import archive_item_types_for
from transfers.models import ApprovalStep, StatusChange

from .conftest import make_student

PATHS = {"province": "340000/", "city": "340000/340100/", "county": "340000/340100/340102/"}


def archive_complete(student) -> bool:
    required = {t.pk for t in archive_item_types_for(student.province_code) if t.required}
    present = set(student.archive_items.filter(present=True).values_list("item_type_id", flat=True))
    return required <= present


def direct(path: str, now) -> dict[tuple[str, str], int]:
    """The dashboard's figures for the unit at ``path``, counted straight from the records."""
    today = timezone.localdate(now)
    year = figures.school_year_of(today)
    found = {}
    active = Student.objects.filter(school_path__startswith=path, status="active")
    for stage, level, n in active.values_list("grade__stage", "grade__level").annotate(n=Count("id")):
        found[("students", figures.grade_code(stage, level))] = n
    live = Student.objects.filter(school_path__startswith=path, status__in=("pending", "active", "suspended"))
    for status, n in live.values_list("status").annotate(n=Count("id")):
        found[("status", status)] = n
    found[("archives", "live")] = live.count()
    found[("archives", "complete")] = sum(1 for student in live if archive_complete(student))
    found[("pending", "changes")] = StatusChange.objects.filter(school_path__startswith=path, status="pending").count()
    current = ApprovalStep.objects.filter(unit_path__startswith=path, status="current")
    found[("steps", "open")] = current.count()
    found[("steps", "overdue")] = current.filter(due_date__lt=today).count()
    for kind, n in (ProblemRecord.objects.filter(assigned_path__startswith=path, status="open")
                    .values_list("kind").annotate(n=Count("id"))):
        found[("problems", kind)] = n
    for change in StatusChange.objects.filter(school_path__startswith=path, submitted_at__isnull=False):
        key = ("changes", f"{timezone.localtime(change.submitted_at):%Y-%m}|{change.kind}")
        found[key] = found.get(key, 0) + 1
    for verdict, n in (InspectionItem.objects.filter(school_path__startswith=path, inspection__school_year=year)
                       .values_list("verdict").annotate(n=Count("id"))):
        found[("verdicts", f"{year}|{verdict}")] = n
    notices = RectificationNotice.objects.filter(target_path__startswith=path)
    found[("rectifications", "open")] = notices.exclude(status="closed").count()
    found[("rectifications", "overdue")] = notices.filter(status__in=("issued", "returned"),
                                                          deadline__lt=today).count()
    first, last = figures.school_year_bounds(year)
    due = ApprovalStep.objects.filter(unit_path__startswith=path, due_date__gte=first, due_date__lte=last)
    on_time = late = 0
    for step in due:
        if step.status in ("approved", "rejected"):
            if timezone.localdate(step.decided_at) <= step.due_date:
                on_time += 1
            else:
                late += 1
        elif step.status == "current" and step.due_date < today:
            late += 1
    found[("timeliness", f"{year}|on_time")] = on_time
    found[("timeliness", f"{year}|late")] = late
    return {k: v for k, v in found.items() if v}


def stored(path: str) -> dict[tuple[str, str], int]:
    year = figures.school_year_of(timezone.localdate())
    # Last school year's keys are empty in these tests; roll checks belong to the audits app's tests.
    return {k: v for k, v in unit_figures(path).items()
            if not k[0].startswith("rollchecks") and not k[1].startswith(f"{year - 1}|")}


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["province", "city", "county", "school"])
def test_figures_equal_direct_counts(busy, level):
    now = timezone.now() + timedelta(days=1)  # tomorrow: the notice due today is overdue
    figures_refresh(province_code="34", now=now)
    path = busy.school_a.path if level == "school" else PATHS[level]
    expected = direct(path, now)
    assert stored(path) == expected
    # The fixture made sure there is something to count at each level.
    assert expected[("status", "active")] and expected[("archives", "complete")] == 1
    assert expected[("rectifications", "overdue")] == 1 and expected[("steps", "open")]
    if level != "school":
        assert expected[("steps", "overdue")] == 1 and sum(v for (m, _), v in expected.items() if m == "verdicts") == 5


@pytest.mark.django_db
def test_a_bureau_step_and_a_cross_school_problem_count_for_the_bureau_and_above(busy):
    figures_refresh(province_code="34")
    city = unit_figures(PATHS["city"])
    assert city[("problems", "duplicate_without_id")] == 1
    assert ("problems", "duplicate_without_id") not in unit_figures(PATHS["county"])


@pytest.mark.django_db
def test_refresh_replaces_one_province_only(busy):
    figures_refresh(province_code="34")
    figures_refresh(province_code="42")
    before = DashboardFigure.objects.filter(province_code="42").count()
    make_student(busy.school_a, name="新")
    figures_refresh(province_code="34")
    assert DashboardFigure.objects.filter(province_code="42").count() == before
    assert unit_figures("420000/")[("status", "active")] == 1
    assert FigureRefresh.objects.get(province_code="34").seconds >= 0


def test_ancestors_and_months():
    assert figures.ancestors("340000/340100/340102/3401020001/") == [
        "340000/", "340000/340100/", "340000/340100/340102/", "340000/340100/340102/3401020001/"]
    assert figures.ancestors("420000/429004/") == ["420000/", "420000/429004/"]
    assert figures.month_keys(date(2026, 2, 10), 3) == ["2025-12", "2026-01", "2026-02"]
    assert figures.quarter_bounds(2026, 4) == (date(2026, 10, 1), date(2026, 12, 31))
    assert figures.quarter_bounds(2026, 1) == (date(2026, 1, 1), date(2026, 3, 31))


@pytest.mark.django_db
def test_roll_check_completion_and_mismatches(cast, students, client_for):
    from audits.models import RollCheck
    from audits.roll_services import roll_check_complete, roll_check_mark, roll_checks_open, unrecorded_add

    month = timezone.localdate().replace(day=1)
    roll_checks_open(month=month)
    check = RollCheck.objects.get(school_class=cast.class_a, month=month)
    child = Student.objects.filter(school_class=cast.class_a).first()
    roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=child, missing=True)
    unrecorded_add(actor=cast.head_teacher_a, roll_check=check, name="借读生", gender="1", birth_date=date(2019, 5, 1))
    roll_check_complete(actor=cast.head_teacher_a, roll_check=check)
    figures_refresh(province_code="34")
    key = f"{month:%Y-%m}"
    year = figures.school_year_of(timezone.localdate())
    for path in (*PATHS.values(), cast.school_a.path):
        checks = RollCheck.objects.filter(school_path__startswith=path, month=month)
        stored = unit_figures(path)
        assert stored.get(("rollchecks", f"{key}|total"), 0) == checks.count() > 0
        assert stored.get(("rollchecks", f"{key}|done"), 0) == checks.filter(status="completed").count() == 1
        assert stored[("rollchecks", f"{key}|missing")] == 1 and stored[("rollchecks", f"{key}|unrecorded")] == 1
        assert stored[("rollchecks_year", f"{year}|total")] == checks.count()
    board = client_for(cast.county_approver).get(reverse("oversight:dashboard_region", args=["340102"])
                                                 ).context["board"]
    assert board.roll_checks["missing"] == 1 and board.roll_checks["done"] == 1
    assert board.roll_checks["link"] == f"/audits/roll/schools/?month={key}&region=340102"
    school_board = client_for(cast.registrar_a).get(
        reverse("oversight:dashboard_school", args=[cast.school_a.pk])).context["board"]
    response = client_for(cast.registrar_a).get(school_board.roll_checks["link"])
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == school_board.roll_checks["total"]
