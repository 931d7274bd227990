"""The numbers behind dashboards, scorecards and quarterly reports.

Dashboards and scorecards read precomputed figures (``DashboardFigure`` rows) because counting a
province's million records on every page view cannot answer in 100 ms. ``province_figures``
computes every figure of one province with a handful of GROUP BY queries (each over one indexed
province slice), attributes each count to its *leaf* unit (the school, or the bureau for a
bureau's own approval steps and cross-school problem records) and adds it to every unit on the
leaf's path, so a unit's figure covers its whole subtree (DESIGN.md §3: depth varies; paths,
not levels).

Metrics and keys (``value`` is a count):

=================  ===========================  ==============================================
metric             key                          what is counted
=================  ===========================  ==============================================
students           grade code ("11", "21" …)    active records by stage and grade
status             live status                  live records (pending, active, suspended)
changes            "YYYY-MM|kind"               changes submitted in that month (last 12 months)
pending            changes                      changes under review (在办), by the student's school
steps              open / overdue               current approval steps; those past due
problems           problem kind                 open problem records
verdicts           "YYYY|verdict"               sampled records of school year YYYY by verdict
rectifications     open / overdue / closed      notices to the unit; overdue = target late
timeliness         "YYYY|on_time" / "YYYY|late" steps due in school year YYYY decided by / after
                                                their due date (late includes current overdue)
archives           live / complete              live records; of those, archive complete
rollchecks         "YYYY-MM|total" / "|done" /  this month's class-roll checks, completed ones,
                   "|missing" / "|unrecorded"   and their mismatches (audits.RollCheck)
rollchecks_year    "YYYY|total" / "YYYY|done"   class-roll checks of school year YYYY
=================  ===========================  ==============================================

The roll-check metrics exist only when the audits app has its ``RollCheck`` model.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from schools.models import Grade
from students.models import LIVE_STATUSES, ArchiveItem, ArchiveItemType, ProblemRecord, Student, StudentStatus
from transfers.models import ApprovalStep, StatusChange, StepStatus
from xueji.scope import path_codes
from xueji.workdays import SHANGHAI

from .models import InspectionItem, RectificationNotice

Figures = dict[tuple[str, str, str], int]
STAGE_DIGIT = Grade.STAGE_DIGIT
MONTHS_SHOWN = 12


def ancestors(path: str) -> list[str]:
    """Every unit path from the province down to ``path`` itself.

    "340000/340100/340102/3401020001/" → ["340000/", "340000/340100/", …, the school's path].
    """
    codes = path_codes(path)
    return ["".join(f"{c}/" for c in codes[:i + 1]) for i in range(len(codes))]


def school_year_of(day: date) -> int:
    """The school year (its starting calendar year; Sept 1 – Aug 31) containing ``day``."""
    return day.year if day.month >= 9 else day.year - 1


def school_year_bounds(year: int) -> tuple[date, date]:
    """(first day, last day) of school year ``year``: Sept 1 ``year`` – Aug 31 ``year + 1``."""
    return date(year, 9, 1), date(year + 1, 8, 31)


def local_start(day: date) -> datetime:
    """00:00 of ``day`` in Asia/Shanghai, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def month_keys(today: date, count: int = MONTHS_SHOWN) -> list[str]:
    """The ``count`` months up to ``today``'s month as "YYYY-MM", oldest first."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def roll_check_model():
    """audits.RollCheck when the audits app has it (issue 6, class-roll verification), else None."""
    try:
        return apps.get_model("audits", "RollCheck")
    except LookupError:
        return None


class _Acc:
    """Adds leaf counts to every unit on the leaf's path."""

    def __init__(self):
        self.values: Figures = defaultdict(int)

    def add(self, leaf_path: str, metric: str, key: str, value: int) -> None:
        if not value:
            return
        for path in ancestors(leaf_path):
            self.values[(path, metric, key)] += value


def province_figures(province_code: str, now: datetime | None = None) -> Figures:
    """Every dashboard and scorecard figure of the province ``province_code`` (2 digits).

    Returns {(unit path, metric, key): value} for every unit with a non-zero value. ``now`` (aware)
    fixes the clock: today's date decides what is overdue, the months shown and the school years
    (the current and the previous one). About ten queries, each over the province's rows.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    year = school_year_of(today)
    acc = _Acc()
    _students(acc, province_code)
    _changes(acc, province_code, today)
    _pending(acc, province_code)
    _steps(acc, province_code, today)
    _problems(acc, province_code)
    _verdicts(acc, province_code, (year - 1, year))
    _rectifications(acc, province_code, today)
    _timeliness(acc, province_code, today, (year - 1, year))
    _archives(acc, province_code)
    _roll_checks(acc, province_code, today, (year - 1, year))
    return dict(acc.values)


def grade_code(stage: str, level: int) -> str:
    """National grade code: stage digit and level, "11" for primary grade 1 (schools.Grade.code)."""
    return f"{STAGE_DIGIT[stage]}{level}"


def _students(acc: _Acc, province: str) -> None:
    rows = (Student.objects.filter(province_code=province, status__in=LIVE_STATUSES).order_by()
            .values_list("school_path", "status", "grade__stage", "grade__level").annotate(n=Count("id")))
    for path, status, stage, level, n in rows:
        acc.add(path, "status", status, n)
        acc.add(path, "archives", "live", n)
        if status == StudentStatus.ACTIVE:
            acc.add(path, "students", grade_code(stage, level), n)


def _changes(acc: _Acc, province: str, today: date) -> None:
    first = month_keys(today)[0]
    since = local_start(date(int(first[:4]), int(first[5:]), 1))
    rows = (StatusChange.objects.filter(province_code=province, submitted_at__gte=since).order_by()
            .annotate(month=TruncMonth("submitted_at", tzinfo=SHANGHAI))
            .values_list("school_path", "month", "kind").annotate(n=Count("id")))
    for path, month, kind, n in rows:
        acc.add(path, "changes", f"{month:%Y-%m}|{kind}", n)


def _pending(acc: _Acc, province: str) -> None:
    rows = (StatusChange.objects.filter(province_code=province, status="pending").order_by()
            .values_list("school_path").annotate(n=Count("id")))
    for path, n in rows:
        acc.add(path, "pending", "changes", n)


def _province_steps(province: str):
    # Step paths start with the province's region code ("340000/…"): an indexed prefix range.
    return ApprovalStep.objects.filter(unit_path__startswith=f"{province}0000/").order_by()


def _steps(acc: _Acc, province: str, today: date) -> None:
    rows = (_province_steps(province).filter(status=StepStatus.CURRENT).values_list("unit_path")
            .annotate(n=Count("id"), late=Count("id", filter=Q(due_date__lt=today))))
    for path, n, late in rows:
        acc.add(path, "steps", "open", n)
        acc.add(path, "steps", "overdue", late)


def _problems(acc: _Acc, province: str) -> None:
    rows = (ProblemRecord.objects.filter(province_code=province, status=ProblemRecord.Status.OPEN).order_by()
            .values_list("assigned_path", "kind").annotate(n=Count("id")))
    for path, kind, n in rows:
        acc.add(path, "problems", kind, n)


def _verdicts(acc: _Acc, province: str, years) -> None:
    rows = (InspectionItem.objects.filter(province_code=province, inspection__school_year__in=years).order_by()
            .values_list("school_path", "inspection__school_year", "verdict").annotate(n=Count("id")))
    for path, year, verdict, n in rows:
        acc.add(path, "verdicts", f"{year}|{verdict}", n)


def _rectifications(acc: _Acc, province: str, today: date) -> None:
    late = Q(status__in=RectificationNotice.AWAITING_TARGET, deadline__lt=today)
    rows = (RectificationNotice.objects.filter(province_code=province).order_by().values_list("target_path")
            .annotate(open=Count("id", filter=Q(status__in=RectificationNotice.OPEN_STATUSES)),
                      overdue=Count("id", filter=late),
                      closed=Count("id", filter=Q(status=RectificationNotice.Status.CLOSED))))
    for path, open_, overdue, closed in rows:
        acc.add(path, "rectifications", "open", open_)
        acc.add(path, "rectifications", "overdue", overdue)
        acc.add(path, "rectifications", "closed", closed)


def _timeliness(acc: _Acc, province: str, today: date, years) -> None:
    for year in years:
        first, last = school_year_bounds(year)
        decided_day = TruncDate("decided_at", tzinfo=SHANGHAI)
        rows = (_province_steps(province).filter(due_date__gte=first, due_date__lte=last)
                .annotate(decided_day=decided_day).values_list("unit_path")
                .annotate(on_time=Count("id", filter=Q(status__in=(StepStatus.APPROVED, StepStatus.REJECTED),
                                                       decided_day__lte=F("due_date"))),
                          late=Count("id", filter=Q(status__in=(StepStatus.APPROVED, StepStatus.REJECTED),
                                                    decided_day__gt=F("due_date"))
                                     | Q(status=StepStatus.CURRENT, due_date__lt=today))))
        for path, on_time, late in rows:
            acc.add(path, "timeliness", f"{year}|on_time", on_time)
            acc.add(path, "timeliness", f"{year}|late", late)


def required_archive_counts() -> dict[str, int]:
    """Required active archive checklist lines per province code ("" = national lines only).

    A student's archive is complete when every required line of the national list and of its
    province's list is present (students.selectors.archive_overview uses the same rule)."""
    counts = defaultdict(int)
    for province, n in (ArchiveItemType.objects.filter(is_active=True, required=True).order_by()
                        .values_list("province_code").annotate(n=Count("id"))):
        counts[province] += n
    return counts


def _archives(acc: _Acc, province: str) -> None:
    counts = required_archive_counts()
    required = counts.get("", 0) + counts.get(province, 0)
    present = (ArchiveItem.objects.filter(student=OuterRef("pk"), present=True, item_type__required=True,
                                          item_type__is_active=True,
                                          item_type__province_code__in=("", province))
               .order_by().values("student").annotate(n=Count("id")).values("n"))
    # "archives"/"live" comes with the student counts (_students): one pass over the students less.
    live = Student.objects.filter(province_code=province, status__in=LIVE_STATUSES).order_by()
    if required == 0:
        complete = live.values_list("school_path").annotate(n=Count("id"))
    else:
        # Only students with at least one item can be complete: start from the items, not the students.
        with_items = live.filter(pk__in=ArchiveItem.objects.filter(present=True).values("student_id"))
        complete = (with_items.annotate(k=Coalesce(Subquery(present), 0)).filter(k__gte=required)
                    .values_list("school_path").annotate(n=Count("id")))
    for path, n in complete:
        acc.add(path, "archives", "complete", n)


def _roll_checks(acc: _Acc, province: str, today: date, years) -> None:
    RollCheck = roll_check_model()
    if RollCheck is None:
        return
    month = today.replace(day=1)
    key = f"{month:%Y-%m}"
    rows = (RollCheck.objects.filter(province_code=province, month=month).order_by().values_list("school_path")
            .annotate(total=Count("id"), done=Count("id", filter=Q(status="completed")),
                      missing=Coalesce(Sum("missing_count", filter=Q(status="completed")), 0),
                      unrecorded=Coalesce(Sum("unrecorded_count", filter=Q(status="completed")), 0)))
    for path, total, done, missing, unrecorded in rows:
        acc.add(path, "rollchecks", f"{key}|total", total)
        acc.add(path, "rollchecks", f"{key}|done", done)
        acc.add(path, "rollchecks", f"{key}|missing", missing)
        acc.add(path, "rollchecks", f"{key}|unrecorded", unrecorded)
    for year in years:
        first, last = school_year_bounds(year)
        rows = (RollCheck.objects.filter(province_code=province, month__gte=first, month__lte=last).order_by()
                .values_list("school_path")
                .annotate(total=Count("id"), done=Count("id", filter=Q(status="completed"))))
        for path, total, done in rows:
            acc.add(path, "rollchecks_year", f"{year}|total", total)
            acc.add(path, "rollchecks_year", f"{year}|done", done)


# --------------------------------------------------------------------------------------------
# Quarterly report


FLAG_COUNTS = {
    "left_behind": ("留守儿童", ~Q(left_behind="0")),
    "left_behind_both": ("其中双亲外出", Q(left_behind="2")),
    "migrant": ("进城务工人员随迁子女", Q(is_migrant_child=True)),
    "disability": ("残疾学生", ~Q(disability_type="0")),
    "inclusive": ("随班就读", ~Q(inclusive_class="0")),
    "orphan": ("孤儿", Q(is_orphan=True)),
    "martyr": ("烈士或优抚子女", Q(is_martyr_child=True)),
    "only_child": ("独生子女", Q(is_only_child=True)),
    "needs_aid": ("需要申请资助", Q(needs_aid=True)),
    "boarding": ("住校", Q(study_mode="2")),
}


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """(first day, last day) of calendar quarter ``quarter`` (1–4) of ``year``."""
    first = date(year, 3 * (quarter - 1) + 1, 1)
    after = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return first, after - timedelta(days=1)


def report_figures(path: str, province_code: str, year: int, quarter: int, now: datetime | None = None) -> dict:
    """The figures of a quarterly report for the unit at ``path`` (a city's region path).

    Counted directly from the records, not from the dashboard figures. Shape (JSON):

    ``{"period": {"year", "quarter", "first", "last"}, "as_of": ISO datetime,
    "students": {"total", "by_stage", "by_grade", "by_gender", "by_ethnicity", "flags"},
    "changes": {"submitted": {kind: n}, "completed": {kind: n}},
    "steps": {"due", "on_time", "late", "open_overdue", "overdue_rate"},
    "roll_checks": None or {"total", "done", "missing", "unrecorded"},
    "inspections": {"items", "verdicts": {verdict: n}, "answered"},
    "rectifications": {"issued", "closed", "open", "overdue"}}``.
    Student counts are active records at ``now``; the rest are events in the quarter (Asia/Shanghai
    days). ``overdue_rate`` is late / due (0 when none was due), rounded to 4 places.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    first, last = quarter_bounds(year, quarter)
    start, end = local_start(first), local_start(last + timedelta(days=1))
    students = Student.objects.filter(province_code=province_code, school_path__startswith=path,
                                      status=StudentStatus.ACTIVE).order_by()
    by_grade = {grade_code(s, lv): n for s, lv, n in
                students.values_list("grade__stage", "grade__level").annotate(n=Count("id"))}
    by_stage = defaultdict(int)
    for code, n in by_grade.items():
        by_stage[{"1": "primary", "2": "junior", "3": "senior"}[code[0]]] += n
    # Aliases prefixed: an aggregate may not share a model field's name (left_behind).
    counted = students.aggregate(**{f"flag_{k}": Count("id", filter=q) for k, (_, q) in FLAG_COUNTS.items()})
    flags = {k: counted[f"flag_{k}"] for k in FLAG_COUNTS}
    changes = StatusChange.objects.filter(province_code=province_code, school_path__startswith=path).order_by()
    steps = ApprovalStep.objects.filter(unit_path__startswith=path, due_date__gte=first, due_date__lte=last).order_by()
    decided = Q(status__in=(StepStatus.APPROVED, StepStatus.REJECTED))
    step_counts = steps.annotate(decided_day=TruncDate("decided_at", tzinfo=SHANGHAI)).aggregate(
        due=Count("id", filter=decided | Q(status=StepStatus.CURRENT)),
        on_time=Count("id", filter=decided & Q(decided_day__lte=F("due_date"))),
        late=Count("id", filter=(decided & Q(decided_day__gt=F("due_date")))
                   | Q(status=StepStatus.CURRENT, due_date__lt=today)),
        open_overdue=Count("id", filter=Q(status=StepStatus.CURRENT, due_date__lt=today)))
    step_counts["overdue_rate"] = round(step_counts["late"] / step_counts["due"], 4) if step_counts["due"] else 0
    items = InspectionItem.objects.filter(province_code=province_code, school_path__startswith=path,
                                          inspection__assigned_at__gte=start, inspection__assigned_at__lt=end)
    notices = RectificationNotice.objects.filter(province_code=province_code, target_path__startswith=path)
    return {
        "period": {"year": year, "quarter": quarter, "first": first.isoformat(), "last": last.isoformat()},
        "as_of": now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "students": {
            "total": sum(by_grade.values()),
            "by_stage": dict(by_stage),
            "by_grade": dict(sorted(by_grade.items())),
            "by_gender": dict(students.values_list("gender").annotate(n=Count("id"))),
            "by_ethnicity": dict(students.values_list("ethnicity").annotate(n=Count("id")).order_by("ethnicity")),
            "flags": flags,
        },
        "changes": {
            "submitted": dict(changes.filter(submitted_at__gte=start, submitted_at__lt=end)
                              .values_list("kind").annotate(n=Count("id"))),
            "completed": dict(changes.filter(completed_at__gte=start, completed_at__lt=end, status="approved")
                              .values_list("kind").annotate(n=Count("id"))),
        },
        "steps": step_counts,
        "roll_checks": _report_roll_checks(path, province_code, first, last),
        "inspections": {
            "items": items.count(),
            "answered": items.exclude(answer=InspectionItem.Answer.PENDING).count(),
            "verdicts": dict(items.order_by().values_list("verdict").annotate(n=Count("id"))),
        },
        "rectifications": {
            "issued": notices.filter(issued_at__gte=start, issued_at__lt=end).count(),
            "closed": notices.filter(closed_at__gte=start, closed_at__lt=end).count(),
            "open": notices.filter(status__in=RectificationNotice.OPEN_STATUSES).count(),
            "overdue": notices.filter(status__in=RectificationNotice.AWAITING_TARGET, deadline__lt=today).count(),
        },
    }


def _report_roll_checks(path: str, province_code: str, first: date, last: date) -> dict | None:
    RollCheck = roll_check_model()
    if RollCheck is None:
        return None
    done = Q(status="completed")
    return (RollCheck.objects.filter(province_code=province_code, school_path__startswith=path,
                                     month__gte=first, month__lte=last)
            .aggregate(total=Count("id"), done=Count("id", filter=done),
                       missing=Coalesce(Sum("missing_count", filter=done), 0),
                       unrecorded=Coalesce(Sum("unrecorded_count", filter=done), 0)))
