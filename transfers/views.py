"""Pages of status changes: queue, change page with its route, starting changes, evidence, inbox.

Every view resolves its objects through transfers.selectors (404 outside scope, 403 without the
right), validates a form and calls one service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.client_ip import client_ip
from schools.models import SchoolClass
from students.models import Student
from xueji.access import get_for_user, grants_for, has_unit_perm, held_codenames, scoped
from xueji.lists import paginate, search_query, sort_by, unit_filter

from . import selectors, services
from .deadlines import age_in_working_days, is_step_overdue
from .forms import (
    KINDS_FROM_STUDENT_PAGE,
    BatchDecisionForm,
    ChangeForm,
    DecisionForm,
    EvidenceForm,
    FollowUpForm,
    ReasonForm,
    TransferForm,
    TransferLookupForm,
)
from .models import ApprovalStep, ChangeKind, ChangeStatus, Evidence, StepStatus

QUEUE_SORTS = {"due": "due_date", "-due": "-due_date", "arrived": "became_current_at",
               "-arrived": "-became_current_at", "kind": "change__kind", "submitted": "change__submitted_at"}
CHANGE_SORTS = {"-created": "-created_at", "created": "created_at", "kind": "kind", "status": "status"}


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the matching field, or on top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, [e.message % (e.params or {})
                                                                     if e.params else e.message for e in errors])
    else:
        form.add_error(None, exc.messages)


# --------------------------------------------------------------------------------------------
# Queue


def _queue_rows(steps, now) -> list[dict]:
    return [{"step": s, "change": s.change, "age": age_in_working_days(s.became_current_at, now),
             "overdue": is_step_overdue(s.due_date, now)} for s in steps]


def _filter_steps(request, qs):
    kind = request.GET.get("kind", "")
    if kind in ChangeKind.values:
        qs = qs.filter(change__kind=kind)
    school = request.GET.get("school", "").strip()[:50]
    if school:
        qs = qs.filter(Q(change__from_school__name__contains=school) | Q(change__target_school__name__contains=school)
                       | Q(change__from_school__school_code=school) | Q(change__target_school__school_code=school))
    if request.GET.get("overdue") == "1":
        qs = qs.filter(due_date__lt=timezone.localdate())
    # The dashboards' drill-down links name a bureau's subtree (``school`` here is the text search).
    return unit_filter(request, qs, "unit_path", school=False)


@login_required
def queue(request):
    """The user's queue (待办): current steps of their units, or with ``view=escalations`` the
    overdue steps of their subtree (下级逾期, read-only). Filters: kind, school (name or code),
    overdue; sorting; pagination."""
    held = held_codenames(request.user)
    if not {"approve_changes", "edit_students"} & held:
        raise PermissionDenied("您没有审核或经办学籍业务的权限")
    now = timezone.now()
    view = "escalations" if request.GET.get("view") == "escalations" else "mine"
    if view == "escalations":
        qs = selectors.escalation_steps(request.user, timezone.localdate(now))
    else:
        qs = selectors.queue_steps(request.user)
    qs, sort = sort_by(request, _filter_steps(request, qs), QUEUE_SORTS, "due")
    # Page the bare steps, then join what the rows show for the page alone: joined first,
    # PostgreSQL joins the whole queue before sorting it (0.3 s for a province's 7,562 steps).
    context = paginate(request, qs.select_related(None))
    steps = selectors.queue_rows_of(context["page_obj"].object_list)
    context.update(rows=_queue_rows(steps, now), sort=sort, view=view,
                   kinds=ChangeKind.choices, form=BatchDecisionForm(),
                   has_subtree=bool(grants_for(request.user, "approve_changes").region_paths),
                   escalation_count=selectors.escalation_steps(request.user, timezone.localdate(now)).count()
                   if view == "mine" and grants_for(request.user, "approve_changes").region_paths else None,
                   calendar_warning=_calendar_warning(now, steps))
    template = "transfers/queue_table.html" if request.htmx and view == "mine" else "transfers/queue.html"
    return render(request, template, context)


def _calendar_warning(now, steps) -> str:
    """A warning when this year or a shown due date falls in a year whose holidays nobody entered."""
    from xueji.workdays import year_is_known

    years = {timezone.localdate(now).year} | {s.due_date.year for s in steps if s.due_date}
    unknown = sorted(y for y in years if not year_is_known(y))
    return f"{'、'.join(map(str, unknown))}年节假日安排尚未录入，期限按周一至周五计算" if unknown else ""


def _steps_for_decision(user, ids: list[int]) -> list[ApprovalStep]:
    """Resolve step ids for a decision: 404 if any is invisible to ``user``, 403 if the user may not
    act on one. Two queries plus the cached grants."""
    steps = list(ApprovalStep.objects.filter(pk__in=ids).select_related(*selectors.STEP_RELATED))
    visible = set(selectors.changes_for_user(user).filter(pk__in={s.change_id for s in steps})
                  .values_list("pk", flat=True))
    if len(steps) != len(set(ids)) or any(s.change_id not in visible for s in steps):
        raise Http404("步骤不存在或不在您的管辖范围内")
    if not all(services.can_act_on_step(user, s) for s in steps):
        raise PermissionDenied("您不是所选步骤所在单位的处理人")
    return steps


@login_required
@require_POST
def queue_decide(request):
    """Approve or reject the ticked steps with one comment (htmx: re-renders the queue table)."""
    form = BatchDecisionForm(request.POST)
    if form.is_valid():
        steps = _steps_for_decision(request.user, form.cleaned_data["steps"])
        try:
            services.steps_decide_batch(actor=request.user, steps=steps, decision=form.cleaned_data["decision"],
                                        comment=form.cleaned_data["comment"])
            verb = "通过" if form.cleaned_data["decision"] == "approve" else "退回"
            messages.success(request, f"已{verb} {len(steps)} 项")
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    back = reverse("transfers:queue") + "?" + request.POST.get("querystring", "")[:500]
    if request.htmx:
        # Not a 302: the browser would follow it inside htmx's request, htmx would never see the
        # header, and the flash message would wait for some later page. 200 + HX-Redirect makes
        # htmx load the queue as a whole page, message included.
        return HttpResponseClientRedirect(back)
    return redirect(back)


# --------------------------------------------------------------------------------------------
# One change


@login_required
def change_detail(request, pk: int):
    """The change with its whole route as a timeline (who decided what, when; what is next),
    evidence, follow-ups and the actions the user may take."""
    change = selectors.change_for_user(request.user, pk, "view_students")
    steps = selectors.route_steps(change)
    current = next((s for s in steps if s.status == StepStatus.CURRENT), None)
    user = request.user
    is_initiator = user.pk == change.initiated_by_id
    rounds: dict[int, list] = {}
    for step in steps:
        rounds.setdefault(step.round, []).append(step)
    decided_this_round = any(s.round == change.round and s.decided_by_id for s in steps)
    schools = [s for s in (change.from_school, change.target_school) if s is not None]
    context = {
        "change": change, "rounds": sorted(rounds.items(), reverse=True), "current": current,
        "now": timezone.now(),
        "overdue": current is not None and is_step_overdue(current.due_date),
        "can_decide": current is not None and services.can_act_on_step(user, current) and not is_initiator,
        "decision_form": DecisionForm(),
        "is_initiator": is_initiator,
        "can_edit": is_initiator and change.status == ChangeStatus.DRAFT and change.kind != ChangeKind.REGISTRATION,
        "can_submit": is_initiator and change.status == ChangeStatus.DRAFT,
        "can_withdraw": is_initiator and (change.status == ChangeStatus.DRAFT
                                          or (change.status == ChangeStatus.PENDING and not decided_this_round)),
        "can_roll_back": change.is_open and any(has_unit_perm(user, "approve_changes", s.region) for s in schools),
        "can_follow_up": change.student_id is not None and has_unit_perm(user, "edit_students", change.student),
        "evidence": list(change.evidence.select_related("uploaded_by")),
        "follow_ups": list(change.follow_ups.select_related("created_by")),
        "evidence_form": EvidenceForm(), "follow_up_form": FollowUpForm(), "reason_form": ReasonForm(),
        "payload_rows": _payload_rows(change),
        "batch_students": list(change.students.select_related("grade")[:200])
        if change.kind == ChangeKind.REGISTRATION else [],
    }
    return render(request, "transfers/change_detail.html", context)


def _payload_rows(change) -> list[tuple[str, str, str]]:
    from students.models import mask_id_number

    from .corrections import FIELD_LABELS

    rows = []
    for field, values in (change.payload or {}).items():
        if field not in FIELD_LABELS:
            continue
        old, new = values.get("old", ""), values.get("new", "")
        if field == "id_number":
            old, new = mask_id_number(old), mask_id_number(new)
        rows.append((FIELD_LABELS[field], old, new))
    return rows


@login_required
@require_POST
def step_decide(request, pk: int):
    """Approve or reject one step from the change's page."""
    step = selectors.step_for_user(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
        return redirect("transfers:change_detail", pk=step.change_id)
    try:
        services.step_decide(actor=request.user, step=step, decision=form.cleaned_data["decision"],
                             comment=form.cleaned_data["comment"])
        messages.success(request, "已处理")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("transfers:change_detail", pk=step.change_id)


@login_required
@require_POST
def change_submit(request, pk: int):
    """Submit (or resubmit) a draft."""
    change = selectors.change_for_user(request.user, pk, "edit_students")
    try:
        services.change_submit(actor=request.user, change=change)
        messages.success(request, "已提交，等待审核")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("transfers:change_detail", pk=pk)


@login_required
@require_POST
def change_withdraw(request, pk: int):
    """The initiator withdraws the change."""
    change = selectors.change_for_user(request.user, pk, "edit_students")
    try:
        services.change_withdraw(actor=request.user, change=change, reason=request.POST.get("reason", "")[:500])
        messages.success(request, "已撤回")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("transfers:change_detail", pk=pk)


@login_required
@require_POST
def change_roll_back(request, pk: int):
    """A bureau rolls back a stuck change (reason required)."""
    change = selectors.change_for_user(request.user, pk, "approve_changes")
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写退回撤销的理由")
        return redirect("transfers:change_detail", pk=pk)
    try:
        services.change_roll_back(actor=request.user, change=change, reason=form.cleaned_data["reason"])
        messages.success(request, "已退回撤销")
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("transfers:change_detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def change_edit(request, pk: int):
    """The initiator edits a draft (new or returned)."""
    change = selectors.change_for_user(request.user, pk, "edit_students")
    if request.user.pk != change.initiated_by_id:
        raise PermissionDenied("只有业务发起人可以修改")
    if change.status != ChangeStatus.DRAFT:
        messages.error(request, "只有草稿可以修改")
        return redirect("transfers:change_detail", pk=pk)
    if change.kind == ChangeKind.REGISTRATION:
        # A returned registration batch is a draft too, but its content is its students' records.
        messages.error(request, "注册批次本身没有可修改的内容：请修改批次中学生的学籍后重新提交")
        return redirect("transfers:change_detail", pk=pk)
    kind = change.kind
    if kind == ChangeKind.TRANSFER:
        classes = _receiving_classes(request.user, change.student)
        initial = {"query": "-", "target_class": change.target_class_id, "reason_category": change.reason_category,
                   "reason": change.reason}
        form = TransferForm(request.POST or None, classes=classes, initial=initial)
        form.fields["query"].required = False
    else:
        initial = {"reason_category": change.reason_category, "reason": change.reason,
                   "start_date": change.start_date, "end_date": change.end_date,
                   "target_class": change.target_class_id}
        form = ChangeForm(request.POST or None, kind=kind, student=change.student, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = {k: form.cleaned_data[k] for k in ("reason_category", "reason", "start_date", "end_date",
                                                     "target_class") if k in form.fields}
        key_data = form.key_data() if isinstance(form, ChangeForm) else None
        try:
            services.change_update_draft(actor=request.user, change=change, key_data=key_data, **fields)
            messages.success(request, "草稿已保存")
            return redirect("transfers:change_detail", pk=pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "transfers/change_form.html", {"form": form, "change": change, "kind_label":
                                                           change.get_kind_display(), "student": change.student})


# --------------------------------------------------------------------------------------------
# Starting changes


def _receiving_classes(user, student):
    """Classes of the user's schools (edit_students) in the student's grade (no grade change)."""
    grade = student.grade
    return (scoped(user, SchoolClass.objects.all(), "edit_students")
            .filter(grade__stage=grade.stage, grade__level=grade.level).exclude(school=student.school)
            .select_related("school", "grade").order_by("school__name", "number"))


@login_required
@require_http_methods(["GET", "POST"])
def transfer_new(request):
    """The receiving school starts a transfer: exact lookup → confirm (name, gender, school, grade)
    → choose class and reason → create and submit."""
    if not grants_for(request.user, "edit_students").school_ids:
        raise PermissionDenied("只有学校学籍管理员可以发起转学")
    lookup_form = TransferLookupForm(request.POST or None)
    if request.method == "GET" or "query" not in request.POST:
        return render(request, "transfers/transfer_lookup.html", {"form": TransferLookupForm()})
    if not lookup_form.is_valid():
        return render(request, "transfers/transfer_lookup.html", {"form": lookup_form})
    candidate = services.transfer_lookup(actor=request.user, query=lookup_form.cleaned_data["query"],
                                         ip_address=client_ip(request)) if "confirm" not in request.POST else \
        selectors.transfer_candidate(lookup_form.cleaned_data["query"])
    if candidate is None:
        lookup_form.add_error("query", "未找到在籍学生，请核对全国学籍号或身份证件号（须完整准确）")
        return render(request, "transfers/transfer_lookup.html", {"form": lookup_form})
    student = Student.objects.select_related("school", "grade").get(pk=candidate.pk)
    classes = _receiving_classes(request.user, student)
    form = TransferForm(request.POST if "confirm" in request.POST else None, classes=classes,
                        initial={"query": lookup_form.cleaned_data["query"]})
    if "confirm" in request.POST and form.is_valid():
        try:
            change = services.change_start(
                actor=request.user, kind=ChangeKind.TRANSFER, student=student, submit=True,
                target_class=form.cleaned_data["target_class"],
                reason_category=form.cleaned_data["reason_category"], reason=form.cleaned_data["reason"])
            messages.success(request, "转学申请已提交")
            return redirect("transfers:change_detail", pk=change.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "transfers/transfer_confirm.html", {"form": form, "candidate": candidate})


@login_required
@require_http_methods(["GET", "POST"])
def change_new(request, kind: str, student_pk: int):
    """Start a suspension, resumption, withdrawal, dropout, death, retention, acceleration or
    key-data correction from the student's page. "提交" submits at once; "保存草稿" keeps a draft."""
    if kind not in KINDS_FROM_STUDENT_PAGE:
        raise Http404("未知的业务类型")
    student = get_for_user(request.user, Student.objects.select_related("school", "grade", "school_class"),
                           "edit_students", pk=student_pk)
    form = ChangeForm(request.POST or None, request.FILES or None, kind=kind, student=student)
    if request.method == "POST" and form.is_valid():
        files = [form.cleaned_data["evidence"]] if form.cleaned_data.get("evidence") else []
        try:
            change = services.change_start(
                actor=request.user, kind=kind, student=student, submit="draft" not in request.POST,
                evidence_files=files, follow_up=form.cleaned_data.get("follow_up") or "",
                key_data=form.key_data(), **form.change_fields())
            messages.success(request, "已保存草稿" if change.status == ChangeStatus.DRAFT else "已提交，等待审核")
            return redirect("transfers:change_detail", pk=change.pk)
        except ValidationError as exc:
            _apply_errors(form, exc)
    return render(request, "transfers/change_form.html", {"form": form, "student": student, "kind": kind,
                                                           "kind_label": ChangeKind(kind).label})


# --------------------------------------------------------------------------------------------
# Evidence and follow-ups


@login_required
@require_POST
def evidence_upload(request, pk: int):
    """Add an evidence file to a draft (its initiator)."""
    change = selectors.change_for_user(request.user, pk, "edit_students")
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.evidence_add(actor=request.user, change=change, upload=form.cleaned_data["file"])
            messages.success(request, "佐证材料已上传")
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    else:
        messages.error(request, "请选择要上传的文件")
    return redirect("transfers:change_detail", pk=pk)


@login_required
def evidence_download(request, pk: int):
    """Serve an evidence file to those who may see its change (never by a public URL)."""
    evidence = get_object_or_404(Evidence, pk=pk)
    selectors.change_for_user(request.user, evidence.change_id, "view_students")
    handle = services.evidence_open(actor=request.user, evidence=evidence, ip_address=client_ip(request))
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}[evidence.content_type]
    response = FileResponse(handle, content_type=evidence.content_type, as_attachment=True,
                            filename=f"evidence-{evidence.pk}{extension}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def follow_up_new(request, pk: int):
    """Add a follow-up note (随访) to a change."""
    change = selectors.change_for_user(request.user, pk, "edit_students")
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.follow_up_add(actor=request.user, change=change, note=form.cleaned_data["note"])
            messages.success(request, "随访记录已保存")
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    else:
        messages.error(request, "请填写随访情况")
    return redirect("transfers:change_detail", pk=pk)


# --------------------------------------------------------------------------------------------
# Lists


@login_required
def change_list(request):
    """Changes the user may see (业务列表): search by student name, filter by kind, status and
    "mine", sorting, pagination."""
    if "view_students" not in held_codenames(request.user):
        raise PermissionDenied("您没有查看学籍业务的权限")
    qs = selectors.changes_for_user(request.user, "view_students")
    q = search_query(request)
    if q:
        qs = qs.filter(student__name__contains=q)
    if request.GET.get("kind") in ChangeKind.values:
        qs = qs.filter(kind=request.GET["kind"])
    if request.GET.get("status") in ChangeStatus.values:
        qs = qs.filter(status=request.GET["status"])
    if request.GET.get("mine") == "1":
        qs = qs.filter(initiated_by=request.user)
    qs = unit_filter(request, qs, "school_path")  # the dashboards' drill-down links
    qs, sort = sort_by(request, qs, CHANGE_SORTS, "-created")
    context = paginate(request, qs)
    held = held_codenames(request.user)
    context.update(sort=sort, q=q, kinds=ChangeKind.choices, statuses=ChangeStatus.choices,
                   can_queue=bool({"approve_changes", "edit_students"} & held), can_start="edit_students" in held)
    return render(request, "transfers/change_list.html", context)


@login_required
def expired_suspensions(request):
    """Suspended students whose suspension ended without a resumption (休学到期未复学), in scope."""
    if "view_students" not in held_codenames(request.user):
        raise PermissionDenied("您没有查看学籍的权限")
    students = scoped(request.user, Student.objects.select_related("school", "grade", "school_class"),
                      "view_students")
    qs = selectors.expired_suspensions(students, today=timezone.localdate()).order_by("suspended_until", "pk")
    return render(request, "transfers/expired_suspensions.html", paginate(request, qs))


@login_required
def inbox(request):
    """The user's notifications (站内消息)."""
    return render(request, "transfers/inbox.html", paginate(request, selectors.inbox(request.user)))


@login_required
@require_POST
def inbox_read(request):
    """Mark all (or the posted ``ids``) of the user's notifications read."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()] or None
    services.notifications_mark_read(actor=request.user, ids=ids)
    return redirect("transfers:inbox")


@login_required
def unread_badge(request):
    """The navigation's unread badge (htmx fragment): one indexed count query, loaded after the
    page so that page query counts do not include it."""
    count = selectors.unread_count(request.user)
    # Rendered without the request: the navigation's context processor would cost a query.
    return HttpResponse(render_to_string("transfers/_unread_badge.html", {"count": count}))
