"""What a dashboard or scorecard page shows, built from precomputed figures, with the link of every
figure to the list it counts (filters in the query string).

Links carry the unit: ``school=<id>`` or ``region=<code>`` (the student, change, problem and
oversight lists filter by them: xueji.lists.unit_filter), and for the approval queue
``school=<code>`` (its text filter) or ``region=<code>`` (the escalation view's subtree).
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from schools.models import School
from students.filters import GRADE_CODES
from students.models import ProblemRecord, StudentStatus
from transfers.models import ChangeKind

from .figures import month_keys, school_year_of

GRADE_NAMES = dict(GRADE_CODES)


def _url(name: str, params: dict) -> str:
    try:
        base = reverse(name)
    except NoReverseMatch:
        return ""
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(params)}" if params else base


def unit_params(unit, *, school_key: str = "pk") -> dict:
    """The query-string parameters naming ``unit`` in a list's filters."""
    if isinstance(unit, School):
        return {"school": unit.pk if school_key == "pk" else unit.school_code}
    return {"region": unit.code}


def unit_kind(unit) -> str:
    return "school" if isinstance(unit, School) else "region"


def unit_key(unit) -> str:
    return str(unit.pk) if isinstance(unit, School) else unit.code


def dashboard_url(unit) -> str:
    return reverse(f"oversight:dashboard_{unit_kind(unit)}", args=[unit_key(unit)])


def scorecard_url(unit) -> str:
    return reverse(f"oversight:scorecard_{unit_kind(unit)}", args=[unit_key(unit)])


def _sum(figures: dict, metric: str, prefix: str = "") -> int:
    return sum(v for (m, k), v in figures.items() if m == metric and k.startswith(prefix))


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Card:
    """One headline figure with the list it links to ("" when no list exists)."""

    label: str
    value: int | str
    link: str = ""
    tone: str = "primary"
    note: str = ""


@dataclass
class Dashboard:
    cards: list[Card] = field(default_factory=list)
    charts: dict = field(default_factory=dict)
    children: list[dict] = field(default_factory=list)
    roll_checks: dict | None = None


def build_dashboard(unit, figures: dict, children: list, child_figures: dict, today) -> Dashboard:
    """The dashboard of ``unit``: headline cards, chart data (with a link per bar or slice) and the
    children's summary rows (each linking to the child's own dashboard: drill-down to schools)."""
    params = unit_params(unit)
    year = school_year_of(today)
    month = f"{today:%Y-%m}"
    board = Dashboard()
    active = figures.get(("status", StudentStatus.ACTIVE), 0)
    board.cards = [
        Card("在籍学生", active, _url("students:list", {"status": "active", **params})),
        Card("休学", figures.get(("status", StudentStatus.SUSPENDED), 0),
             _url("students:list", {"status": "suspended", **params}), "secondary"),
        Card("审核中的业务", figures.get(("pending", "changes"), 0),
             _url("transfers:change_list", {"status": "pending", **params}), "info"),
        Card("逾期审核步骤", figures.get(("steps", "overdue"), 0), _overdue_link(unit), "danger"),
        Card("待处理问题学籍", _sum(figures, "problems"), _url("students:problem_list", {"status": "open", **params}),
             "warning"),
        Card("未整改通知", figures.get(("rectifications", "open"), 0),
             _url("oversight:rectification_list", {"status": "open", **params}), "warning",
             note=f"其中逾期 {figures.get(('rectifications', 'overdue'), 0)}"),
    ]
    done, total = figures.get(("rollchecks", f"{month}|done"), 0), figures.get(("rollchecks", f"{month}|total"), 0)
    if total:
        board.roll_checks = {
            "done": done, "total": total, "rate": _rate(done, total),
            "missing": figures.get(("rollchecks", f"{month}|missing"), 0),
            "unrecorded": figures.get(("rollchecks", f"{month}|unrecorded"), 0),
            "link": _roll_link(unit, month),
        }
    board.charts = {
        "grades": _grade_chart(figures, params),
        "months": _month_chart(figures, params, today),
        "verdicts": _verdict_chart(figures, params, year),
        "problems": [{"name": label, "value": figures.get(("problems", kind), 0),
                      "link": _url("students:problem_list", {"status": "open", "kind": kind, **params})}
                     for kind, label in ProblemRecord.Kind.choices if figures.get(("problems", kind))],
    }
    board.children = [_child_row(child, child_figures.get(child.path, {}), month) for child in children]
    return board


def _roll_link(unit, month: str) -> str:
    # audits' roll-check pages: a school's checks by class; a bureau's completion by school.
    if isinstance(unit, School):
        return _url("audits:roll_index", {"month": month, "school": unit.pk})
    return _url("audits:roll_schools", {"month": month, "region": unit.code})


def _overdue_link(unit) -> str:
    # A school's own overdue steps are in its queue; a bureau's subtree in the escalation view.
    if isinstance(unit, School):
        return _url("transfers:queue", {"overdue": "1", "school": unit.school_code})
    return _url("transfers:queue", {"view": "escalations", "overdue": "1", "region": unit.code})


def _grade_chart(figures: dict, params: dict) -> dict:
    codes = sorted(k for (m, k) in figures if m == "students")
    return {"labels": [GRADE_NAMES.get(c, c) for c in codes],
            "values": [figures[("students", c)] for c in codes],
            "links": [_url("students:list", {"status": "active", "grade": c, **params}) for c in codes]}


def _month_chart(figures: dict, params: dict, today) -> dict:
    months = month_keys(today)
    series = []
    for kind, label in ChangeKind.choices:
        data = [figures.get(("changes", f"{m}|{kind}"), 0) for m in months]
        if any(data):
            series.append({"name": label, "data": data,
                           "link": _url("transfers:change_list", {"kind": kind, **params})})
    return {"labels": months, "series": series}


def _verdict_chart(figures: dict, params: dict, year: int) -> list[dict]:
    from .models import InspectionItem

    return [{"name": label, "value": figures.get(("verdicts", f"{year}|{verdict}"), 0),
             "link": _url("oversight:inspection_list", {"verdict": verdict, **params})}
            for verdict, label in InspectionItem.Verdict.choices if figures.get(("verdicts", f"{year}|{verdict}"))]


def _child_row(child, figures: dict, month: str) -> dict:
    params = unit_params(child)
    total = figures.get(("rollchecks", f"{month}|total"), 0)
    return {
        "unit": child, "is_school": isinstance(child, School), "link": dashboard_url(child),
        "active": figures.get(("status", StudentStatus.ACTIVE), 0),
        "active_link": _url("students:list", {"status": "active", **params}),
        "pending": figures.get(("pending", "changes"), 0),
        "pending_link": _url("transfers:change_list", {"status": "pending", **params}),
        "overdue_steps": figures.get(("steps", "overdue"), 0),
        "overdue_link": _overdue_link(child),
        "problems": _sum(figures, "problems"),
        "problems_link": _url("students:problem_list", {"status": "open", **params}),
        "rectifications": figures.get(("rectifications", "open"), 0),
        "rectifications_link": _url("oversight:rectification_list", {"status": "open", **params}),
        "roll_rate": _rate(figures.get(("rollchecks", f"{month}|done"), 0), total),
        "roll_link": _roll_link(child, month),
    }


# --------------------------------------------------------------------------------------------
# Scorecards

SCORE_SORTS = ("name", "timeliness", "accuracy", "archives", "rollchecks", "rectifications")


def scorecard_row(unit, figures: dict, year: int) -> dict:
    """One unit's scorecard for school year ``year`` (percentages, None when nothing to measure).

    timeliness: approval steps due in the year decided by their due date / all due (decided or
    overdue); accuracy: sampled records judged correct / all judged; archives: live records with a
    complete archive / live records; roll checks: completed / opened in the year; open
    rectification notices."""
    on_time, late = figures.get(("timeliness", f"{year}|on_time"), 0), figures.get(("timeliness", f"{year}|late"), 0)
    judged = {v: figures.get(("verdicts", f"{year}|{v}"), 0) for v in ("correct", "corrected", "false")}
    roll_total = figures.get(("rollchecks_year", f"{year}|total"), 0)
    return {
        "unit": unit, "name": unit.name, "link": scorecard_url(unit),
        # Sorting "by unit" follows the codes (GB/T 2260, then 学校标识码), the order of official lists.
        "code": getattr(unit, "school_code", None) or unit.code,
        "timeliness": _rate(on_time, on_time + late), "steps_due": on_time + late, "steps_late": late,
        "accuracy": _rate(judged["correct"], sum(judged.values())), "judged": sum(judged.values()),
        "false": judged["false"],
        "archives": _rate(figures.get(("archives", "complete"), 0), figures.get(("archives", "live"), 0)),
        "rollchecks": _rate(figures.get(("rollchecks_year", f"{year}|done"), 0), roll_total),
        "rectifications": figures.get(("rectifications", "open"), 0),
        "rectifications_link": _url("oversight:rectification_list", {"status": "open", **unit_params(unit)}),
    }


def sort_rows(rows: list[dict], sort: str) -> tuple[list[dict], str]:
    """Sort scorecard rows by ``sort`` ("timeliness", "-accuracy", …; unknown → "name"). Units
    without a value go last whatever the direction."""
    key = sort.lstrip("-")
    if key not in SCORE_SORTS:
        sort, key = "name", "name"
    reverse_ = sort.startswith("-")
    key = "code" if key == "name" else key
    present = [r for r in rows if r[key] is not None]
    missing = [r for r in rows if r[key] is None]
    present.sort(key=lambda r: r[key], reverse=reverse_)
    return present + missing, sort
