"""Pages of the school year: graduation (a grade's students with what blocks them, batches,
decisions, undo) and the promotion (runs, per-school results, skipped students).
Thin: access → form → service → response."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from schools.models import Grade, Region
from xueji.access import get_for_user, grants_for, has_unit_perm, held_codenames, require_unit_perm
from xueji.lists import paginate, search_query, sort_by

from . import selectors, services
from .forms import DecisionForm, GraduationForm, ReasonForm
from .models import GraduationBatch, GraduationEntry, SkipReason

BATCH_SORTS = {"-submitted": "-submitted_at", "submitted": "submitted_at", "school": "school_path",
               "-school": "-school_path"}
RESULT_SORTS = {"school": "school_path", "-promoted": "-promoted", "-skipped": "-skipped"}
SKIP_SORTS = {"school": "school_path", "reason": "reason", "-reason": "-reason"}


def _require_any(user, codename: str = "view_students") -> None:
    if codename not in held_codenames(user):
        raise PermissionDenied("您没有查看学籍的权限")


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# ---------------------------------------------------------------------------------------------
# Graduation


@login_required
def graduation_index(request):
    """Graduation batches in scope (search by school, filter by status, "waiting for me"), and the
    graduating grades of the schools where the user is the registrar."""
    _require_any(request.user)
    qs = selectors.batches_for(request.user)
    q = search_query(request)
    if q:
        qs = qs.filter(school__name__contains=q)
    status = request.GET.get("status", "")
    if status in GraduationBatch.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("mine") == "1":
        qs = qs.filter(_waiting_for(request.user))
    qs, sort = sort_by(request, qs, BATCH_SORTS, "-submitted")
    school_ids = grants_for(request.user, "edit_students").school_ids
    grades = list(Grade.objects.filter(school_id__in=school_ids).select_related("school")
                  .order_by("school__school_code", "stage", "-level"))
    own_grades = [g for g in grades if g.level == g.school.years_of(g.stage)]
    context = {"q": q, "status": status, "statuses": GraduationBatch.Status.choices, "sort": sort,
               "own_grades": own_grades, "mine": request.GET.get("mine") == "1", **paginate(request, qs)}
    return render(request, "schoolyear/graduation_index.html", context)


def _waiting_for(user) -> Q:
    grants = grants_for(user, "approve_changes")
    q = Q(status=GraduationBatch.Status.SUBMITTED, school_id__in=grants.school_ids)
    for path in grants.region_paths:
        q |= Q(status=GraduationBatch.Status.BUREAU, school__authority__path__startswith=path)
    return q


@login_required
@require_http_methods(["GET", "POST"])
def graduation_grade(request, pk: int):
    """The students of one graduating grade: those who may graduate (tick and choose 毕业 / 结业 /
    肄业) and those blocked by open business, each blocker linked to its page (a bureau rolls a
    stuck change back there). POST submits the batch (the school's registrar)."""
    grade = get_for_user(request.user, Grade.objects.select_related("school__authority"), "view_students", pk=pk)
    if grade.level != grade.school.years_of(grade.stage):
        raise Http404("该年级不是毕业年级")
    can_submit = has_unit_perm(request.user, "edit_students", grade.school)
    students = selectors.graduation_students(grade)
    blockers = selectors.graduation_blockers(students)
    eligible = [s for s in students if not blockers[s.pk]]
    blocked = [(s, blockers[s.pk]) for s in students if blockers[s.pk]]
    form = GraduationForm(request.POST or None, students=eligible)
    if request.method == "POST":
        require_unit_perm(request.user, "edit_students", grade.school)
        if form.is_valid():
            try:
                batch = services.graduation_submit(actor=request.user, grade=grade, outcomes=form.chosen())
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, f"已提交毕业批次（{batch.entries.count()}人），等待学校审核")
                return redirect("schoolyear:batch_detail", pk=batch.pk)
    context = {"grade": grade, "school": grade.school, "form": form, "blocked": blocked, "can_submit": can_submit,
               "batches": grade.graduation_batches.order_by("-submitted_at")[:20]}
    return render(request, "schoolyear/graduation_grade.html", context)


@login_required
def batch_detail(request, pk: int):
    """One batch: its students and outcomes, the decision form for whoever decides its current
    step, and an undo button per graduated student for the bureaus above the school."""
    batch = get_for_user(request.user, GraduationBatch.objects.select_related(
        "school__authority", "grade", "submitted_by", "school_decided_by", "bureau_decided_by"), "view_students", pk=pk)
    user = request.user
    acted = user.pk in (batch.submitted_by_id, batch.school_decided_by_id)
    can_decide = not acted and (
        (batch.status == GraduationBatch.Status.SUBMITTED and selectors.school_may_decide(user, batch))
        or (batch.status == GraduationBatch.Status.BUREAU and selectors.bureau_may_decide(user, batch)))
    context = {"batch": batch, "entries": selectors.batch_entries(batch), "can_decide": can_decide,
               "can_undo": batch.status == GraduationBatch.Status.COMPLETED
               and selectors.bureau_may_undo(user, batch.school),
               "decision_form": DecisionForm(), "reason_form": ReasonForm()}
    return render(request, "schoolyear/batch_detail.html", context)


@login_required
@require_POST
def batch_decide(request, pk: int):
    """Approve or reject the batch's current step (the service checks who may)."""
    batch = get_for_user(request.user, GraduationBatch.objects.all(), "approve_changes", pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("schoolyear:batch_detail", pk=pk)
    try:
        services.graduation_decide(actor=request.user, batch=batch, decision=form.cleaned_data["decision"],
                                   comment=form.cleaned_data["comment"])
        messages.success(request, "已处理")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("schoolyear:batch_detail", pk=pk)


@login_required
@require_POST
def entry_undo(request, pk: int):
    """A bureau undoes one student's graduation (reason required)."""
    entry = get_for_user(request.user, GraduationEntry.objects.select_related("batch"), "approve_changes", pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写撤销理由")
        return redirect("schoolyear:batch_detail", pk=entry.batch_id)
    try:
        services.graduation_undo(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
        messages.success(request, "已撤销该生的毕业，学籍恢复在籍")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("schoolyear:batch_detail", pk=entry.batch_id)


# ---------------------------------------------------------------------------------------------
# Promotion


@login_required
def promotion_index(request):
    """Promotion runs of the user's provinces; province-level approvers start this year's run."""
    _require_any(request.user)
    qs = selectors.runs_for(request.user).order_by("-school_year", "province_id", "pk")
    today = timezone.localdate()
    year = selectors.promotion_school_year(today)
    context = {"provinces": selectors.provinces_for_promotion(request.user), "school_year": year,
               "opens_on": selectors.promotion_opens_on(year), "today": today, **paginate(request, qs)}
    return render(request, "schoolyear/promotion_index.html", context)


@login_required
@require_POST
def promotion_start(request):
    """Start this year's promotion of a province (province-level approver)."""
    code = request.POST.get("province", "")
    if not code.isdigit():
        raise Http404("省份不存在")
    province = get_for_user(request.user, Region.objects.filter(level=Region.Level.PROVINCE), "approve_changes",
                            code=code)
    try:
        run = services.promotion_start(actor=request.user, province=province)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("schoolyear:promotion_index")
    messages.success(request, f"已发起{run}，正在后台执行")
    return redirect("schoolyear:run_detail", pk=run.pk)


@login_required
def run_detail(request, pk: int):
    """A run's status and totals for the user's units, and its results per school (searchable)."""
    run = selectors.run_for_user(request.user, pk)
    qs = selectors.run_results(request.user, run)
    q = search_query(request)
    if q:
        qs = qs.filter(school__name__contains=q)
    qs, sort = sort_by(request, qs, RESULT_SORTS, "school")
    context = {"run": run, "totals": selectors.run_totals(request.user, run), "q": q, "sort": sort,
               "skip_counts": _skip_rows(selectors.skip_counts(request.user, run)),
               "can_resume": run.status == run.Status.FAILED
               and run.path in grants_for(request.user, "approve_changes").region_paths,
               **paginate(request, qs)}
    return render(request, "schoolyear/run_detail.html", context)


def _skip_rows(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    return [(value, label, counts.get(value, 0)) for value, label in SkipReason.choices]


@login_required
def run_skips(request, pk: int):
    """Every student the run left in place, in the user's scope: by reason and school name."""
    run = selectors.run_for_user(request.user, pk)
    qs = selectors.run_skips(request.user, run)
    reason = request.GET.get("reason", "")
    if reason in SkipReason.values:
        qs = qs.filter(reason=reason)
    q = search_query(request)
    if q:
        qs = qs.filter(Q(school__name__contains=q) | Q(student__name__startswith=q))
    qs, sort = sort_by(request, qs, SKIP_SORTS, "school")
    context = {"run": run, "reason": reason, "reasons": SkipReason.choices, "q": q, "sort": sort,
               "can_catch_up": run.status == run.Status.DONE
               and run.path in grants_for(request.user, "approve_changes").region_paths,
               **paginate(request, qs)}
    return render(request, "schoolyear/run_skips.html", context)


@login_required
@require_POST
def run_catch_up(request, pk: int):
    """Promote the students the run skipped whose open business or missing class is resolved
    (province-level approver)."""
    run = selectors.run_for_user(request.user, pk)
    try:
        moved = services.promotion_catch_up(actor=request.user, run=run)
        messages.success(request, f"补升完成：{moved}人")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("schoolyear:run_skips", pk=pk)


@login_required
@require_POST
def run_resume(request, pk: int):
    """Queue a failed run again (province-level approver)."""
    run = selectors.run_for_user(request.user, pk)
    try:
        services.promotion_resume(actor=request.user, run=run)
        messages.success(request, "已重新排队执行")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("schoolyear:run_detail", pk=pk)
