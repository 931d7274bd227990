"""Pages of the oversight app: dashboards, scorecards, sampling inspections, school verification,
rectification notices and quarterly reports.

Every view resolves its objects through oversight.selectors (404 outside the user's units, 403
inside without the right), validates a form and calls one service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from accounts.client_ip import client_ip
from schools.models import Region
from xueji.access import grants_for, has_unit_perm, held_codenames, holds
from xueji.lists import paginate, search_query, sort_by, unit_filter

from . import dashboards, selectors, services
from .figures import school_year_of
from .forms import (
    AnswerForm,
    AssignForm,
    InspectionForm,
    JudgeForm,
    NoticeForm,
    ReplyForm,
    ReportRequestForm,
    ReviewForm,
    SubmitForm,
)
from .models import Failing, Inspection, InspectionItem, QuarterlyReport, RectificationNotice
from .reports import as_of_label, report_sections, report_workbook

OVERSIGHT = selectors.OVERSIGHT_CODENAMES


def _require_any(request, *codenames: str) -> None:
    if not set(codenames) & held_codenames(request.user):
        raise PermissionDenied("您没有访问此页面的权限")


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the matching field, or on top of the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, [m for e in errors for m in e.messages])
    else:
        form.add_error(None, exc.messages)


def _flash(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --------------------------------------------------------------------------------------------
# Dashboards and scorecards


@login_required
def dashboard_home(request):
    """Open the dashboard of the user's highest unit."""
    unit = selectors.top_unit(request.user, ("view_students",))
    if unit is None:
        raise PermissionDenied("您没有查看统计的权限")
    return redirect(dashboards.dashboard_url(unit))


@login_required
def dashboard(request, kind: str, key: str):
    """A unit's dashboard (province, city, county or school) from the precomputed figures, with
    its children for drill-down. Needs ``view_students`` on the unit."""
    unit = selectors.unit_for_user(request.user, kind, key, ("view_students",))
    data = selectors.dashboard_data(unit)
    context = {"unit": unit, "board_html": _board_html(unit, data), "breadcrumb": data["breadcrumb"],
               "refreshed_at": data["refreshed_at"], "is_region": isinstance(unit, Region),
               "can_refresh": isinstance(unit, Region) and holds(request.user, "approve_changes", unit),
               "scorecard_url": dashboards.scorecard_url(unit)}
    return render(request, "oversight/dashboard.html", context)


def _board_html(unit, data: dict) -> str:
    """The figures part of a unit's dashboard as HTML, cached per figures version and day: the same
    for every user who may open the page (links only; lists behind them apply each user's scope)."""
    today = timezone.localdate()
    key = f"oversight:board:{selectors.figures_version(unit.path[:2])}:{today}:{unit.path}"
    html = cache.get(key)
    if html is None:
        board = dashboards.build_dashboard(unit, data["figures"], data["children"], data["child_figures"], today)
        html = render_to_string("oversight/_board.html", {"board": board})
        cache.set(key, html, selectors.DATA_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by our own template, escaped there


@login_required
@require_POST
def dashboard_refresh(request, code: str):
    """The bureau's "refresh now" button: queue a recomputation of the province's figures."""
    unit = selectors.unit_for_user(request.user, "region", code, ("approve_changes",))
    if services.figures_refresh_request(actor=request.user, unit=unit):
        messages.success(request, "已开始更新统计数据，稍后刷新页面即可看到最新数据")
    else:
        messages.info(request, "统计数据刚刚更新过，请一分钟后再试")
    return redirect(dashboards.dashboard_url(unit))


@login_required
def scorecard_home(request):
    unit = selectors.top_unit(request.user, OVERSIGHT)
    if unit is None:
        raise PermissionDenied("您没有查看考核评价的权限")
    return redirect(dashboards.scorecard_url(unit))


@login_required
def scorecard(request, kind: str, key: str):
    """The scorecard of a unit and of each unit directly below it for one school year, sortable.
    Needs ``approve_changes`` or ``inspect`` on the unit."""
    unit = selectors.unit_for_user(request.user, kind, key, OVERSIGHT)
    current = school_year_of(timezone.localdate())
    year = request.GET.get("year", "")
    year = int(year) if year.isdigit() and current - 1 <= int(year) <= current else current
    data = selectors.dashboard_data(unit)
    rows, sort = dashboards.sort_rows([dashboards.scorecard_row(c, data["child_figures"][c.path], year)
                                       for c in data["children"]], request.GET.get("sort", "name"))
    context = {"unit": unit, "own": dashboards.scorecard_row(unit, data["figures"], year), "rows": rows,
               "sort": sort, "year": year, "years": [current, current - 1], "breadcrumb": data["breadcrumb"],
               "refreshed_at": data["refreshed_at"], "dashboard_url": dashboards.dashboard_url(unit),
               "can_issue": isinstance(unit, Region) and holds(request.user, "approve_changes", unit)}
    return render(request, "oversight/scorecard.html", context)


# --------------------------------------------------------------------------------------------
# Sampling inspections

INSPECTION_SORTS = {"-created": "-created_at", "created": "created_at", "title": "title", "status": "status"}
ITEM_SORTS = {"position": "position", "school": "school__school_code", "answer": "answer", "verdict": "verdict"}


@login_required
def inspection_list(request):
    """Inspections the user may see (organised, inspected or made by the user's units), with their
    progress; filters: status, kind, unit (``region``/``school``), verdict; sorting; pagination."""
    _require_any(request, *OVERSIGHT)
    qs = selectors.inspections_visible(request.user)
    if request.GET.get("status") in Inspection.Status.values:
        qs = qs.filter(status=request.GET["status"])
    if request.GET.get("kind") in Inspection.Kind.values:
        qs = qs.filter(kind=request.GET["kind"])
    q = search_query(request)
    if q:
        qs = qs.filter(title__contains=q)
    verdict = request.GET.get("verdict", "")
    if verdict in InspectionItem.Verdict.values:
        qs = qs.filter(items__verdict=verdict).distinct()
    qs = unit_filter(request, qs, "inspected_path")
    qs = qs.annotate(answered=Count("items", filter=~Q(items__answer="pending"), distinct=True),
                     judged=Count("items", filter=~Q(items__verdict="pending"), distinct=True))
    qs, sort = sort_by(request, qs, INSPECTION_SORTS, "-created")
    context = {"sort": sort, "q": q, "statuses": Inspection.Status.choices, "kinds": Inspection.Kind.choices,
               "can_create": "inspect" in held_codenames(request.user), **paginate(request, qs)}
    return render(request, "oversight/inspection_list.html", context)


def _inspection_form(request, data=None):
    grants = grants_for(request.user, "inspect")
    organisers = Region.objects.filter(path__in=grants.region_paths).order_by("path")
    q = Q(pk__in=[])
    for path in grants.region_paths:
        q |= Q(path__startswith=path)
    regions = Region.objects.filter(q, is_active=True).order_by("path")
    return InspectionForm(data, organisers=organisers, regions=regions)


@login_required
@require_http_methods(["GET", "POST"])
def inspection_new(request):
    """Draw a sample (抽查) or organise a cross-check (互查). Needs ``inspect`` on a region."""
    _require_any(request, "inspect")
    form = _inspection_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inspection = services.inspection_create(
                actor=request.user, organiser=data["organiser"], inspected_region=data["inspected_region"],
                title=data["title"], kind=data["kind"], inspecting_region=data["inspecting_region"],
                size=data["size"], percent=data["percent"], seed=data["seed"], answer_due=data["answer_due"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"已抽取 {inspection.sample_size} 条学籍（随机种子 {inspection.seed}）")
            return redirect("oversight:inspection_detail", pk=inspection.pk)
    return render(request, "oversight/inspection_form.html", {"form": form})


@login_required
def inspection_detail(request, pk: int):
    """An inspection with its sampled records (minimal fields, ID numbers masked), the schools'
    answers and the verdicts; inspectors of the inspecting unit judge each record here."""
    inspection = selectors.inspection_for_user(request.user, pk)
    items = selectors.inspection_items(inspection)
    if request.GET.get("answer") in InspectionItem.Answer.values:
        items = items.filter(answer=request.GET["answer"])
    if request.GET.get("verdict") in InspectionItem.Verdict.values:
        items = items.filter(verdict=request.GET["verdict"])
    items, sort = sort_by(request, items, ITEM_SORTS, "position")
    counts = dict(inspection.items.order_by().values_list("verdict").annotate(n=Count("id")))
    summary = [(label, counts.get(value, 0)) for value, label in InspectionItem.Verdict.choices]
    context = {"inspection": inspection, "sort": sort, "summary": summary,
               "verdicts": InspectionItem.Verdict.choices, "answers": InspectionItem.Answer.choices,
               "can_judge": inspection.status == Inspection.Status.ASSIGNED
               and has_unit_perm(request.user, "inspect", inspection.inspecting_region),
               "can_assign": inspection.status == Inspection.Status.DRAWN
               and has_unit_perm(request.user, "inspect", inspection.organiser),
               "judge_form": JudgeForm(), "assign_form": AssignForm(initial={"answer_due": inspection.answer_due}),
               **paginate(request, items)}
    return render(request, "oversight/inspection_detail.html", context)


def _inspection_for_action(request, pk: int) -> Inspection:
    inspection = selectors.inspection_for_user(request.user, pk)
    if not has_unit_perm(request.user, "inspect", inspection.inspecting_region) and not has_unit_perm(
            request.user, "inspect", inspection.organiser):
        raise PermissionDenied("只有检查单位的督查人员可以操作")
    return inspection


@login_required
@require_POST
def inspection_assign(request, pk: int):
    """Send the drawn sample to the schools."""
    inspection = _inspection_for_action(request, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            services.inspection_assign(actor=request.user, inspection=inspection,
                                       answer_due=form.cleaned_data["answer_due"])
            messages.success(request, "已下发学校核实")
        except ValidationError as exc:
            _flash(request, exc)
    else:
        messages.error(request, "请填写正确的核实期限")
    return redirect("oversight:inspection_detail", pk=pk)


@login_required
@require_POST
def inspection_close(request, pk: int):
    inspection = _inspection_for_action(request, pk)
    try:
        services.inspection_close(actor=request.user, inspection=inspection)
        messages.success(request, "抽查已完成")
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("oversight:inspection_detail", pk=pk)


@login_required
@require_POST
def item_judge(request, pk: int):
    """Record the verdict on one sampled record (inspectors of the inspecting unit)."""
    item = InspectionItem.objects.filter(pk=pk).only("id", "inspection_id").first()
    if item is None:
        raise Http404("记录不存在")
    inspection = _inspection_for_action(request, item.inspection_id)
    form = JudgeForm(request.POST)
    if form.is_valid():
        try:
            services.inspection_item_judge(actor=request.user, item=item, verdict=form.cleaned_data["verdict"],
                                           note=form.cleaned_data["note"])
            messages.success(request, "已评定")
        except ValidationError as exc:
            _flash(request, exc)
    else:
        messages.error(request, "请选择检查结论")
    return redirect(reverse("oversight:inspection_detail", args=[inspection.pk]) + "?"
                    + request.POST.get("querystring", "")[:500])


# --------------------------------------------------------------------------------------------
# School verification

VERIFICATION_SORTS = {"due": "inspection__answer_due", "-assigned": "-inspection__assigned_at", "name": "student__name"}


@login_required
def verification_list(request):
    """The sampled records the user's school must verify (待核实), pending first by default."""
    _require_any(request, "edit_students")
    qs = selectors.verification_items(request.user)
    answer = request.GET.get("answer", "pending")
    if answer in InspectionItem.Answer.values:
        qs = qs.filter(answer=answer)
    qs, sort = sort_by(request, qs, VERIFICATION_SORTS, "due")
    return render(request, "oversight/verification_list.html",
                  {"sort": sort, "answer": answer, "answers": InspectionItem.Answer.choices, **paginate(request, qs)})


@login_required
@require_http_methods(["GET", "POST"])
def verification_answer(request, pk: int):
    """The school answers one sampled record: verified or corrected, note, evidence."""
    item = selectors.item_for_school(request.user, pk)
    form = AnswerForm(request.POST or None, request.FILES or None,
                      initial={"answer": item.answer if item.answer != "pending" else "", "note": item.answer_note})
    if request.method == "POST" and form.is_valid():
        try:
            services.inspection_item_answer(actor=request.user, item=item, answer=form.cleaned_data["answer"],
                                            note=form.cleaned_data["note"], upload=form.cleaned_data["evidence"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "核实结果已提交")
            return redirect("oversight:verification_list")
    can_answer = (item.inspection.status == Inspection.Status.ASSIGNED
                  and item.verdict == InspectionItem.Verdict.PENDING)
    return render(request, "oversight/verification_form.html", {"item": item, "form": form, "can_answer": can_answer})


@login_required
def item_evidence(request, pk: int):
    """Serve a sampled record's evidence to its school and to those who see the inspection."""
    item = InspectionItem.objects.select_related("inspection", "school").filter(pk=pk).first()
    if item is None or not item.evidence:
        raise Http404("没有佐证材料")
    school_side = selectors.verification_items(request.user).filter(pk=pk).exists()
    if not school_side:
        selectors.inspection_for_user(request.user, item.inspection_id)
    handle = services.evidence_open(actor=request.user, obj=item, unit=item.school, ip_address=client_ip(request))
    return _file_response(handle, item.evidence_type, f"inspection-{item.pk}")


def _file_response(handle, content_type: str, stem: str) -> FileResponse:
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}.get(content_type, "")
    response = FileResponse(handle, content_type=content_type or "application/octet-stream", as_attachment=True,
                            filename=f"{stem}{extension}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------------------------
# Rectification notices

NOTICE_SORTS = {"-issued": "-issued_at", "issued": "issued_at", "deadline": "deadline", "-deadline": "-deadline",
                "status": "status"}


@login_required
def rectification_list(request):
    """Rectification notices to or from the user's units (both sides see them), with an overdue
    marker; filters: status (open = not closed), failing, overdue, direction, unit; search; sorting."""
    _require_any(request, *OVERSIGHT, "edit_students")
    qs = selectors.notices_for(request.user)
    status = request.GET.get("status", "")
    if status == "open":
        qs = qs.filter(status__in=RectificationNotice.OPEN_STATUSES)
    elif status in RectificationNotice.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("failing") in Failing.values:
        qs = qs.filter(failing=request.GET["failing"])
    today = timezone.localdate()
    if request.GET.get("overdue") == "1":
        qs = qs.filter(status__in=RectificationNotice.AWAITING_TARGET, deadline__lt=today)
    direction = request.GET.get("direction", "")
    paths = grants_for(request.user, "approve_changes").region_paths
    if direction == "issued":
        qs = qs.filter(issuer_path__in=paths)
    q = search_query(request)
    if q:
        qs = qs.filter(title__contains=q)
    qs = unit_filter(request, qs, "target_path")
    qs, sort = sort_by(request, qs, NOTICE_SORTS, "-issued")
    context = {"sort": sort, "q": q, "status": status, "direction": direction, "today": today,
               "statuses": RectificationNotice.Status.choices, "failings": Failing.choices,
               "can_issue": bool(paths), **paginate(request, qs)}
    return render(request, "oversight/rectification_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def rectification_new(request):
    """Issue a rectification notice (bureaus: ``approve_changes`` on a region)."""
    paths = grants_for(request.user, "approve_changes").region_paths
    if not paths:
        raise PermissionDenied("只有教育行政部门的审核人可以签发整改通知")
    issuers = Region.objects.filter(path__in=paths).order_by("path")
    initial = {"target": request.GET.get("target", "")[:10], "failing": request.GET.get("failing", "")}
    form = NoticeForm(request.POST or None, issuers=issuers, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = services.rectification_issue(actor=request.user, issuer=data["issuer"], target=data["target"],
                                                  failing=data["failing"], title=data["title"],
                                                  details=data["details"], deadline=data["deadline"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "整改通知已签发")
            return redirect("oversight:rectification_detail", pk=notice.pk)
    return render(request, "oversight/rectification_form.html", {"form": form})


@login_required
def rectification_detail(request, pk: int):
    """A notice with its replies; the target unit replies here, the issuer reviews here."""
    notice = selectors.notice_for_user(request.user, pk)
    replies = list(notice.replies.select_related("replied_by", "reviewed_by"))
    can_reply = notice.status in RectificationNotice.AWAITING_TARGET and services.can_reply(request.user, notice)
    can_review = (notice.status == RectificationNotice.Status.REPLIED
                  and has_unit_perm(request.user, "approve_changes", notice.issuer))
    from xueji.workdays import is_overdue

    context = {"notice": notice, "replies": replies, "can_reply": can_reply, "can_review": can_review,
               "overdue": notice.status in RectificationNotice.AWAITING_TARGET and is_overdue(notice.deadline),
               "reply_form": ReplyForm() if can_reply else None, "review_form": ReviewForm() if can_review else None}
    return render(request, "oversight/rectification_detail.html", context)


@login_required
@require_POST
def rectification_reply(request, pk: int):
    notice = selectors.notice_for_user(request.user, pk)
    if not services.can_reply(request.user, notice):
        raise PermissionDenied("只有整改单位的审核人或学籍管理员可以回复")
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.rectification_reply(actor=request.user, notice=notice, text=form.cleaned_data["text"],
                                         upload=form.cleaned_data["evidence"])
            messages.success(request, "整改情况已回复")
            return redirect("oversight:rectification_detail", pk=pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "oversight/rectification_detail.html",
                  {"notice": notice, "replies": list(notice.replies.select_related("replied_by", "reviewed_by")),
                   "can_reply": True, "reply_form": form})


@login_required
@require_POST
def rectification_review(request, pk: int):
    notice = selectors.notice_for_user(request.user, pk)
    if not has_unit_perm(request.user, "approve_changes", notice.issuer):
        raise PermissionDenied("只有发文单位可以审核整改回复")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_review(actor=request.user, notice=notice, decision=form.cleaned_data["decision"],
                                          comment=form.cleaned_data["comment"],
                                          new_deadline=form.cleaned_data["new_deadline"])
            messages.success(request, "审核结果已保存")
            return redirect("oversight:rectification_detail", pk=pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "oversight/rectification_detail.html",
                  {"notice": notice, "replies": list(notice.replies.select_related("replied_by", "reviewed_by")),
                   "can_review": True, "review_form": form})


@login_required
def reply_evidence(request, pk: int):
    """Serve a reply's evidence to those who see its notice."""
    from .models import RectificationReply

    reply = RectificationReply.objects.filter(pk=pk).select_related("notice").first()
    if reply is None or not reply.evidence:
        raise Http404("没有佐证材料")
    notice = selectors.notice_for_user(request.user, reply.notice_id)
    return _file_response(services.evidence_open(actor=request.user, obj=reply, unit=notice.target,
                                                 ip_address=client_ip(request)), reply.evidence_type,
                          f"rectification-{reply.pk}")


# --------------------------------------------------------------------------------------------
# Quarterly reports

REPORT_SORTS = {"-period": "-year", "period": "year", "city": "city__code", "status": "status"}


def _reporting_cities(user):
    paths = grants_for(user, "approve_changes").region_paths
    return [r for r in Region.objects.filter(path__in=paths).order_by("path") if services.is_reporting_unit(r)]


@login_required
def report_list(request):
    """Quarterly reports in the user's units; a city bureau generates here; a province sees the
    submission overview."""
    _require_any(request, *OVERSIGHT)
    qs = selectors.reports_for(request.user)
    if request.GET.get("status") in QuarterlyReport.Status.values:
        qs = qs.filter(status=request.GET["status"])
    qs = unit_filter(request, qs, "city_path")
    qs, sort = sort_by(request, qs, REPORT_SORTS, "-period")
    if sort.endswith("period"):  # a period is a year and a quarter
        sign = "-" if sort.startswith("-") else ""
        qs = qs.order_by(f"{sign}year", f"{sign}quarter", "city__code", "pk")
    cities = _reporting_cities(request.user)
    today = timezone.localdate()
    form = None
    if cities:
        form = ReportRequestForm(cities=Region.objects.filter(code__in=[c.code for c in cities]),
                                 initial={"year": today.year, "quarter": (today.month - 1) // 3 + 1})
    provinces = Region.objects.filter(path__in=grants_for(request.user, "approve_changes").region_paths
                                      + grants_for(request.user, "inspect").region_paths, level="province")
    context = {"sort": sort, "statuses": QuarterlyReport.Status.choices, "form": form, "provinces": provinces,
               **paginate(request, qs)}
    return render(request, "oversight/report_list.html", context)


@login_required
@require_POST
def report_generate(request):
    """A city bureau asks for (or regenerates) a quarterly report; Celery computes it."""
    cities = _reporting_cities(request.user)
    if not cities:
        raise PermissionDenied("只有地市级教育行政部门可以生成季度报告")
    form = ReportRequestForm(request.POST, cities=Region.objects.filter(code__in=[c.code for c in cities]))
    if form.is_valid():
        try:
            report = services.quarterly_report_request(actor=request.user, **form.cleaned_data)
            messages.success(request, "报告正在生成，稍后刷新页面查看")
            return redirect("oversight:report_detail", pk=report.pk)
        except ValidationError as exc:
            _flash(request, exc)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("oversight:report_list")


@login_required
def report_detail(request, pk: int):
    """A report's figures; the city reviews and submits it here."""
    report = selectors.report_for_user(request.user, pk)
    can_submit = (report.status == QuarterlyReport.Status.READY
                  and has_unit_perm(request.user, "approve_changes", report.city))
    context = {"report": report, "sections": report_sections(report.figures) if report.figures else [],
               "as_of": as_of_label(report.figures),
               "can_submit": can_submit, "form": SubmitForm() if can_submit else None}
    return render(request, "oversight/report_detail.html", context)


@login_required
@require_POST
def report_submit(request, pk: int):
    report = selectors.report_for_user(request.user, pk)
    if not has_unit_perm(request.user, "approve_changes", report.city):
        raise PermissionDenied("只有报送单位的审核人可以报送")
    form = SubmitForm(request.POST)
    if form.is_valid():
        try:
            services.quarterly_report_submit(actor=request.user, report=report, note=form.cleaned_data["note"])
            messages.success(request, "报告已报送省级教育行政部门")
        except ValidationError as exc:
            _flash(request, exc)
    return redirect("oversight:report_detail", pk=pk)


@login_required
def report_xlsx(request, pk: int):
    """The report as an Excel workbook (no personal data: counts only)."""
    report = selectors.report_for_user(request.user, pk)
    if not report.figures:
        raise Http404("报告尚未生成")
    from audits.models import AuditEvent
    from audits.services import audit_record

    audit_record(actor=request.user, kind=AuditEvent.Kind.EXPORT, unit=report.city, target=report,
                 ip_address=client_ip(request), message=f"导出{report}")
    response = HttpResponse(report_workbook(report),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = (f'attachment; filename="report-{report.city_id}-{report.year}Q'
                                       f'{report.quarter}.xlsx"')
    return response


@login_required
def report_overview(request, code: str):
    """For a province: which reporting units have submitted their report for a quarter."""
    province = selectors.unit_for_user(request.user, "region", code, OVERSIGHT)
    today = timezone.localdate()
    year = request.GET.get("year", "")
    year = int(year) if year.isdigit() and 2000 <= int(year) <= 2100 else today.year
    quarter = request.GET.get("quarter", "")
    quarter = int(quarter) if quarter in ("1", "2", "3", "4") else (today.month - 1) // 3 + 1
    units = [r for r in Region.objects.filter(path__startswith=province.path, is_active=True)
             .exclude(code=province.code).order_by("code") if services.is_reporting_unit(r)]
    reports = {r.city_id: r for r in QuarterlyReport.objects.filter(city__in=units, year=year, quarter=quarter)
               .select_related("submitted_by")}
    rows = [{"unit": u, "report": reports.get(u.code)} for u in units]
    context = {"province": province, "rows": rows, "year": year, "quarter": quarter,
               "submitted": sum(1 for r in rows if r["report"] and r["report"].status == "submitted")}
    return render(request, "oversight/report_overview.html", context)
