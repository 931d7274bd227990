"""Pages of the agreements: lists, detail, signing, print and PDF, registrar and inter-level overviews,
the liability-form cohort, templates, and the parents' portal. Thin: access → form → service → response."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.client_ip import client_ip
from accounts.models import Role, RoleGrant
from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import Region, School
from students.models import Student
from students.storage import private_storage
from xueji.access import get_for_user, grants_for, has_unit_perm
from xueji.lists import paginate, search_query, sort_by

from . import selectors, services
from .forms import (
    WINDOW_FIELDS,
    AgeWindowForm,
    GuardianSignForm,
    InvitationForm,
    PaperSignatureForm,
    RedeemForm,
    SignForm,
    TemplateForm,
    VoidForm,
)
from .models import Agreement, AgreementKind, AgreementStatus, AgreementTemplate, EnrolmentAgeRule
from .pdf import facts_rows, pdf_available, render_pdf, signature_rows
from .rules import (
    DEFAULT_WINDOW,
    age_window,
    school_year_label,
    school_year_of,
    upcoming_entry_year,
    window_effect,
)


def _form_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the form's fields (non-field when unknown)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _agreement(request, pk: int, codename: str = "view_students") -> Agreement:
    """The agreement for staff: the registrar's own agreement, or one inside the user's units.

    404 outside the user's scope, 403 inside without ``codename``.
    """
    qs = Agreement.objects.select_related(*selectors.AGREEMENT_RELATED, "school")
    own = qs.filter(pk=pk, party_user=request.user).first()
    if own is not None and codename == "view_students":
        return own
    return get_for_user(request.user, qs, codename, pk=pk)


def _year(request) -> int:
    try:
        return int(request.GET.get("year", ""))
    except ValueError:
        return school_year_of(timezone.localdate())


# --- lists ---------------------------------------------------------------------------------------

INDEX_SORTS = {"-issued": "-issued_at", "issued": "issued_at", "status": "status", "kind": "kind",
               "-year": "-school_year"}


@login_required
def index(request):
    """Agreements in the user's units (search, filter, sort, pages) and those awaiting the user's signature."""
    qs = selectors.agreements_visible(request.user)
    q = search_query(request)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(party_user__real_name__icontains=q)
                       | Q(party_region__name__icontains=q) | Q(party_school__name__icontains=q)
                       | Q(student__name__icontains=q))
    kind = request.GET.get("kind", "")
    if kind in AgreementKind.values:
        qs = qs.filter(kind=kind)
    status = request.GET.get("status", "")
    if status in AgreementStatus.values:
        qs = qs.filter(status=status)
    qs, sort = sort_by(request, qs, INDEX_SORTS, "-issued")
    return render(request, "agreements/index.html", {
        "awaiting": selectors.awaiting_signature(request.user), "q": q, "kind": kind, "status": status,
        "sort": sort, "kinds": AgreementKind.choices, "statuses": AgreementStatus.choices,
        **paginate(request, qs)})


@login_required
def mine(request):
    """The agreements naming the user as a party (a registrar signs here even while the grant is inactive)."""
    rows = (Agreement.objects.filter(party_user=request.user).select_related("issuer_school")
            .order_by("-school_year", "-issued_at"))
    return render(request, "agreements/mine.html", {
        "rows": rows, "has_children": request.user.guardian_links.exists()})


# --- one agreement ---------------------------------------------------------------------------------

def _detail_context(request, agreement: Agreement) -> dict:
    user = request.user
    signatures = list(agreement.signatures.all())
    signed = {s.party for s in signatures}
    party = selectors.signing_party(user, agreement)
    can_sign = (party is not None and party not in signed and not agreement.is_frozen
                and not (agreement.kind == AgreementKind.LIABILITY and "b" not in signed))
    school = agreement.school
    is_liability = agreement.kind == AgreementKind.LIABILITY
    may_edit = is_liability and school is not None and has_unit_perm(user, "edit_students", school)
    issuer = agreement.issuer_unit
    may_approve_issuer = issuer is not None and has_unit_perm(user, "approve_changes", issuer)
    return {
        "agreement": agreement, "signatures": signatures, "can_sign": can_sign, "sign_form": SignForm(),
        "facts": facts_rows(agreement, full_id=False), "pdf_ok": pdf_available(),
        "may_paper": may_edit and "b" not in signed and not agreement.is_frozen,
        "may_remind": not agreement.is_frozen and (may_edit if is_liability else may_approve_issuer),
        "may_void": not agreement.is_frozen and may_approve_issuer,
    }


@login_required
def detail(request, pk: int):
    """The agreement's frozen text, filled-in data (ID masked), signatures and the actions the user may take."""
    agreement = _agreement(request, pk)
    return render(request, "agreements/detail.html", _detail_context(request, agreement))


@login_required
@require_POST
def sign(request, pk: int):
    """Sign (or, for a liability form, confirm as the school) after ticking the confirmation."""
    agreement = _agreement(request, pk)
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            services.agreement_sign(actor=request.user, agreement=agreement, confirmed=True,
                                    ip_address=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "已签署。")
            return redirect("agreements:detail", pk=pk)
    context = _detail_context(request, agreement)
    if selectors.signing_party(request.user, agreement) is None:
        raise PermissionDenied("您不是这份责任书的签署人")
    context["sign_form"] = form
    return render(request, "agreements/detail.html", context, status=400)


@login_required
@require_POST
def remind(request, pk: int):
    """Remind the side(s) that have not signed."""
    agreement = _agreement(request, pk)
    try:
        count = services.agreement_remind(actor=request.user, agreement=agreement, ip_address=client_ip(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已提醒 {count} 人。")
    return redirect(request.POST.get("next") if _safe_next(request) else reverse("agreements:detail", args=[pk]))


def _safe_next(request) -> bool:
    nxt = request.POST.get("next", "")
    return nxt.startswith("/agreements/") and "//" not in nxt


@login_required
def void(request, pk: int):
    """Void an unsigned agreement (with a reason), e.g. to reissue after a correction."""
    agreement = _agreement(request, pk, "approve_changes")
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_void(actor=request.user, agreement=agreement, reason=form.cleaned_data["reason"],
                                    ip_address=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "责任书已作废。")
            return redirect("agreements:detail", pk=pk)
    return render(request, "agreements/void.html", {"agreement": agreement, "form": form})


@login_required
def paper(request, pk: int):
    """Record the guardian's paper signature with the scanned signed page (liability forms)."""
    agreement = _agreement(request, pk, "edit_students")
    if agreement.kind != AgreementKind.LIABILITY:
        raise Http404("只有未满六周岁入学责任书可以录入纸质签字")
    form = PaperSignatureForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.liability_form_paper_record(actor=request.user, agreement=agreement,
                                                 signer_name=form.cleaned_data["signer_name"],
                                                 scan=form.cleaned_data["scan"], ip_address=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "纸质签字已录入，请学校负责人确认。")
            return redirect("agreements:detail", pk=pk)
    return render(request, "agreements/paper.html", {"agreement": agreement, "form": form})


@login_required
def scan(request, pk: int):
    """The scanned paper signature, served only through the access layer (never a public URL)."""
    agreement = _agreement(request, pk, "view_students")
    sig = agreement.signatures.filter(method="paper").exclude(scan_path="").first()
    if sig is None or not private_storage.exists(sig.scan_path):
        raise Http404("没有扫描件")
    audit_record(actor=request.user, kind=AuditEvent.Kind.RECORD_VIEW, unit=agreement.school, target=agreement,
                 ip_address=client_ip(request), message="查看责任书签字扫描件")
    return FileResponse(private_storage.open(sig.scan_path, "rb"), content_type=sig.scan_content_type)


def _full_id_for_staff(request, agreement: Agreement) -> bool:
    # The school's own staff with the right to reveal ID numbers see the full number on paper.
    return (agreement.kind == AgreementKind.LIABILITY and agreement.school is not None
            and has_unit_perm(request.user, "reveal_id_number", agreement.school))


def _log_reveal(request, agreement: Agreement, what: str) -> None:
    audit_record(actor=request.user, kind=AuditEvent.Kind.ID_REVEAL, unit=agreement.school, target=agreement,
                 ip_address=client_ip(request), message=f"{what}（含完整证件号）")


def _print_response(request, agreement: Agreement, full_id: bool):
    if full_id:
        _log_reveal(request, agreement, "打印责任书")
    return render(request, "agreements/print.html", {
        "agreement": agreement, "facts": facts_rows(agreement, full_id=full_id),
        "signature_rows": signature_rows(agreement)})


def _pdf_response(request, agreement: Agreement, full_id: bool, print_url: str):
    if not pdf_available():
        return render(request, "agreements/pdf_unavailable.html", {"agreement": agreement, "print_url": print_url},
                      status=503)
    if full_id:
        _log_reveal(request, agreement, "下载责任书PDF")
    response = HttpResponse(render_pdf(agreement, full_id=full_id), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="agreement-{agreement.pk}.pdf"'
    return response


@login_required
def print_view(request, pk: int):
    """The agreement as a print page (HTML with print CSS)."""
    agreement = _agreement(request, pk)
    return _print_response(request, agreement, _full_id_for_staff(request, agreement))


@login_required
def pdf(request, pk: int):
    """The agreement as PDF (embedded CJK font); without the font a page offering the print view."""
    agreement = _agreement(request, pk)
    return _pdf_response(request, agreement, _full_id_for_staff(request, agreement),
                         reverse("agreements:print", args=[pk]))


# --- registrar agreements -------------------------------------------------------------------------

@login_required
def registrars(request):
    """Registrars of the schools the user sees, with this school year's agreement and who has signed."""
    year = _year(request)
    qs = selectors.registrar_grants_overview(request.user, year)
    q = search_query(request)
    if q:
        qs = qs.filter(Q(user__real_name__icontains=q) | Q(school__name__icontains=q))
    qs, sort = sort_by(request, qs, {"school": "school__school_code", "name": "user__real_name",
                                     "status": "agreement_status"}, "school")
    return render(request, "agreements/registrars.html", {
        "year": year, "year_label": school_year_label(year), "q": q, "sort": sort,
        "heads": selectors.head_units(request.user)[1], **paginate(request, qs)})


@login_required
@require_POST
def registrar_issue(request, grant_pk: int):
    """Issue this year's registrar agreement for one registrar grant (the school's approver)."""
    grant = RoleGrant.objects.filter(pk=grant_pk, role=Role.REGISTRAR, school__isnull=False).select_related(
        "user").first()
    if grant is None:
        raise Http404("没有这个学籍管理员")
    grant.school = get_for_user(request.user, School.objects.all(), "approve_changes", pk=grant.school_id)
    try:
        agreement = services.registrar_agreement_issue(actor=request.user, grant=grant, ip_address=client_ip(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("agreements:registrars")
    messages.success(request, "责任书已发起，请双方签署。")
    return redirect("agreements:detail", pk=agreement.pk)


# --- inter-level agreements ------------------------------------------------------------------------

@login_required
def levels(request):
    """For each region the user heads: this year's agreements to the units below and who has signed."""
    year = _year(request)
    codes = selectors.head_units(request.user)[0]
    regions = list(Region.objects.filter(code__in=codes).order_by("code"))
    blocks = []
    for region in regions:
        rows = list(selectors.inter_level_progress(region, year))
        blocks.append((region, rows, sum(1 for a in rows if a.status == AgreementStatus.SIGNED)))
    return render(request, "agreements/levels.html", {"year": year, "year_label": school_year_label(year),
                                                      "blocks": blocks})


@login_required
@require_POST
def levels_issue(request, code: str):
    """Issue this year's agreement from region ``code`` to every unit directly below it."""
    region = get_for_user(request.user, Region.objects.all(), "approve_changes", code=code)
    created = services.inter_level_issue_all(actor=request.user, region=region, ip_address=client_ip(request))
    messages.success(request, f"已向下级单位下发 {len(created)} 份责任书。")
    return redirect("agreements:levels")


@login_required
@require_POST
def levels_remind(request, code: str):
    """Remind every unit below ``code`` that has not signed this year's agreement."""
    region = get_for_user(request.user, Region.objects.all(), "approve_changes", code=code)
    count = 0
    for agreement in selectors.inter_level_progress(region, school_year_of(timezone.localdate())):
        if not agreement.is_frozen:
            count += services.agreement_remind(actor=request.user, agreement=agreement, ip_address=client_ip(request))
    messages.success(request, f"已提醒 {count} 人。")
    return redirect("agreements:levels")


# --- liability forms -------------------------------------------------------------------------------

COHORT_SORTS = {"name": "name_pinyin", "-name": "-name_pinyin", "birth": "birth_date", "-birth": "-birth_date",
                "status": "form_status", "school": "school__school_code"}


@login_required
def liability(request):
    """First-grade children who need the liability form, with the form's status and actions."""
    year = _year(request)
    qs = selectors.cohort_students(request.user, year)
    q = search_query(request)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(name_pinyin__icontains=q.lower()) | Q(name_initials__iexact=q))
    state = request.GET.get("state", "")
    if state == "none":
        qs = qs.filter(form_id__isnull=True)
    elif state in AgreementStatus.values:
        qs = qs.filter(form_status=state)
    qs, sort = sort_by(request, qs, COHORT_SORTS, "name")
    return render(request, "agreements/liability.html", {
        "year": year, "year_label": school_year_label(year), "q": q, "state": state, "sort": sort,
        "statuses": AgreementStatus.choices, **paginate(request, qs)})


@login_required
@require_POST
def liability_issue(request, student_pk: int):
    """Issue the form for one child."""
    student = get_for_user(request.user, Student.objects.select_related("school", "grade"), "edit_students",
                           pk=student_pk)
    try:
        agreement = services.liability_form_issue(actor=request.user, student=student, ip_address=client_ip(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("agreements:liability")
    messages.success(request, "责任书已发放。")
    return redirect("agreements:detail", pk=agreement.pk)


@login_required
@require_POST
def liability_issue_all(request):
    """Issue the form for every child of the cohort (in the user's schools) that has none yet."""
    year = _year(request)
    if grants_for(request.user, "edit_students").empty:
        raise PermissionDenied("您没有发放责任书的权限")
    rows = selectors.cohort_students(request.user, year, "edit_students").filter(form_id__isnull=True)
    count = services.liability_forms_issue_all(actor=request.user, students=rows, ip_address=client_ip(request))
    messages.success(request, f"已发放 {count} 份责任书。")
    return redirect("agreements:liability")


@never_cache
@login_required
def invite(request, student_pk: int):
    """Create a one-time invitation code for a guardian; the code is shown once (slip to print)."""
    student = get_for_user(request.user, Student.objects.select_related("school"), "edit_students", pk=student_pk)
    names = selectors.allowed_guardian_names(student)
    form = InvitationForm(request.POST or None, initial={"guardian_name": names[0] if names else ""})
    if request.method == "POST" and form.is_valid():
        try:
            invitation, code = services.invitation_create(actor=request.user, student=student,
                                                          guardian_name=form.cleaned_data["guardian_name"],
                                                          ip_address=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return render(request, "agreements/invitation_slip.html", {
                "student": student, "invitation": invitation, "code": code,
                "redeem_url": request.build_absolute_uri(reverse("agreements:redeem"))})
    return render(request, "agreements/invite.html", {"student": student, "form": form, "names": names})


# --- templates -------------------------------------------------------------------------------------

@login_required
def template_list(request):
    """National texts (read-only) and the province/school versions the user may edit."""
    rows = selectors.templates_for_admin(request.user).order_by("kind", "unit_path")
    return render(request, "agreements/template_list.html", {"rows": rows, "kinds": AgreementKind.choices})


@login_required
@require_POST
def template_new(request):
    """Create the unit's own version of a kind: ``unit`` is a 6-digit province code or a 10-digit school code."""
    kind = request.POST.get("kind", "")
    unit_code = request.POST.get("unit", "").strip()
    if kind not in AgreementKind.values or not unit_code.isdigit() or len(unit_code) not in (6, 10):
        messages.error(request, "请选择类别，并填写6位省级行政区划代码或10位学校标识码")
        return redirect("agreements:template_list")
    if len(unit_code) == 6:
        unit = get_for_user(request.user, Region.objects.all(), "manage_units", code=unit_code)
    else:
        unit = get_for_user(request.user, School.objects.all(), "manage_units", school_code=unit_code)
    try:
        version = services.template_create_version(actor=request.user, kind=kind, unit=unit)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("agreements:template_list")
    return redirect("agreements:template_edit", pk=version.pk)


@login_required
def template_edit(request, pk: int):
    """Edit a province or school version (national texts are not editable here)."""
    template = get_for_user(request.user, AgreementTemplate.objects.select_related("region", "school"),
                            "manage_units", pk=pk)
    form = TemplateForm(request.POST or None, instance=AgreementTemplate.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.template_update(actor=request.user, template=template, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "已保存。已发出的责任书保留原文本。")
            return redirect("agreements:template_list")
    return render(request, "agreements/template_edit.html", {"template": template, "form": form})


# --- the province's first-grade age window --------------------------------------------------------

def _window_of(rule: EnrolmentAgeRule | None) -> tuple[int, int, int, int]:
    return (rule.start_month, rule.start_day, rule.end_month, rule.end_day) if rule else DEFAULT_WINDOW


def _effect(province: Region, window: tuple[int, int, int, int], year: int) -> str:
    sm, sd, em, ed = window
    rule = EnrolmentAgeRule(province=province, start_month=sm, start_day=sd, end_month=em, end_day=ed)
    return window_effect(age_window(year, rule=rule), year)


@login_required
def age_windows(request):
    """The first-grade age window of each province the user's units lie in, what it means for the
    coming intake, and a link to change it where the user may (the province's system administrator)."""
    year = upcoming_entry_year(timezone.localdate())
    rows = [{"province": province, "rule": rule, "window": _window_of(rule), "may_change": may_change,
             "effect": _effect(province, _window_of(rule), year)}
            for province, rule, may_change in selectors.age_window_provinces(request.user)]
    return render(request, "agreements/age_windows.html", {"rows": rows, "year": year})


@login_required
def age_window_edit(request, code: str):
    """Change a province's window: the form, then the effect of the new window to confirm, then the
    service. 404 for a province outside the user's scope, 403 without ``manage_units`` on it."""
    province = get_for_user(request.user, Region.objects.filter(level=Region.Level.PROVINCE), "manage_units",
                            code=code)
    rule = EnrolmentAgeRule.objects.filter(province=province).first()
    current = _window_of(rule)
    year = upcoming_entry_year(timezone.localdate())
    preview = ""
    if request.method == "POST":
        form = AgeWindowForm(request.POST)
        if form.is_valid() and rule is not None and form.window() == current:
            messages.info(request, "入学年龄窗口没有变化。")
            return redirect("agreements:age_windows")
        if form.is_valid() and form.confirmed:
            try:
                services.enrolment_age_rule_set(actor=request.user, province=province,
                                                **dict(zip(WINDOW_FIELDS, form.window(), strict=True)),
                                                ip_address=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"{province}的入学年龄窗口已修改。{_effect(province, form.window(), year)}")
                return redirect("agreements:age_windows")
        elif form.is_valid():
            # Valid but not yet confirmed (or changed since the preview): show its effect to confirm.
            preview = _effect(province, form.window(), year)
            data = request.POST.copy()
            data["confirm"] = form.signature()
            form = AgeWindowForm(data)
            form.is_valid()
    else:
        form = AgeWindowForm(initial=dict(zip(WINDOW_FIELDS, current, strict=True)))
    return render(request, "agreements/age_window_edit.html", {
        "province": province, "rule": rule, "current": current, "year": year, "form": form, "preview": preview,
        "current_effect": _effect(province, current, year)})


# --- parents' portal -------------------------------------------------------------------------------

def _is_guardian(user) -> bool:
    return user.is_authenticated and RoleGrant.objects.filter(user=user, role=Role.GUARDIAN).exists()


@never_cache
def redeem(request):
    """Redeem an invitation code: set a username and password (or, logged in as a guardian, add a child)."""
    existing = _is_guardian(request.user)
    form = RedeemForm(request.POST or None, existing_user=existing)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, link = services.invitation_redeem(
                code=data["code"], user=request.user if existing else None, username=data.get("username", ""),
                password=data.get("password", ""), ip_address=client_ip(request))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            if not existing:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"已关联孩子：{link.student.name}")
            return redirect("agreements:portal")
    return render(request, "agreements/portal_redeem.html", {"form": form, "existing": existing})


@login_required
def portal(request):
    """A guardian's own children: record status, masked ID numbers, the liability form."""
    links = list(selectors.guardian_children(request.user))
    return render(request, "agreements/portal.html", {"links": links})


def _child_context(request, link, form=None) -> dict:
    agreement = selectors.liability_form_of(link.student_id)
    signed = {s.party for s in agreement.signatures.all()} if agreement else set()
    return {"link": link, "student": link.student, "agreement": agreement,
            "facts": facts_rows(agreement, full_id=False) if agreement else [],
            "can_sign": agreement is not None and "b" not in signed and not agreement.is_frozen,
            "form": form or GuardianSignForm(), "pdf_ok": pdf_available(),
            "signatures": list(agreement.signatures.all()) if agreement else []}


@login_required
def portal_child(request, student_pk: int):
    """One own child: the form (ID masked), its signatures, and the guardian's signing form."""
    link = selectors.guardian_child(request.user, student_pk)
    form = None
    if request.method == "POST":
        context = _child_context(request, link)
        agreement = context["agreement"]
        if agreement is None:
            raise Http404("学校尚未发放责任书")
        form = GuardianSignForm(request.POST)
        if form.is_valid():
            try:
                services.liability_form_guardian_sign(
                    actor=request.user, agreement=agreement, typed_name=form.cleaned_data["typed_name"],
                    confirmed=form.cleaned_data["confirmed"], ip_address=client_ip(request))
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, "已签署，等待学校确认。")
                return redirect("agreements:portal_child", student_pk=student_pk)
        return render(request, "agreements/portal_child.html", _child_context(request, link, form), status=400)
    return render(request, "agreements/portal_child.html", _child_context(request, link))


def _guardian_form(request, student_pk: int) -> Agreement:
    link = selectors.guardian_child(request.user, student_pk)
    agreement = selectors.liability_form_of(link.student_id)
    if agreement is None:
        raise Http404("学校尚未发放责任书")
    return agreement


@login_required
def portal_print(request, student_pk: int):
    """Print page of the own child's form; the guardian sees the full ID number on paper."""
    return _print_response(request, _guardian_form(request, student_pk), True)


@login_required
def portal_pdf(request, student_pk: int):
    """PDF of the own child's form with the full ID number (guardian's copy)."""
    return _pdf_response(request, _guardian_form(request, student_pk), True,
                         reverse("agreements:portal_print", args=[student_pk]))
