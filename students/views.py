"""Pages of the student record: list and search, roster, create/edit, record card, history,
ID reveal, live ID check, problem records and archives. Thin: access → form → service → response."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Lower
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.client_ip import client_ip
from schools.models import School, SchoolClass
from xueji.access import get_for_user, has_unit_perm, held_codenames, require_unit_perm, scoped
from xueji.lists import paginate, search_recall, search_redirect_url, sort_by, unit_filter
from xueji.once import AlreadySubmitted, SubmissionToken

from . import selectors, services
from .filters import StudentFilter
from .forms import ArchiveItemForm, ProblemResolveForm, ReasonForm, StudentEntry
from .models import ArchiveItem, FamilyMember, ProblemRecord, Student, StudentStatus
from .validators import id_number_birth_date, id_number_gender, validate_id_for_type

LIST_SORTS = {
    "class": "school_class__number", "name": "name_pinyin", "-name": "-name_pinyin",
    "birth": "birth_date", "-birth": "-birth_date", "status": "status", "grade": "grade__level",
    "-grade": "-grade__level",
}
ROSTER_SORTS = {"name": "name_pinyin", "-name": "-name_pinyin", "seat": "class_seat_number",
                "birth": "birth_date", "-birth": "-birth_date"}
# Search results sort by an expression rather than the column. Matches of a name, pinyin or initials
# prefix sit together in pinyin order (every 张 is zhang…), but PostgreSQL assumes them spread evenly:
# given the pinyin index it walks it from "a" until 50 matches turn up (837,000 rows, 5 s, for "张"
# in a county). The expression leaves it the search indexes, then a sort of the matches only. A name
# search bounded by its pinyin range (selectors.search_in_pinyin_order) keeps the column.
SEARCH_SORTS = {**LIST_SORTS, "name": Lower("name_pinyin").asc(), "-name": Lower("name_pinyin").desc()}
# A bureau's list can hold millions of students: count at most this many (xueji.lists.CappedPaginator).
LIST_COUNT_CAP = 10_000
# The purpose of the new-student form's one-time submission token (xueji.once).
CREATE_FORM = "students:create"
# Shown after saving, and on the record page, for a first-grader born inside the province's window
# (agreements.rules.liability_form_needed); registration refuses the child until the form is signed.
LIABILITY_NOTICE = ("该生未满六周岁入学：提交注册前，须签订《未满六周岁入学责任书》"
                    "（监护人签字并经学校确认）。")


def _students(request, codename: str, pk: int) -> Student:
    return get_for_user(request.user, Student.objects.select_related("school", "grade", "school_class"),
                        codename, pk=pk)


def _require_any(request, codename: str) -> None:
    if codename not in held_codenames(request.user):
        raise PermissionDenied("您没有执行此操作的权限")


# ---------------------------------------------------------------------------------------------
# Lists


@login_required
def student_list(request):
    """Search and filter every student in the user's scope (name, pinyin, initials, ID number,
    student number), sorted and paginated."""
    _require_any(request, "view_students")
    if request.method == "POST":
        # The search box posts, so that names and ID numbers stay out of URLs and logs.
        return redirect(search_redirect_url(request, request.path))
    filterset = StudentFilter(request.GET or None, queryset=selectors.student_list(request.user), request=request)
    # A filter value that does not validate (a school outside the scope or region, a stale link)
    # shows its error and no rows: dropping it would widen the list to the whole scope.
    filter_invalid = filterset.is_bound and not filterset.is_valid()
    qs = filterset.queryset.none() if filter_invalid else filterset.qs
    q = search_recall(request) or request.GET.get("q", "")
    qs = selectors.student_search(qs, q)
    sorts = SEARCH_SORTS if q.strip() and not selectors.search_in_pinyin_order(q) else LIST_SORTS
    qs, sort = sort_by(request, qs, sorts, "name")
    context = {"filter": filterset, "filter_invalid": filter_invalid, "sort": sort, "q": q,
               "can_create": "edit_students" in held_codenames(request.user),
               **paginate(request, qs, count_cap=LIST_COUNT_CAP)}
    return render(request, "students/student_list.html", context)


@login_required
def class_roster(request, pk: int):
    """The roster (花名册) of one class: its live and draft students, sorted and paginated."""
    school_class = get_for_user(request.user, SchoolClass.objects.select_related("school", "grade"),
                                "view_students", pk=pk)
    qs = selectors.student_list(request.user).filter(school_class=school_class)
    qs, sort = sort_by(request, qs, ROSTER_SORTS, "name")
    return render(request, "students/class_roster.html",
                  {"school_class": school_class, "sort": sort, **paginate(request, qs)})


# ---------------------------------------------------------------------------------------------
# Registration (新生注册): submit drafts to the approval engine (transfers)


@login_required
@require_http_methods(["GET", "POST"])
def registration(request):
    """The drafts the registrar may submit, with "提交注册" for the ticked ones (one batch per school).

    Every ticked record must be in the user's scope with ``edit_students`` (else 404). The batch is
    checked with ``registration_check`` first (ID numbers live elsewhere are refused, naming the
    school, with a link to start a transfer), then handed to ``transfers.services.registration_submit``.
    """
    _require_any(request, "edit_students")
    drafts = selectors.student_list(request.user, "edit_students").filter(status="draft")
    errors = []
    if request.method == "POST":
        ids = {int(i) for i in request.POST.getlist("students") if str(i).isdigit()}
        chosen = list(drafts.filter(pk__in=ids))
        if len(chosen) != len(ids):
            raise Http404("部分学生不存在或不在您的管辖范围内")
        errors = services.registration_check(chosen)
        if not chosen:
            messages.error(request, "请选择要提交注册的学生")
        elif not errors:
            from transfers.services import registration_submit

            try:
                change = registration_submit(actor=request.user, students=chosen)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, f"已提交注册：{len(chosen)} 名学生")
                return redirect("transfers:change_detail", pk=change.pk)
    qs, sort = sort_by(request, drafts, LIST_SORTS, "name")
    return render(request, "students/registration.html", {"errors": errors, "sort": sort, **paginate(request, qs)})


# ---------------------------------------------------------------------------------------------
# Create, edit, delete


def _school_for_create(request) -> School | None:
    school_id = request.GET.get("school") or request.POST.get("school_id")
    if school_id:
        if not str(school_id).isdigit():
            raise Http404("学校不存在")
        return get_for_user(request.user, School.objects.all(), "edit_students", pk=int(school_id))
    schools = list(scoped(request.user, School.objects.all(), "edit_students")[:2])
    if not schools:
        raise PermissionDenied("您没有录入学籍的权限")
    return schools[0] if len(schools) == 1 else None


@login_required
@require_http_methods(["GET", "POST"])
def student_create(request):
    """Enter a new student as a draft (the registrar of the school: edit_students).

    The form sends once (xueji.once): a repeat of a saved form (double click, resent POST) writes
    nothing and leads to the first one's record; a missing or forged token re-renders the form with
    the input and a new token. A first-grader born inside the province's window is saved with a
    notice that the liability form is needed before registration."""
    school = _school_for_create(request)
    if school is None:
        schools = scoped(request.user, School.objects.all(), "edit_students").order_by("school_code")
        return render(request, "students/choose_school.html", {"schools": schools})
    entry = StudentEntry(request.POST or None, school=school)
    once = SubmissionToken.for_request(request, CREATE_FORM)
    if request.method == "POST" and not once.valid:
        entry.form.add_error(None, once.invalid_message)  # re-rendered with the input and a new token
    elif request.method == "POST":
        try:
            # Claimed before validating: a repeat of a saved form would fail validation (its ID
            # number is now held by the first one's draft) instead of leading to that draft.
            with once.claim() as claim:
                if not entry.is_valid():
                    raise _FormInvalid
                data, members = entry.cleaned()
                student = services.student_create(actor=request.user, school=school, data=data, members=members)
                claim.url = reverse("students:detail", args=[student.pk])
        except AlreadySubmitted as repeat:
            # A double click or a resent POST: the first one wrote the record (or is writing it).
            messages.warning(request, repeat.message)
            return redirect(repeat.url or "students:list")
        except _FormInvalid:
            pass  # the claim was released: the corrected form may be sent again with the same token
        except ValidationError as exc:
            _errors_to_form(entry, exc)  # the token was released: the corrected form may be sent again
        else:
            messages.success(request, f"已保存学籍草稿：{student.name}")
            _liability_message(request, entry)
            return redirect(claim.url)
    return render(request, "students/student_form.html",
                  {"entry": entry, "school": school, "student": None, "once": once,
                   "transfer_url": _transfer_url(entry)})


def _transfer_url(entry: StudentEntry) -> str:
    """The page to start a transfer when the ID number is held by a live record of another
    school (a link next to the error, which says "请发起转学"), else ""."""
    if not entry.form.is_bound or not entry.form.has_error("id_number", "id_number_live_elsewhere"):
        return ""
    return services.transfer_start_url()


class _FormInvalid(Exception):
    """Leaves the one-time claim of a form that did not validate (the claim is released)."""


def _liability_message(request, entry: StudentEntry) -> None:
    if entry.form.needs_liability_form():
        messages.warning(request, LIABILITY_NOTICE)


def _errors_to_form(entry: StudentEntry, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            entry.form.add_error(field if field in entry.form.fields else None, errors)
    else:
        entry.form.add_error(None, exc)


@login_required
@require_http_methods(["GET", "POST"])
def student_update(request, pk: int):
    """Edit a record: drafts fully; registered records except key data (those need a correction).
    A draft first-grader is judged by the first-grade age rule as on entry."""
    student = _students(request, "edit_students", pk)
    entry = StudentEntry(request.POST or None, school=student.school, instance=student)
    reason_form = ReasonForm(request.POST or None)
    if request.method == "POST" and entry.is_valid() and reason_form.is_valid():
        data, members = entry.cleaned()
        try:
            services.student_update(actor=request.user, student=student, data=data, members=members,
                                    reason=reason_form.cleaned_data["reason"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "reason" in exc.error_dict:
                reason_form.add_error("reason", exc.error_dict.pop("reason"))
            if not hasattr(exc, "error_dict") or exc.error_dict:
                _errors_to_form(entry, exc)
        else:
            messages.success(request, "已保存修改。")
            _liability_message(request, entry)
            return redirect("students:detail", pk=student.pk)
    return render(request, "students/student_form.html",
                  {"entry": entry, "school": student.school, "student": student, "reason_form": reason_form,
                   "correction_url": _correction_url(student), "transfer_url": _transfer_url(entry)})


def _correction_url(student: Student) -> str:
    """Where to start a key-data correction for ``student`` (the transfers app's change form)."""
    try:
        return reverse("transfers:change_new", kwargs={"kind": "key_data_correction", "student_pk": student.pk})
    except NoReverseMatch:
        return ""


@login_required
@require_http_methods(["GET", "POST"])
def student_delete(request, pk: int):
    """Delete a draft after a confirmation page."""
    student = _students(request, "edit_students", pk)
    if request.method == "POST":
        try:
            services.student_delete_draft(actor=request.user, student=student)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("students:detail", pk=student.pk)
        messages.success(request, f"已删除草稿：{student.name}")
        return redirect("students:list")
    return render(request, "students/confirm.html", {
        "student": student, "title": "删除学籍草稿", "danger": True, "button": "确认删除",
        "text": f"确定删除 {student.name} 的学籍草稿吗？删除后可在历史记录中查到，但草稿不能恢复。"})


@login_required
@require_http_methods(["GET", "POST"])
def student_verify(request, pk: int):
    """Mark the ID number verified and assign the G number (confirmation page first)."""
    student = _students(request, "edit_students", pk)
    if request.method == "POST":
        try:
            services.student_verify(actor=request.user, student=student, ip_address=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "已核验，学籍号已转为G学籍号。")
        return redirect("students:detail", pk=student.pk)
    return render(request, "students/confirm.html", {
        "student": student, "title": "核验证件号", "danger": False, "button": "确认核验",
        "text": f"确认 {student.name} 的身份证件号已与户籍信息核对无误？"
                "核验后学籍号转为G学籍号，原学籍号保留在历史记录中。"})


# ---------------------------------------------------------------------------------------------
# The student's page, the record card, reveal


@login_required
def student_detail(request, pk: int):
    """The student's page: summary (ID masked), family, problems, and the full change history."""
    student = _students(request, "view_students", pk)
    return render(request, "students/student_detail.html", {
        "student": student,
        "members": list(student.family_members.all()),
        "history": selectors.student_history(student),
        "duplicates": list(selectors.suspected_duplicates(student)[:5]) if not student.id_number else [],
        "problems": list(student.problems.filter(status=ProblemRecord.Status.OPEN)),
        "can_edit": has_unit_perm(request.user, "edit_students", student),
        "can_reveal": has_unit_perm(request.user, "reveal_id_number", student),
        "correction_url": _correction_url(student),
        "liability": _liability_notice(student),
    })


def _liability_notice(student: Student) -> dict | None:
    """For a draft first-grader born inside the province's window whose liability form is not
    signed yet: {"text", "form" (the Agreement or None when not issued)}. Else None. Queries: the
    province's rule and the form (with its signatures), for such drafts only."""
    from agreements.models import AgreementStatus
    from agreements.rules import entry_year_of, is_first_grade, liability_form_needed
    from agreements.selectors import liability_form_of

    if student.status != StudentStatus.DRAFT or not is_first_grade(student):
        return None
    if not liability_form_needed(student.birth_date, entry_year_of(student), student.province_code):
        return None
    form = liability_form_of(student.pk)
    if form is not None and form.status == AgreementStatus.SIGNED:
        return None
    return {"text": LIABILITY_NOTICE, "form": form}


@login_required
def student_card(request, pk: int):
    """The record card (学籍卡): the whole record on one printable page; opening it is logged."""
    student = _students(request, "view_students", pk)
    services.student_record_view(actor=request.user, student=student, ip_address=client_ip(request))
    members = list(student.family_members.all())
    regions = _region_names(student, members)
    return render(request, "students/student_card.html", {
        "student": student, "members": [(m, _member_rows(m, regions)) for m in members],
        "sections": _card_sections(student, regions),
        "can_reveal": has_unit_perm(request.user, "reveal_id_number", student),
    })


_REGION_FIELDS = {"birthplace_code", "native_place_code", "hukou_region_code"}


def _value(obj, field_name: str, regions: dict[str, str]) -> str:
    field = obj._meta.get_field(field_name)
    value = getattr(obj, field_name)
    if field_name == "id_number":
        return obj.masked_id_number
    if field_name in _REGION_FIELDS:
        return f"{regions.get(value, '')} {value}".strip() if value else ""
    if field.choices:
        return getattr(obj, f"get_{field_name}_display")()
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    return str(value)


def _card_sections(student: Student, regions: dict[str, str]) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """[(section, [(label, value, field name)])] covering every field of the record."""
    from .forms import StudentForm

    return [(title, [(str(Student._meta.get_field(n).verbose_name), _value(student, n, regions), n) for n in names])
            for title, names in StudentForm.GROUPS]


def _member_rows(member: FamilyMember, regions: dict[str, str]) -> list[tuple[str, str, str]]:
    from .services import FAMILY_DATA_FIELDS

    return [(str(FamilyMember._meta.get_field(n).verbose_name), _value(member, n, regions), n)
            for n in FAMILY_DATA_FIELDS]


def _region_names(student: Student, members: list[FamilyMember]) -> dict[str, str]:
    from schools.models import Region

    codes = {student.birthplace_code, student.native_place_code, student.hukou_region_code,
             *(m.hukou_region_code for m in members)} - {""}
    return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))


@login_required
@require_POST
def id_reveal(request, pk: int):
    """Show one full ID number once (htmx fragment); the reveal is an audit event."""
    student = _students(request, "reveal_id_number", pk)
    member = None
    order = request.POST.get("member", "")
    if order:
        if order not in ("1", "2"):
            raise Http404("家庭成员不存在")
        member = get_object_or_404(FamilyMember, student=student, order=int(order))
    number = services.id_number_reveal(actor=request.user, student=student, member=member,
                                       ip_address=client_ip(request))
    response = render(request, "students/_revealed.html", {"number": number})
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------
# Live ID-number check (htmx)


@login_required
@require_POST
def id_check(request):
    """Validate the ID number typed in the form and fill in the birth date and gender it encodes.

    htmx posts the whole form; the response is the message fragment plus out-of-band swaps of the
    birth date and gender inputs. Any input gives 200 with a message, never a 500.
    """
    _require_any(request, "edit_students")
    id_type = str(request.POST.get("id_type", "1"))[:2]
    raw = str(request.POST.get("id_number", ""))[:200]
    context = {"ok": False, "message": "", "birth_date": None, "gender": None}
    if not raw.strip():
        context["message"] = ""
    else:
        try:
            number = validate_id_for_type(id_type, raw)
        except ValidationError as exc:
            context["message"] = " ".join(exc.messages)
        else:
            context.update(ok=True, message="证件号格式正确")
            if id_type == "1":
                context.update(birth_date=id_number_birth_date(number), gender=id_number_gender(number),
                               message="证件号格式正确，已按证件号填写出生日期和性别")
    return render(request, "students/_id_check.html", context)


# ---------------------------------------------------------------------------------------------
# Problem records


PROBLEM_SORTS = {"-detected": "-detected_at", "detected": "detected_at", "kind": "kind", "status": "status"}


@login_required
def problem_list(request):
    """Problem records of the user's scope: each school its own, bureaus their subtree."""
    _require_any(request, "view_students")
    qs = selectors.problems_for(request.user)
    status = request.GET.get("status", "open")
    if status in ProblemRecord.Status.values:
        qs = qs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in ProblemRecord.Kind.values:
        qs = qs.filter(kind=kind)
    qs = unit_filter(request, qs, "assigned_path")  # the dashboards' drill-down links
    qs, sort = sort_by(request, qs, PROBLEM_SORTS, "-detected")
    context = {"status": status, "kind": kind, "sort": sort, "statuses": ProblemRecord.Status.choices,
               "kinds": ProblemRecord.Kind.choices, **paginate(request, qs)}
    return render(request, "students/problem_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def problem_detail(request, pk: int):
    """One problem record with its students (ID masked) and the resolution form."""
    problem = selectors.problems_for(request.user).filter(pk=pk).first()
    if problem is None:
        raise Http404("问题学籍不存在或不在您的管辖范围内")
    can_resolve = problem.status == ProblemRecord.Status.OPEN and has_unit_perm(request.user, "edit_students",
                                                                                 problem)
    form = ProblemResolveForm(request.POST or None, request.FILES or None, problem=problem)
    if request.method == "POST":
        require_unit_perm(request.user, "edit_students", problem)
        if form.is_valid():
            try:
                services.problem_resolve(actor=request.user, problem=problem,
                                         resolution=form.cleaned_data["resolution"], note=form.cleaned_data["note"],
                                         keep=form.cleaned_data["keep"], evidence=form.cleaned_data["evidence"])
            except ValidationError as exc:
                _errors_to_plain_form(form, exc)
            else:
                messages.success(request, "问题学籍已处理。")
                return redirect("students:problem_detail", pk=problem.pk)
    members = list(problem.members.select_related("student__school", "student__grade", "student__school_class"))
    # A cross-school case shows a school's staff the other school's record by its school's name
    # only: the record itself is outside their scope (its page would be 404).
    visible = set(scoped(request.user, Student.objects.filter(pk__in=[m.student_id for m in members]),
                         "view_students").values_list("pk", flat=True))
    return render(request, "students/problem_detail.html",
                  {"problem": problem, "rows": [(m.student, m.student_id in visible) for m in members],
                   "form": form, "can_resolve": can_resolve})


def _errors_to_plain_form(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@login_required
def problem_evidence(request, pk: int):
    """Download the evidence file of a problem record (through the access layer only)."""
    problem = selectors.problems_for(request.user).filter(pk=pk).first()
    if problem is None or not problem.evidence:
        raise Http404("文件不存在")
    return FileResponse(problem.evidence.open("rb"), as_attachment=False,
                        filename=f"problem-{problem.pk}{_extension(problem.evidence.name)}")


def _extension(name: str) -> str:
    return name[name.rfind("."):] if "." in name else ""


# ---------------------------------------------------------------------------------------------
# Archive (学籍档案)


@login_required
def archive_list(request):
    """Students whose archive is incomplete, late ones first (due one month after entry)."""
    _require_any(request, "view_students")
    cutoff = selectors.archive_late_cutoff()
    qs = selectors.archive_overview(request.user)
    if request.GET.get("late") == "1":
        qs = qs.filter(enrolled_on__lt=cutoff)
    qs, sort = sort_by(request, qs, {"enrolled": "enrolled_on", "-enrolled": "-enrolled_on",
                                     "name": "name_pinyin"}, "enrolled")
    return render(request, "students/archive_list.html",
                  {"cutoff": cutoff, "late": request.GET.get("late") == "1", "sort": sort, **paginate(request, qs)})


@login_required
@require_http_methods(["GET", "POST"])
def student_archive(request, pk: int):
    """The archive checklist of one student; each line can be edited (edit_students)."""
    student = _students(request, "view_students", pk)
    can_edit = has_unit_perm(request.user, "edit_students", student)
    types = list(services.archive_item_types_for(student.province_code))
    items = {i.item_type_id: i for i in ArchiveItem.objects.filter(student=student)}
    form = None
    if request.method == "POST":
        require_unit_perm(request.user, "edit_students", student)
        type_id = request.POST.get("item_type", "")
        item_type = next((t for t in types if str(t.pk) == type_id), None)
        if item_type is None:
            raise Http404("材料类型不存在")
        form = ArchiveItemForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.archive_item_update(actor=request.user, student=student, item_type=item_type,
                                             present=form.cleaned_data["present"],
                                             paper_location=form.cleaned_data["paper_location"],
                                             note=form.cleaned_data["note"], scan=form.cleaned_data["scan"],
                                             remove_scan=form.cleaned_data["remove_scan"])
            except ValidationError as exc:
                _errors_to_plain_form(form, exc)
            else:
                messages.success(request, f"已保存：{item_type.name}")
                return redirect("students:archive", pk=student.pk)
        form.item_type_id = item_type.pk
    lines = [(t, items.get(t.pk)) for t in types]
    return render(request, "students/student_archive.html", {
        "student": student, "lines": lines, "can_edit": can_edit, "form": form,
        "due": services.archive_due_date(student)})


@login_required
def archive_scan(request, pk: int, item_pk: int):
    """Serve one archive scan to a user who may view the student; the access is logged."""
    student = _students(request, "view_students", pk)
    item = ArchiveItem.objects.filter(student=student, pk=item_pk).select_related("item_type").first()
    if item is None or not item.scan:
        raise Http404("文件不存在")
    handle = services.archive_scan_open(actor=request.user, item=item, ip_address=client_ip(request))
    return FileResponse(handle, filename=f"{item.item_type.code}{_extension(item.scan.name)}")
