"""Scoped reads of roll checks, follow-ups, "present without record" cases and daily roll calls,
and the figures other pages and dashboards count (issue 6 §2).

For dashboards (oversight): ``roll_check_completion(path, month)`` and ``mismatch_counts(path)``
take a unit's path (a Region's or School's ``path``) and answer with one aggregate each.
"""

from datetime import date

from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from xueji.access import get_for_user, scoped

from .models import AbsenceFollowUp, DailyAttendance, DailyRollCall, RollCheck, RollCheckEntry, UnrecordedChild
from .roll_services import month_start, roster


def roll_checks_for(user, codename: str = "view_students") -> QuerySet:
    """Roll checks of classes in ``user``'s scope (holding ``codename`` there), with class, grade,
    school and who completed them (one query)."""
    return (scoped(user, RollCheck.objects.all(), codename)
            .select_related("school_class__grade", "school", "completed_by"))


def roll_check_for_user(user, pk: int, codename: str = "view_students") -> RollCheck:
    """The roll check ``pk``: 404 outside ``user``'s scope, 403 without ``codename`` there."""
    return get_for_user(user, RollCheck.objects.select_related("school_class__grade", "school_class__school", "school",
                                                               "completed_by"), codename, pk=pk)


def roll_check_roster(roll_check: RollCheck) -> QuerySet:
    """The class's active records, each annotated with ``presence`` ("missing", "present" or ""
    when unmarked) from this check (one query)."""
    mark = RollCheckEntry.objects.filter(roll_check=roll_check, student=OuterRef("pk")).values("presence")[:1]
    return (roster(roll_check.school_class)
            .annotate(presence=Coalesce(Subquery(mark), Value(""), output_field=CharField()))
            .only("id", "name", "name_pinyin", "gender", "birth_date", "class_seat_number", "school_class_id",
                  "status")
            .order_by("class_seat_number", "name_pinyin", "pk"))


def completion_by_school(user, month: date) -> QuerySet:
    """Per school in ``user``'s scope, for ``month``: ``total`` checks, ``completed``, and the
    ``not_done``, and the mismatches found by completed checks (``missing``, ``unrecorded``). One GROUP BY query;
    rows are dicts with ``school_id``, ``school__name``, ``school__school_code``, ``school_path``."""
    return (roll_checks_for(user).filter(month=month_start(month)).order_by()
            .values("school_id", "school__name", "school__school_code", "school_path")
            .annotate(total=Count("id"), completed=Count("id", filter=Q(status=RollCheck.Status.COMPLETED)),
                      not_done=Count("id", filter=Q(status=RollCheck.Status.OPEN)),
                      missing=Coalesce(Sum("missing_count"), 0), unrecorded=Coalesce(Sum("unrecorded_count"), 0)))


def roll_check_completion(path: str, month: date | None = None) -> dict:
    """Roll-check figures of the unit whose path is ``path`` (everything below it) for ``month``
    (default: this month): {"total", "completed", "missing", "unrecorded", "rate"} where ``rate``
    is completed / total in per cent (0–100, one decimal; 0.0 when there is no check).
    Unscoped (the caller has resolved the unit through the access layer). One aggregate query."""
    from django.utils import timezone

    month = month_start(month or timezone.localdate())
    row = (RollCheck.objects.filter(month=month, school_path__startswith=path)
           .aggregate(total=Count("id"), completed=Count("id", filter=Q(status=RollCheck.Status.COMPLETED)),
                      missing=Coalesce(Sum("missing_count"), 0), unrecorded=Coalesce(Sum("unrecorded_count"), 0)))
    row["rate"] = round(100 * row["completed"] / row["total"], 1) if row["total"] else 0.0
    return row


def mismatch_counts(path: str) -> dict:
    """Record–attendance mismatches (人籍分离) still open under ``path``: ``missing`` = open
    follow-ups of recorded children not in school (有籍无人, from roll checks and three-day
    absences), ``unrecorded`` = open "present without record" cases (有人无籍), ``total`` = both.
    They fall as follow-ups close and cases are resolved. Unscoped; two count queries."""
    missing = AbsenceFollowUp.objects.filter(status=AbsenceFollowUp.Status.OPEN, school_path__startswith=path).count()
    unrecorded = UnrecordedChild.objects.filter(status=UnrecordedChild.Status.OPEN,
                                                school_path__startswith=path).count()
    return {"missing": missing, "unrecorded": unrecorded, "total": missing + unrecorded}


def follow_ups_for(user) -> QuerySet:
    """Follow-ups of absent children in ``user``'s scope, with student, school and class."""
    return (scoped(user, AbsenceFollowUp.objects.all(), "view_students")
            .select_related("student", "school", "school_class", "closed_by"))


def follow_up_for_user(user, pk: int) -> AbsenceFollowUp:
    """The follow-up ``pk``: 404 outside ``user``'s scope, 403 without ``view_students`` there."""
    return get_for_user(user, AbsenceFollowUp.objects.select_related(
        "student__grade", "school", "school_class", "roll_check", "change", "opened_by", "closed_by"),
        "view_students", pk=pk)


def unrecorded_for(user) -> QuerySet:
    """"Present without record" cases in ``user``'s scope, with class, school and resolving record."""
    return (scoped(user, UnrecordedChild.objects.all(), "view_students")
            .select_related("school", "school_class", "student", "roll_check"))


def attendance_marks(call: DailyRollCall | None) -> dict[int, str]:
    """{student pk: "leave" | "absent"} of a roll call (empty when there is none)."""
    if call is None:
        return {}
    return dict(DailyAttendance.objects.filter(roll_call=call).values_list("student_id", "status"))
