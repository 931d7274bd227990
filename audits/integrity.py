"""The nightly integrity checks (数据核查, issue 6 §3) and their scoped results.

Each check is one set-based query (no Python loop over students) yielding rows
``{"key", "unit_path", "school_id", "region_id", "student_id", "province_code", "detail"}``;
``integrity_scan`` stores them as ``IntegrityIssue`` rows: new findings are inserted, findings seen
again get ``last_seen``, and open issues not found tonight get ``resolved_at``. The Python work is
proportional to the number of findings, not to the number of records.

Rules and their sources:
* no_class — an active record must sit in a class (DESIGN.md §4 "class");
* school_mismatch / grade_mismatch — 人籍一致 (DESIGN.md preamble): an open "present without
  record" case (roll checks) matches a live record by name, gender and birth date at another
  school, or at this school in another grade;
* suspension_expired — DESIGN.md §5 "an expired suspension without resumption is flagged";
* overdue_step — DESIGN.md §5, a current step past its due day;
* suspected_duplicate — open duplicate problem records (students.ProblemRecord, DESIGN.md §4);
* age_out_of_range — age on September 1 of the school year more than ``AGE_BELOW`` year younger or
  ``AGE_ABOVE`` years older than the grade's usual age (6 in primary grade 1, 义务教育法 art. 11;
  junior grade 1 at 12 in 6-3, 11 in 5-4; senior grade 1 at 15) — a house default;
* l_number_stale — a temporary L number older than six months (since the registration was approved,
  else since the record was created);
* roll_check_not_done — a roll check still open after its month (DESIGN.md §6, every month);
* archive_incomplete — a live record whose required archive lines are not all present one month
  after entry (DESIGN.md §6);
* no_registrar / no_approver — a unit that needs the role and has no active grant of it held by an
  active account (专人负责, DESIGN.md §1): a school holding records in use, and the bureau that is
  the authority of such a school (its approver ends every change; transfers give it a registrar
  step, DESIGN.md §5); empty schools and their bureaus are left alone;
* entry_not_finished — from October 1, a record created before then still draft or pending
  (new students registered by 9/30, DESIGN.md §6);
* graduation_not_finished — in August, an active student of a graduating grade; after the promotion,
  one the promotion skipped for that reason and who is still in the grade (graduation by 7/31).
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Role, RoleGrant
from agreements.rules import school_year_of
from schools.models import Region, School
from students.models import (
    CURRENT_STATUSES,
    LIVE_STATUSES,
    ArchiveItem,
    ArchiveItemType,
    ProblemRecord,
    Student,
    StudentStatus,
)
from students.services import add_months
from transfers.models import ApprovalStep, ChangeKind, ChangeStatus, StatusChange, StepStatus
from transfers.selectors import expired_suspensions
from xueji.access import scoped
from xueji.workdays import SHANGHAI

from .models import IntegrityIssue, IntegrityKind, RollCheck, UnrecordedChild
from .roll_services import month_start

AGE_BELOW, AGE_ABOVE = 1, 3
CHUNK = 900
STUDENT_ROW = ("pk", "name", "school_id", "school_path", "province_code")

Row = dict


def _student_rows(qs: QuerySet, describe: Callable[[dict], str], *extra: str) -> Iterable[Row]:
    for r in qs.values(*STUDENT_ROW, *extra).iterator(chunk_size=2000):
        yield {"key": f"student:{r['pk']}", "unit_path": r["school_path"], "school_id": r["school_id"],
               "region_id": None, "student_id": r["pk"], "province_code": r["province_code"], "detail": describe(r)}


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


# ---------------------------------------------------------------------------------------------
# The checks (each: today → rows)


def check_no_class(today: date) -> Iterable[Row]:
    qs = Student.objects.filter(status=StudentStatus.ACTIVE, school_class__isnull=True)
    return _student_rows(qs, lambda r: f"{r['name']}（{r['grade__name']}）在籍但未编入班级", "grade__name")


def _open_case(**match) -> QuerySet:
    return UnrecordedChild.objects.filter(status=UnrecordedChild.Status.OPEN, name=OuterRef("name"),
                                          gender=OuterRef("gender"), birth_date=OuterRef("birth_date"), **match)


def check_school_mismatch(today: date) -> Iterable[Row]:
    cases = _open_case().exclude(school_id=OuterRef("school_id")).order_by("pk")
    qs = (Student.objects.filter(status__in=LIVE_STATUSES).filter(Exists(cases))
          .annotate(case_path=Subquery(cases.values("school_path")[:1]),
                    case_school=Subquery(cases.values("school_id")[:1]),
                    case_school_name=Subquery(cases.values("school__name")[:1])))
    for r in qs.values(*STUDENT_ROW, "school__name", "case_path", "case_school", "case_school_name").iterator():
        yield {"key": f"student:{r['pk']}", "unit_path": r["case_path"], "school_id": r["case_school"],
               "region_id": None, "student_id": r["pk"], "province_code": r["province_code"],
               "detail": f"{r['name']}的学籍在{r['school__name']}，"
                         f"实际在{r['case_school_name']}就读（按月核对有人无籍）"}


def check_grade_mismatch(today: date) -> Iterable[Row]:
    cases = (_open_case(school_id=OuterRef("school_id")).exclude(school_class__grade_id=OuterRef("grade_id"))
             .order_by("pk"))
    qs = (Student.objects.filter(status__in=LIVE_STATUSES).filter(Exists(cases))
          .annotate(case_grade=Subquery(cases.values("school_class__grade__name")[:1])))
    return _student_rows(qs, lambda r: f"{r['name']}的学籍在{r['grade__name']}，实际在{r['case_grade']}就读",
                         "grade__name", "case_grade")


def check_suspension_expired(today: date) -> Iterable[Row]:
    qs = expired_suspensions(Student.objects.all(), today=today)
    return _student_rows(qs, lambda r: f"{r['name']}休学已于{r['suspended_until']:%Y-%m-%d}到期，未办理复学",
                         "suspended_until")


def check_overdue_step(today: date) -> Iterable[Row]:
    qs = (ApprovalStep.objects.filter(status=StepStatus.CURRENT, due_date__lt=today)
          .values("pk", "unit_path", "school_id", "region_id", "due_date", "change_id", "change__kind",
                  "change__student_id", "change__student__name", "change__province_code"))
    kinds = dict(ChangeKind.choices)
    for r in qs.iterator():
        who = r["change__student__name"] or "新生注册批次"
        yield {"key": f"step:{r['pk']}", "unit_path": r["unit_path"], "school_id": r["school_id"],
               "region_id": r["region_id"], "student_id": r["change__student_id"],
               "province_code": r["change__province_code"],
               "detail": f"{who}的{kinds.get(r['change__kind'], '')}（编号 {r['change_id']}）"
                         f"已超过办理期限{r['due_date']:%Y-%m-%d}"}


def check_suspected_duplicate(today: date) -> Iterable[Row]:
    qs = (ProblemRecord.objects.filter(status=ProblemRecord.Status.OPEN,
                                       kind__in=[ProblemRecord.Kind.DUPLICATE_WITH_ID,
                                                 ProblemRecord.Kind.DUPLICATE_WITHOUT_ID])
          .annotate(n=Count("members")).values("pk", "kind", "assigned_path", "assigned_school_id",
                                               "assigned_region_id", "province_code", "n"))
    for r in qs.iterator():
        yield {"key": f"problem:{r['pk']}", "unit_path": r["assigned_path"], "school_id": r["assigned_school_id"],
               "region_id": r["assigned_region_id"], "student_id": None, "province_code": r["province_code"],
               "detail": f"{ProblemRecord.Kind(r['kind']).label}（问题学籍 #{r['pk']}，涉及{r['n']}条学籍）"}


def _years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # February 29
        return day.replace(year=day.year - years, day=28)


def usual_age(stage: str, level: int, junior_years: int = 3) -> int:
    """The usual age on September 1 of a student in grade ``level`` of ``stage`` (6-3-3 or 5-4)."""
    if stage == "primary":
        return 5 + level
    if stage == "junior":
        return 14 - junior_years + level
    return 14 + level


def check_age_out_of_range(today: date) -> Iterable[Row]:
    ref = date(school_year_of(today), 9, 1)
    outside = Q(pk__in=[])
    combos = [("primary", level, 3) for level in range(1, 7)] + [
        ("junior", level, jy) for jy in (3, 4) for level in range(1, jy + 1)] + [("senior", lv, 3) for lv in (1, 2, 3)]
    for stage, level, jy in combos:
        age = usual_age(stage, level, jy)
        # Too young: born after the day they turned (age - AGE_BELOW); too old: aged age + AGE_ABOVE + 1 or more.
        young, old = _years_ago(ref, age - AGE_BELOW), _years_ago(ref, age + AGE_ABOVE + 1)
        grade = Q(grade__stage=stage, grade__level=level)
        if stage == "junior":
            grade &= Q(jy=jy)
        outside |= grade & (Q(birth_date__gt=young) | Q(birth_date__lte=old))
    qs = (Student.objects.filter(status=StudentStatus.ACTIVE)
          .annotate(jy=Coalesce("school__junior_years", 3)).filter(outside))
    return _student_rows(qs, lambda r: f"{r['name']}（{r['birth_date']:%Y-%m-%d}出生）与{r['grade__name']}的年龄不符",
                         "birth_date", "grade__name")


def check_l_number_stale(today: date) -> Iterable[Row]:
    registered = (StatusChange.objects.filter(kind=ChangeKind.REGISTRATION, status=ChangeStatus.APPROVED,
                                              students=OuterRef("pk"))
                  .order_by("-completed_at").values("completed_at")[:1])
    cutoff = _start_of(add_months(today, -6))
    qs = (Student.objects.filter(number_kind="L", status__in=LIVE_STATUSES)
          .annotate(since=Coalesce(Subquery(registered), F("created_at"))).filter(since__lt=cutoff))
    return _student_rows(qs, lambda r: f"{r['name']}的临时学籍号自{timezone.localtime(r['since']):%Y-%m-%d}起"
                                       "已超过六个月未转为正式学籍号", "since")


def check_roll_check_not_done(today: date) -> Iterable[Row]:
    qs = (RollCheck.objects.filter(status=RollCheck.Status.OPEN, month__lt=month_start(today))
          .values("pk", "school_path", "school_id", "province_code", "month", "school_class__name"))
    for r in qs.iterator():
        yield {"key": f"rollcheck:{r['pk']}", "unit_path": r["school_path"], "school_id": r["school_id"],
               "region_id": None, "student_id": None, "province_code": r["province_code"],
               "detail": f"{r['school_class__name']}{r['month']:%Y年%m月}的按月核对未完成"}


def check_archive_incomplete(today: date) -> Iterable[Row]:
    required = (ArchiveItemType.objects.filter(is_active=True, required=True)
                .filter(Q(province_code="") | Q(province_code=OuterRef("province_code")))
                .order_by().values("is_active").annotate(n=Count("id")).values("n"))
    present = (ArchiveItem.objects.filter(student=OuterRef("pk"), present=True, item_type__required=True,
                                          item_type__is_active=True)
               .order_by().values("student").annotate(n=Count("id")).values("n"))
    qs = (Student.objects.filter(status__in=LIVE_STATUSES, enrolled_on__lt=add_months(today, -1))
          .annotate(required_n=Coalesce(Subquery(required), 0), present_n=Coalesce(Subquery(present), 0))
          .filter(present_n__lt=F("required_n")))
    return _student_rows(qs, lambda r: f"{r['name']}入校（{r['enrolled_on']:%Y-%m-%d}）已满一个月，学籍档案缺"
                                       f"{r['required_n'] - r['present_n']}项",
                         "enrolled_on", "required_n", "present_n")


def _needs_staff() -> QuerySet:
    """Active schools holding at least one record still in use (draft, pending, active, suspended):
    the schools whose records need a registrar to keep them and an approver to decide on them."""
    current = Student.objects.filter(school=OuterRef("pk"), status__in=CURRENT_STATUSES)
    return School.objects.filter(is_active=True).filter(Exists(current))


def _held(role: str, **unit) -> QuerySet:
    # A grant counts only when it and its user are active: a suspended registrar grant (agreement
    # not signed) or a disabled account decides nothing (xueji.access ignores both).
    return RoleGrant.objects.filter(role=role, is_active=True, user__is_active=True, **unit)


def _units_without(role: str, label: str) -> Iterable[Row]:
    """Units that need someone holding ``role`` and have nobody (专人负责, DESIGN.md §1).

    Needing one: a school with records in use (``_needs_staff``) needs its own registrar and
    approver; a bureau that is the authority (学籍主管部门) of such a school needs both too, since
    registration and every change of the school end with its approver, and a transfer route gives
    the bureau a registrar step then an approver step (DESIGN.md §5, transfers.routes). A school
    without records, and a bureau that is the authority only of such schools, need nobody yet. Two
    queries, set-based."""
    needing = _needs_staff()
    for r in (needing.exclude(Exists(_held(role, school=OuterRef("pk"))))
              .values("pk", "name", "path", "province_code").iterator()):
        yield {"key": f"school:{r['pk']}", "unit_path": r["path"], "school_id": r["pk"], "region_id": None,
               "student_id": None, "province_code": r["province_code"], "detail": f"{r['name']}未指定{label}"}
    governed = needing.filter(authority=OuterRef("pk"))
    for r in (Region.objects.filter(Exists(governed)).exclude(Exists(_held(role, region=OuterRef("pk"))))
              .values("pk", "name", "path").iterator()):
        yield {"key": f"region:{r['pk']}", "unit_path": r["path"], "school_id": None, "region_id": r["pk"],
               "student_id": None, "province_code": r["pk"][:2], "detail": f"{r['name']}（学籍主管部门）未指定{label}"}


def check_no_registrar(today: date) -> Iterable[Row]:
    return _units_without(Role.REGISTRAR, "学籍管理员")


def check_no_approver(today: date) -> Iterable[Row]:
    return _units_without(Role.APPROVER, "学籍审核人")


def check_entry_not_finished(today: date) -> Iterable[Row]:
    deadline = date(school_year_of(today), 10, 1)
    if today < deadline:
        return []
    qs = Student.objects.filter(status__in=[StudentStatus.DRAFT, StudentStatus.PENDING],
                                created_at__lt=_start_of(deadline))
    labels = dict(StudentStatus.choices)
    return _student_rows(qs, lambda r: f"{r['name']}的学籍9月30日前未完成注册（{labels[r['status']]}）", "status")


def check_graduation_not_finished(today: date) -> Iterable[Row]:
    from schoolyear.models import PromotionSkip, SkipReason

    top = Case(When(grade__stage="primary", then=Coalesce("school__primary_years", 6)),
               When(grade__stage="junior", then=Coalesce("school__junior_years", 3)),
               default=Coalesce("school__senior_years", 3), output_field=IntegerField())
    promoted_year = today.year if today.month >= 8 else today.year - 1
    skipped = PromotionSkip.objects.filter(student=OuterRef("pk"), grade=OuterRef("grade_id"),
                                           reason=SkipReason.GRADUATING, run__school_year=promoted_year)
    late = Q(Exists(skipped))
    if today.month == 8:
        late |= Q(grade__level=F("top"))
    qs = Student.objects.filter(status=StudentStatus.ACTIVE).annotate(top=top).filter(late)
    return _student_rows(qs, lambda r: f"{r['name']}（{r['grade__name']}，毕业年级）7月31日前未办理毕业",
                         "grade__name")


CHECKS: dict[str, Callable[[date], Iterable[Row]]] = {
    IntegrityKind.NO_CLASS: check_no_class,
    IntegrityKind.SCHOOL_MISMATCH: check_school_mismatch,
    IntegrityKind.GRADE_MISMATCH: check_grade_mismatch,
    IntegrityKind.SUSPENSION_EXPIRED: check_suspension_expired,
    IntegrityKind.OVERDUE_STEP: check_overdue_step,
    IntegrityKind.SUSPECTED_DUPLICATE: check_suspected_duplicate,
    IntegrityKind.AGE_OUT_OF_RANGE: check_age_out_of_range,
    IntegrityKind.L_NUMBER_STALE: check_l_number_stale,
    IntegrityKind.ROLL_CHECK_NOT_DONE: check_roll_check_not_done,
    IntegrityKind.ARCHIVE_INCOMPLETE: check_archive_incomplete,
    IntegrityKind.NO_REGISTRAR: check_no_registrar,
    IntegrityKind.NO_APPROVER: check_no_approver,
    IntegrityKind.ENTRY_NOT_FINISHED: check_entry_not_finished,
    IntegrityKind.GRADUATION_NOT_FINISHED: check_graduation_not_finished,
}


# ---------------------------------------------------------------------------------------------
# Storing the findings


def integrity_scan(*, today: date | None = None, kinds: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """Run the checks (all, or ``kinds``) for ``today`` (default: today in Asia/Shanghai) and store
    the findings. Each kind in its own transaction. Returns {kind: {"found", "new", "resolved"}}.
    Takes no personal data; called nightly by ``audits.tasks.integrity_scan_nightly``."""
    today = today or timezone.localdate()
    return {kind: _store(kind, CHECKS[kind](today)) for kind in (kinds or CHECKS)}


@transaction.atomic
def _store(kind: str, rows: Iterable[Row]) -> dict[str, int]:
    now = timezone.now()
    existing = dict(IntegrityIssue.objects.filter(kind=kind, resolved_at__isnull=True).values_list("key", "pk"))
    seen: list[int] = []
    new: list[IntegrityIssue] = []
    added: set[str] = set()
    found = 0
    for row in rows:
        found += 1
        pk = existing.pop(row["key"], None)
        if pk is not None:
            seen.append(pk)
        elif row["key"] not in added:
            added.add(row["key"])
            new.append(IntegrityIssue(kind=kind, first_seen=now, last_seen=now, **{
                **row, "detail": row["detail"][:300], "unit_path": row["unit_path"] or ""}))
    # IntegrityIssue is not an audited model (see its docstring): plain bulk updates are right here.
    for start in range(0, len(seen), CHUNK):
        IntegrityIssue.objects.filter(pk__in=seen[start:start + CHUNK]).update(last_seen=now)
    gone = list(existing.values())
    for start in range(0, len(gone), CHUNK):
        IntegrityIssue.objects.filter(pk__in=gone[start:start + CHUNK]).update(resolved_at=now)
    IntegrityIssue.objects.bulk_create(new, batch_size=1000)
    return {"found": found, "new": len(new), "resolved": len(gone)}


# ---------------------------------------------------------------------------------------------
# Reading the findings


def integrity_counts(path: str) -> dict[str, int]:
    """Unresolved findings under the unit path ``path`` by kind: {kind: count} with every kind
    present (0 when none). Unscoped (the caller resolved the unit); one GROUP BY query on the
    partial index (unit_path, kind)."""
    rows = (IntegrityIssue.objects.filter(resolved_at__isnull=True, unit_path__startswith=path).order_by()
            .values("kind").annotate(n=Count("id")))
    counts = dict.fromkeys(IntegrityKind.values, 0)
    counts.update({r["kind"]: r["n"] for r in rows})
    return counts


def issues_for(user) -> QuerySet:
    """Unresolved findings in ``user``'s scope (view_students), with school, region and student."""
    return (scoped(user, IntegrityIssue.objects.filter(resolved_at__isnull=True), "view_students")
            .select_related("school", "region", "student"))


def counts_for(user, issues: QuerySet | None = None) -> dict[str, int]:
    """{kind: unresolved findings in ``user``'s scope} with every kind present (one GROUP BY).
    ``issues``: ``issues_for(user)`` already narrowed (e.g. to one region) to count instead."""
    issues = issues_for(user) if issues is None else issues
    rows = issues.order_by().values("kind").annotate(n=Count("id"))
    counts = dict.fromkeys(IntegrityKind.values, 0)
    counts.update({r["kind"]: r["n"] for r in rows})
    return counts
