"""Scoped reads of the school year: graduating grades and their students with what blocks them,
graduation batches, promotion runs with their per-school results and skipped students."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.http import Http404
from django.urls import reverse

from schools.models import Grade, Region, School, SchoolClass
from students.models import ProblemMember, ProblemRecord, Student, StudentStatus
from transfers.models import OPEN_STATUSES, StatusChange
from xueji.access import grants_for, scoped

from .models import GraduationBatch, GraduationEntry, PromotionRun, PromotionSchoolResult, PromotionSkip

PROMOTION_DAY = (8, 10)  # month, day: the national default date of the yearly promotion (DESIGN.md §6)
GRADUATION_DUE = (7, 31)  # graduation of the graduating grades is due by July 31 (DESIGN.md §6)


@dataclass(frozen=True)
class Blocker:
    """One piece of open business (在办业务) that keeps a student from graduating, with the page
    where it is dealt with. ``kind``: "change", "problem", "batch" or "status"."""

    kind: str
    label: str
    url: str = ""


def graduating_grades(school: School) -> list[Grade]:
    """The last grade of each stage ``school`` teaches (depends on its 学制), in stage order."""
    grades = {(g.stage, g.level): g for g in school.grades.all()}
    found = []
    for stage in school.stages():
        grade = grades.get((stage, school.years_of(stage)))
        if grade is not None:
            found.append(grade)
    return found


def graduation_blockers(students: list[Student]) -> dict[int, list[Blocker]]:
    """{student pk: blockers} for ``students``: an open status change (draft or pending), an open
    problem record, a place in another open graduation batch, or a status other than active (a
    suspended student graduates only after resuming). Three queries whatever the number of students.
    """
    pks = [s.pk for s in students]
    found: dict[int, list[Blocker]] = {pk: [] for pk in pks}
    for s in students:
        if s.status != StudentStatus.ACTIVE:
            found[s.pk].append(Blocker("status", f"学籍状态为“{s.get_status_display()}”"))
    changes = (StatusChange.objects.filter(student_id__in=pks, status__in=OPEN_STATUSES)
               .values_list("student_id", "pk", "kind", "status"))
    for student_id, pk, kind, status in changes:
        label = f"在办{dict(StatusChange._meta.get_field('kind').choices)[kind]}（编号 {pk}，"
        label += "草稿）" if status == "draft" else "审核中）"
        found[student_id].append(Blocker("change", label, reverse("transfers:change_detail", args=[pk])))
    problems = (ProblemMember.objects.filter(student_id__in=pks, problem__status=ProblemRecord.Status.OPEN)
                .values_list("student_id", "problem_id", "problem__kind"))
    for student_id, pk, kind in problems:
        label = f"未处理的问题学籍：{ProblemRecord.Kind(kind).label}（#{pk}）"
        found[student_id].append(Blocker("problem", label, reverse("students:problem_detail", args=[pk])))
    entries = (GraduationEntry.objects.filter(student_id__in=pks, state=GraduationEntry.State.PENDING)
               .values_list("student_id", "batch_id"))
    for student_id, batch_id in entries:
        found[student_id].append(Blocker("batch", f"已在毕业批次 #{batch_id} 中审核",
                                         reverse("schoolyear:batch_detail", args=[batch_id])))
    return found


def graduation_students(grade: Grade) -> list[Student]:
    """Active and suspended students of ``grade``, by class and name (one query)."""
    return list(Student.objects.filter(grade=grade, status__in=[StudentStatus.ACTIVE, StudentStatus.SUSPENDED])
                .select_related("school_class").order_by("school_class__number", "name_pinyin", "pk"))


def batches_for(user) -> QuerySet:
    """Graduation batches of schools in ``user``'s scope (view_students), with school, grade,
    submitter and entry count (one query)."""
    return (scoped(user, GraduationBatch.objects.all(), "view_students")
            .select_related("school", "grade", "submitted_by")
            .annotate(entry_count=Count("entries")))


def batch_entries(batch: GraduationBatch) -> QuerySet:
    """The entries of ``batch`` with their students and classes (one query)."""
    return batch.entries.select_related("student__school_class", "undone_by").order_by(
        "student__school_class__number", "student__name_pinyin", "pk")


def bureau_may_decide(user, batch: GraduationBatch) -> bool:
    """True when ``user`` approves for the school's authority bureau or a bureau above it."""
    authority_path = batch.school.authority.path
    return any(authority_path.startswith(p) for p in grants_for(user, "approve_changes").region_paths)


def school_may_decide(user, batch: GraduationBatch) -> bool:
    """True when ``user`` is an approver of the school itself (a bureau does not confirm for it)."""
    return batch.school_id in grants_for(user, "approve_changes").school_ids


def bureau_may_undo(user, school: School) -> bool:
    """True when ``user`` approves for a region above ``school`` (any bureau over it)."""
    return any(school.path.startswith(p) for p in grants_for(user, "approve_changes").region_paths)


# ---------------------------------------------------------------------------------------------
# Promotion


def promotion_school_year(today: date) -> int:
    """The school year a promotion started on ``today`` moves students into: the calendar year
    (August 2026 → 2026, i.e. 2026-2027)."""
    return today.year


def promotion_opens_on(school_year: int) -> date:
    """The first day the promotion into ``school_year`` may run (default August 10)."""
    return date(school_year, *PROMOTION_DAY)


def provinces_for_promotion(user) -> list[Region]:
    """The provinces where ``user`` holds ``approve_changes`` on the province itself."""
    paths = grants_for(user, "approve_changes").region_paths
    codes = [p.strip("/") for p in paths if p.count("/") == 1]
    return list(Region.objects.filter(code__in=codes, level=Region.Level.PROVINCE).order_by("code"))


def province_paths(user, codename: str | None = "view_students") -> set[str]:
    """Paths ("340000/") of the provinces where ``user`` holds ``codename`` (any when None) on some
    unit. One query for the grants, one more when the user holds school grants."""
    grants = grants_for(user, codename)
    # A province path is "340000/": the first seven characters of every path below it.
    paths = {p[:7] for p in grants.region_paths}
    school_ids = set(grants.school_ids)
    if grants.class_ids:
        school_ids |= set(SchoolClass.objects.filter(pk__in=grants.class_ids).values_list("school_id", flat=True))
    if school_ids:
        paths |= {f"{c}0000/" for c in School.objects.filter(pk__in=school_ids)
                  .values_list("province_code", flat=True)}
    return paths


def runs_for(user) -> QuerySet:
    """Promotion runs of the provinces where ``user`` reads student data: a province's run is
    visible to every unit below it (each sees the counts of its own schools on the run's page)."""
    return PromotionRun.objects.filter(path__in=province_paths(user)).select_related("province", "started_by")


def run_for_user(user, pk: int) -> PromotionRun:
    """The run ``pk``: Http404 when its province holds none of ``user``'s units, PermissionDenied
    when the user reads no student data there."""
    run = PromotionRun.objects.select_related("province", "started_by").filter(pk=pk).first()
    if run is None or run.path not in province_paths(user, None):
        raise Http404("升级批次不存在或不在您的管辖范围内")
    if run.path not in province_paths(user):
        raise PermissionDenied("您没有查看学籍的权限")
    return run


def run_results(user, run: PromotionRun) -> QuerySet:
    """Per-school results of ``run`` for schools in ``user``'s scope, with the school (one query)."""
    return scoped(user, run.results.all(), "view_students").select_related("school")


def run_totals(user, run: PromotionRun) -> dict:
    """{"schools", "promoted", "skipped", "classes_created"} over the schools in ``user``'s scope."""
    row = run_results(user, run).aggregate(schools=Count("id"), promoted=Sum("promoted"), skipped=Sum("skipped"),
                                           classes_created=Sum("classes_created"))
    return {k: v or 0 for k, v in row.items()}


def run_skips(user, run: PromotionRun) -> QuerySet:
    """Students ``run`` left in place, in ``user``'s scope, with student, school and grade."""
    return (scoped(user, run.skips.all(), "view_students")
            .select_related("student", "school", "grade").only(
                "id", "reason", "detail", "promoted_at", "school_path", "run_id", "student__id", "student__name",
                "student__status", "school__id", "school__name", "grade__id", "grade__name"))


def skip_counts(user, run: PromotionRun) -> dict[str, int]:
    """{reason: number of skipped students} in ``user``'s scope (one GROUP BY)."""
    rows = scoped(user, run.skips.all(), "view_students").order_by().values("reason").annotate(n=Count("id"))
    return {r["reason"]: r["n"] for r in rows}


def promotion_summary(path: str, school_year: int) -> dict:
    """Promotion counts of the schools under ``path`` (a region or school path) for ``school_year``:
    {"promoted", "skipped", "schools"} — for dashboards (one aggregate)."""
    row = (PromotionSchoolResult.objects.filter(run__school_year=school_year, school_path__startswith=path)
           .aggregate(promoted=Sum("promoted"), skipped=Sum("skipped"), schools=Count("id")))
    return {k: v or 0 for k, v in row.items()}


def skipped_students(path: str, school_year: int) -> QuerySet:
    """Skip rows of ``school_year``'s runs for schools under ``path`` (unscoped: callers scope)."""
    return PromotionSkip.objects.filter(run__school_year=school_year, school_path__startswith=path)
