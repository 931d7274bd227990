"""Pages of the Excel import and export. Thin: access → form → service → response.

Import pages need ``edit_students`` (a school's registrar); a batch outside the user's scope is
404, inside without the right 403. Export pages need ``view_students`` on the school or class.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST

from accounts.client_ip import client_ip
from schools.models import School, SchoolClass
from xueji.access import get_for_user, grants_for, has_unit_perm, held_codenames, scoped
from xueji.lists import paginate, search_query

from . import exporting, services
from .forms import ExportForm, UploadForm
from .models import ImportBatch, ImportRowError
from .template import template_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_PER_PAGE = 100


def _require_any(request, codename: str) -> None:
    if codename not in held_codenames(request.user):
        raise PermissionDenied("您没有执行此操作的权限")


def _batch(request, pk: int) -> ImportBatch:
    return get_for_user(request.user, ImportBatch.objects.select_related("school", "created_by"),
                        "edit_students", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def batch_list(request):
    """Upload a file (choosing the school when the user registers for several) and list the
    user's schools' import batches."""
    _require_any(request, "edit_students")
    schools = scoped(request.user, School.objects.all(), "edit_students").order_by("school_code")
    form = UploadForm(request.POST or None, request.FILES or None, schools=schools,
                      initial={"school": request.GET.get("school")})
    if request.method == "POST" and form.is_valid():
        school = form.cleaned_data["school"]
        try:
            batch = services.batch_upload(actor=request.user, school=school, upload=form.cleaned_data["file"],
                                          commit=form.cleaned_data["commit"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            services.batch_start(actor=request.user, batch=batch)
            return redirect("imports:batch_detail", pk=batch.pk)
    batches = (scoped(request.user, ImportBatch.objects.all(), "edit_students")
               .select_related("school", "created_by").order_by("-created_at", "-pk"))
    first_two = list(schools[:2])
    single_school = first_two[0] if len(first_two) == 1 else None
    return render(request, "imports/batch_list.html", {"form": form, "single_school": single_school,
                                                       **paginate(request, batches, 20)})


@login_required
def batch_detail(request, pk: int):
    """A batch: its progress while it runs, its errors by row and column (paginated) when it
    failed, the registration batch when imported."""
    batch = _batch(request, pk)
    # Not batch.errors: the related manager would read each row's (deferred) batch_id back.
    errors = ImportRowError.objects.filter(batch=batch).only("row_number", "column", "message").order_by(
        "row_number", "pk")
    return render(request, "imports/batch_detail.html", {
        "batch": batch, **paginate(request, errors, ERRORS_PER_PAGE)})


@login_required
def batch_progress(request, pk: int):
    """The progress bar (htmx polls it every second); when the run is over, tells htmx to reload
    the page (HX-Refresh) so that the result shows."""
    batch = _batch(request, pk)
    response = render(request, "imports/_progress.html", {"batch": batch})
    if not batch.is_running:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def batch_import(request, pk: int):
    """Import a batch that passed a validate-only run (the file is validated again, then written)."""
    batch = _batch(request, pk)
    try:
        services.batch_start(actor=request.user, batch=batch, commit=True)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:batch_detail", pk=batch.pk)


@login_required
def template_download(request):
    """The import template (.xlsx). ``?school=<pk>`` fills the example row with that school."""
    _require_any(request, "edit_students")
    school = None
    if request.GET.get("school"):
        if not request.GET["school"].isdigit():
            raise Http404("学校不存在")
        school = get_for_user(request.user, School.objects.all(), "edit_students", pk=int(request.GET["school"]))
    else:
        school = scoped(request.user, School.objects.all(), "edit_students").order_by("school_code").first()
    response = HttpResponse(template_workbook(school=school), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, "学生导入模板.xlsx")
    return response


@login_required
def export_schools(request):
    """The schools whose rosters the user may export (view_students), paginated, and the classes
    on which the user holds view_students directly (a head teacher's)."""
    _require_any(request, "view_students")
    schools = scoped(request.user, School.objects.all(), "view_students").order_by("school_code")
    query = search_query(request)
    if query:
        schools = schools.filter(name__contains=query)
    # Head teachers hold view_students on a class, not a school: their classes are listed apart.
    classes = (SchoolClass.objects.filter(pk__in=grants_for(request.user, "view_students").class_ids)
               .select_related("school", "grade").order_by("school__school_code", "grade__stage", "grade__level",
                                                           "number"))
    return render(request, "imports/export_schools.html", {"q": query, "classes": classes,
                                                           **paginate(request, schools)})


def _export_school(request, school_pk: int) -> tuple[School, bool]:
    """The school whose roster is exported and whether the user may export all of it.

    ``?class=<pk>`` (the export link of a class roster) resolves the class through the access layer
    with view_students at class level, so that a head teacher, who holds it on one class only,
    reaches the export of that class: 404 when the class is outside the user's scope or not of
    this school, 403 without the right. Without it the school itself is resolved (view_students on
    the school or a region above it). Raises Http404 or PermissionDenied.
    """
    class_pk = request.GET.get("class", "")
    if class_pk:
        if not class_pk.isdigit():
            raise Http404("班级不存在")
        school_class = get_for_user(request.user, SchoolClass.objects.select_related("school"), "view_students",
                                    pk=int(class_pk), school_id=school_pk)
        school = school_class.school
        return school, has_unit_perm(request.user, "view_students", school)
    return get_for_user(request.user, School.objects.all(), "view_students", pk=school_pk), True


@login_required
@require_http_methods(["GET", "POST"])
def export_roster(request, school_pk: int):
    """Export a school's or a class's roster. ID numbers are masked unless the user holds
    reveal_id_number and asks for a full export with a reason (logged).

    The classes offered are those of the school where the user holds view_students (all of them for
    a school's registrar, their own for a head teacher); "全校" only with the right on the school.
    """
    school, whole_school = _export_school(request, school_pk)
    may_reveal = has_unit_perm(request.user, "reveal_id_number", school)
    classes = scoped(request.user, SchoolClass.objects.filter(school=school), "view_students")
    form = ExportForm(request.POST or None, classes=classes, whole_school=whole_school, may_reveal=may_reveal,
                      initial={"school_class": request.GET.get("class")})
    if request.method == "POST" and form.is_valid():
        school_class = form.cleaned_data["school_class"]
        try:
            output, _rows = exporting.roster_export(
                actor=request.user, school=school, school_class=school_class,
                full=form.cleaned_data.get("full", False), reason=form.cleaned_data["reason"],
                live_only=form.cleaned_data["live_only"], ip_address=client_ip(request))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            name = f"{school.school_code}_{school_class.pk if school_class else 'all'}_{timezone.localdate():%Y%m%d}"
            return FileResponse(output, as_attachment=True, filename=f"roster_{name}.xlsx", content_type=XLSX)
    class_pk = request.GET.get("class")
    # From a class roster, the way back is that roster (a head teacher has no school list to go back to).
    back = (reverse("students:roster", args=[class_pk]) if class_pk else reverse("imports:export_schools"))
    return render(request, "imports/export_form.html", {
        "school": school, "form": form, "may_reveal": may_reveal, "whole_school": whole_school, "back": back,
        "back_label": "班级花名册" if class_pk else "导出名册"})
