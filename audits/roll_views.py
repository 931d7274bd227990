"""Pages of class-roll verification, follow-ups, the daily roll call and the integrity findings
(issue 6 §2–3). Thin: access → form → service → response. Every object comes through the access
layer: outside the user's scope 404, inside without the right 403.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.client_ip import client_ip
from schools.models import SchoolClass
from students.models import LIVE_STATUSES, Student
from xueji.access import get_for_user, has_unit_perm, held_codenames
from xueji.lists import paginate, search_query, sort_by, unit_filter
from xueji.workdays import is_working_day

from . import integrity, roll_selectors, roll_services
from .models import AbsenceFollowUp, DailyRollCall, IntegrityKind, RollCheck, UnrecordedChild
from .roll_forms import CloseForm, FollowUpForm, ResolveForm, RollCallForm, UnrecordedForm

CHECK_SORTS = {"class": "school_class__grade__level", "school": "school_path", "-school": "-school_path",
               "status": "status", "-missing": "-missing_count"}
SCHOOL_SORTS = {"school": "school__school_code", "rate": "completed", "-missing": "-missing",
                "-unrecorded": "-unrecorded"}
FOLLOW_UP_SORTS = {"-opened": "-opened_at", "opened": "opened_at", "school": "school_path"}
CASE_SORTS = {"-created": "-created_at", "created": "created_at", "school": "school_path"}
ISSUE_SORTS = {"unit": "unit_path", "-first": "-first_seen", "first": "first_seen"}


def _require_view(user) -> None:
    if "view_students" not in held_codenames(user):
        raise PermissionDenied("您没有查看学籍的权限")


def _month(request) -> date:
    """The month asked for as "YYYY-MM" (default and fallback: this month)."""
    value = request.GET.get("month", "")
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError):
        return timezone.localdate().replace(day=1)


def _in_region(request, queryset, path_field: str):
    """Narrow a scoped list to the region a link names (``region=<code>``: the bureau overview's
    and the dashboards' drill-down links, xueji.lists.unit_filter). Returns (queryset, the code
    kept in the page's forms, "" when none)."""
    code = request.GET.get("region", "")
    code = code if len(code) == 6 and code.isdigit() else ""
    return unit_filter(request, queryset, path_field, school=False), code


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# ---------------------------------------------------------------------------------------------
# Roll checks


@login_required
def roll_index(request):
    """The month's roll checks by class in the user's scope (a head teacher: their classes; a school:
    all its classes; a bureau: every class, narrowed by school), with status and counts."""
    _require_view(request.user)
    month = _month(request)
    qs = roll_selectors.roll_checks_for(request.user).filter(month=month)
    qs, region = _in_region(request, qs, "school_path")
    school = request.GET.get("school", "")
    if school.isdigit():
        qs = qs.filter(school_id=int(school))
    status = request.GET.get("status", "")
    if status in RollCheck.Status.values:
        qs = qs.filter(status=status)
    q = search_query(request)
    if q:
        qs = qs.filter(Q(school__name__contains=q) | Q(school_class__name__contains=q))
    qs, sort = sort_by(request, qs, CHECK_SORTS, "class")
    context = {"month": month, "status": status, "statuses": RollCheck.Status.choices, "q": q, "school": school,
               "region": region, "sort": sort, "tab": "checks", **paginate(request, qs)}
    return render(request, "audits/roll/index.html", context)


@login_required
def roll_schools(request):
    """Completion and mismatches of the month's roll checks, one row per school in scope."""
    _require_view(request.user)
    month = _month(request)
    qs, region = _in_region(request, roll_selectors.completion_by_school(request.user, month), "school_path")
    q = search_query(request)
    if q:
        qs = qs.filter(school__name__contains=q)
    key = request.GET.get("sort", "school")
    key = key if key in SCHOOL_SORTS else "school"
    qs = qs.order_by(SCHOOL_SORTS[key], "school_id")
    return render(request, "audits/roll/schools.html", {"month": month, "q": q, "sort": key, "tab": "schools",
                                                         "region": region, **paginate(request, qs)})


def _detail_context(request, roll_check: RollCheck, form=None) -> dict:
    can_roll = roll_check.status == RollCheck.Status.OPEN and has_unit_perm(request.user, "take_roll",
                                                                            roll_check.school_class)
    return {"check": roll_check, "roster": list(roll_selectors.roll_check_roster(roll_check)),
            "cases": list(roll_check.unrecorded.select_related("student")), "can_roll": can_roll,
            "form": form or UnrecordedForm()}


@login_required
def roll_check_detail(request, pk: int):
    """One roll check: the roster with a present/missing toggle per child (htmx), the children
    present without a record here, and the complete button."""
    roll_check = roll_selectors.roll_check_for_user(request.user, pk)
    return render(request, "audits/roll/check.html", _detail_context(request, roll_check))


@login_required
@require_POST
def roll_check_mark(request, pk: int, student_pk: int):
    """Toggle one child missing/present (htmx: returns the child's row)."""
    roll_check = roll_selectors.roll_check_for_user(request.user, pk, "take_roll")
    student = roll_services.roster(roll_check.school_class).filter(pk=student_pk).first()
    if student is None:
        raise Http404("该学生不在本班花名册上")
    missing = request.POST.get("missing") == "1"
    try:
        roll_services.roll_check_mark(actor=request.user, roll_check=roll_check, student=student, missing=missing)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("audits:roll_check", pk=pk)
    if request.htmx:
        student.presence = "missing" if missing else "present"
        return render(request, "audits/roll/_roster_row.html", {"check": roll_check, "s": student, "can_roll": True})
    return redirect("audits:roll_check", pk=pk)


@login_required
@require_POST
def roll_check_unrecorded(request, pk: int):
    """Add a child present without a record here; a bad form is shown again with its input."""
    roll_check = roll_selectors.roll_check_for_user(request.user, pk, "take_roll")
    form = UnrecordedForm(request.POST)
    if form.is_valid():
        try:
            roll_services.unrecorded_add(actor=request.user, roll_check=roll_check, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "已登记有人无籍学生，请学籍管理员办理注册或转入")
            return redirect("audits:roll_check", pk=pk)
    return render(request, "audits/roll/check.html", _detail_context(request, roll_check, form), status=200)


@login_required
@require_POST
def roll_check_complete(request, pk: int):
    """Complete the check (everyone not marked missing is confirmed present)."""
    roll_check = roll_selectors.roll_check_for_user(request.user, pk, "take_roll")
    try:
        roll_check = roll_services.roll_check_complete(actor=request.user, roll_check=roll_check)
        messages.success(request, f"核对已完成：不在校{roll_check.missing_count}人（已生成随访），"
                                  f"有人无籍{roll_check.unrecorded_count}人")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("audits:roll_check", pk=pk)


# ---------------------------------------------------------------------------------------------
# Present without record


@login_required
def unrecorded_list(request):
    """Children present without a record (open until registered or transferred in)."""
    _require_view(request.user)
    qs, region = _in_region(request, roll_selectors.unrecorded_for(request.user), "school_path")
    status = request.GET.get("status", "open")
    if status in UnrecordedChild.Status.values:
        qs = qs.filter(status=status)
    q = search_query(request)
    if q:
        qs = qs.filter(Q(name__startswith=q) | Q(school__name__contains=q))
    qs, sort = sort_by(request, qs, CASE_SORTS, "-created")
    context = {"status": status, "statuses": UnrecordedChild.Status.choices, "q": q, "sort": sort, "tab": "cases",
               "region": region, **paginate(request, qs)}
    return render(request, "audits/roll/unrecorded_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def unrecorded_detail(request, pk: int):
    """One case; the school's registrar resolves it with the child's record here, or as left."""
    case = get_for_user(request.user, UnrecordedChild.objects.select_related("school", "school_class", "student",
                                                                            "created_by", "resolved_by"),
                        "view_students", pk=pk)
    candidates = (Student.objects.filter(school_id=case.school_id, status__in=LIVE_STATUSES)
                  .filter(Q(name=case.name) | Q(birth_date=case.birth_date, gender=case.gender))
                  .select_related("grade").order_by("name_pinyin", "pk"))
    form = ResolveForm(request.POST or None, students=candidates)
    can_resolve = case.status == UnrecordedChild.Status.OPEN and has_unit_perm(request.user, "edit_students",
                                                                               case.school)
    if request.method == "POST":
        if not has_unit_perm(request.user, "edit_students", case.school):
            raise PermissionDenied("只有本校学籍管理员可以处理")
        if form.is_valid():
            try:
                roll_services.unrecorded_resolve(actor=request.user, case=case, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, "已处理")
                return redirect("audits:unrecorded_detail", pk=pk)
    return render(request, "audits/roll/unrecorded_detail.html",
                  {"case": case, "form": form, "can_resolve": can_resolve, "tab": "cases"})


# ---------------------------------------------------------------------------------------------
# Follow-ups


@login_required
def follow_up_list(request):
    """Follow-ups of absent children in scope (open ones first by default)."""
    _require_view(request.user)
    qs, region = _in_region(request, roll_selectors.follow_ups_for(request.user), "school_path")
    status = request.GET.get("status", "open")
    if status in AbsenceFollowUp.Status.values:
        qs = qs.filter(status=status)
    q = search_query(request)
    if q:
        qs = qs.filter(Q(student__name__startswith=q) | Q(school__name__contains=q))
    qs, sort = sort_by(request, qs, FOLLOW_UP_SORTS, "-opened")
    context = {"status": status, "statuses": AbsenceFollowUp.Status.choices, "q": q, "sort": sort,
               "tab": "followups", "region": region, **paginate(request, qs)}
    return render(request, "audits/roll/follow_up_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_detail(request, pk: int):
    """One follow-up: what was found (contacts, reason, destination, evidence), saved as often as
    needed by the head teacher or the registrar, and the outcome that closes it."""
    follow_up = roll_selectors.follow_up_for_user(request.user, pk)
    may = follow_up.status == AbsenceFollowUp.Status.OPEN and roll_services.may_follow_up(request.user, follow_up)
    initial = {"contacts": follow_up.contacts, "reason": follow_up.reason, "destination": follow_up.destination}
    form = FollowUpForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if not roll_services.may_follow_up(request.user, follow_up):
            raise PermissionDenied("只有班主任或本校学籍管理员可以随访")
        if form.is_valid():
            data = form.cleaned_data
            try:
                roll_services.absence_follow_up_update(actor=request.user, follow_up=follow_up, **data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "随访记录已保存")
                return redirect("audits:follow_up_detail", pk=pk)
    return render(request, "audits/roll/follow_up_detail.html",
                  {"follow_up": follow_up, "form": form, "close_form": CloseForm(), "may": may, "tab": "followups"})


@login_required
@require_POST
def follow_up_close(request, pk: int):
    """Close the follow-up with its outcome."""
    follow_up = roll_selectors.follow_up_for_user(request.user, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择随访结果")
        return redirect("audits:follow_up_detail", pk=pk)
    try:
        roll_services.absence_follow_up_close(actor=request.user, follow_up=follow_up,
                                              outcome=form.cleaned_data["outcome"])
        messages.success(request, "随访已结案")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("audits:follow_up_detail", pk=pk)


@login_required
def follow_up_evidence(request, pk: int):
    """The follow-up's evidence file (an access event in the audit log)."""
    follow_up = roll_selectors.follow_up_for_user(request.user, pk)
    try:
        handle = roll_services.absence_follow_up_evidence_open(actor=request.user, follow_up=follow_up,
                                                               ip_address=client_ip(request))
    except ValidationError as exc:
        raise Http404("没有佐证材料") from exc
    extension = follow_up.evidence.name[follow_up.evidence.name.rfind("."):]
    return FileResponse(handle, filename=f"followup-{follow_up.pk}{extension}")


# ---------------------------------------------------------------------------------------------
# Daily roll call


@login_required
@require_http_methods(["GET", "POST"])
def roll_call(request, pk: int):
    """The daily roll call of one class (``?date=YYYY-MM-DD``, default today): present, on leave or
    absent per child; the head teacher saves it, others in scope read it."""
    school_class = get_for_user(request.user, SchoolClass.objects.select_related("school", "grade"),
                                "view_students", pk=pk)
    raw = request.POST.get("date") or request.GET.get("date") or ""
    try:
        day = date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    call = DailyRollCall.objects.filter(school_class=school_class, date=day).select_related("taken_by").first()
    students = roll_services.roster(school_class).only("id", "name", "name_pinyin", "class_seat_number").order_by(
        "class_seat_number", "name_pinyin", "pk")
    form = RollCallForm(request.POST or None, students=students, marks=roll_selectors.attendance_marks(call))
    can_take = has_unit_perm(request.user, "take_roll", school_class)
    if request.method == "POST":
        if not can_take:
            raise PermissionDenied("只有班主任可以点名")
        if form.is_valid():
            try:
                roll_services.roll_call_take(actor=request.user, school_class=school_class, day=day,
                                             absences=form.absences())
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, f"{day:%Y-%m-%d} 点名已保存")
                return redirect(f"{request.path}?date={day:%Y-%m-%d}")
    context = {"school_class": school_class, "day": day, "call": call, "form": form, "can_take": can_take,
               "is_school_day": is_working_day(day)}
    return render(request, "audits/roll/roll_call.html", context)


# ---------------------------------------------------------------------------------------------
# Integrity findings


@login_required
def integrity_index(request):
    """Unresolved integrity findings in scope: counts by kind, and the list of one kind."""
    _require_view(request.user)
    issues, region = _in_region(request, integrity.issues_for(request.user), "unit_path")
    counts = integrity.counts_for(request.user, issues)
    kind = request.GET.get("kind", "")
    if kind not in IntegrityKind.values:
        kind = next((k for k, n in counts.items() if n), IntegrityKind.NO_CLASS)
    qs = issues.filter(kind=kind)
    q = search_query(request)
    if q:
        qs = qs.filter(detail__contains=q)
    qs, sort = sort_by(request, qs, ISSUE_SORTS, "unit")
    rows = [(value, label, counts[value]) for value, label in IntegrityKind.choices]
    context = {"rows": rows, "kind": kind, "kind_label": IntegrityKind(kind).label, "q": q, "sort": sort,
               "tab": "integrity", "region": region, **paginate(request, qs)}
    return render(request, "audits/roll/integrity.html", context)

