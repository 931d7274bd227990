"""School pages: list, detail, create/edit a school, generate grades, create/edit classes.

Every page resolves its objects through xueji.access (404 outside the user's scope, 403 inside
without ``manage_units``); every write goes through schools.services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access import get_for_user, grants_for, has_unit_perm, held_codenames
from xueji.forms import add_service_error
from xueji.lists import paginate, sort_by
from xueji.scope import path_codes

from . import selectors, services
from .filters import SchoolFilter
from .forms import ClassCreateForm, ClassUpdateForm, SchoolForm
from .models import Grade, School, SchoolClass

PER_PAGE = 50
SORT_CHOICES = [("code", "按标识码"), ("name", "按名称"), ("region", "按地区"), ("-code", "按标识码（倒序）")]
SCHOOL_SORTS = {
    "code": "school_code", "-code": "-school_code",
    "name": "name", "-name": "-name",
    "region": "path", "-region": "-path",
}


def _require_manage_units_somewhere(user) -> None:
    if "manage_units" not in held_codenames(user):
        raise PermissionDenied("只有系统管理员可以管理学校")


@login_required
@require_GET
def school_list(request):
    """Schools in the user's scope: search by name or code, filter by region and stage, sort, page."""
    if grants_for(request.user).empty:
        raise PermissionDenied("您没有任何单位的权限")
    schools = SchoolFilter(request.GET, queryset=selectors.school_list(request.user), request=request)
    ordered, sort = sort_by(request, schools.qs, SCHOOL_SORTS, "code")
    context = {"filter": schools, "sort": sort, "sort_choices": SORT_CHOICES, **paginate(request, ordered, PER_PAGE),
               "can_create": "manage_units" in held_codenames(request.user)}
    return render(request, "schools/school_list.html", context)


@login_required
@require_GET
def school_detail(request, pk: int):
    """A school with its grades and classes (head teachers shown)."""
    school = selectors.school_detail(request.user, pk)
    if school is None:
        raise Http404("学校不存在或不在您的管辖范围内")
    can_manage = has_unit_perm(request.user, "manage_units", school)
    years = [(Grade.Stage(stage).label, school.years_of(stage)) for stage in school.stages()]
    return render(request, "schools/school_detail.html",
                  {"school": school, "school_years": years, "can_manage": can_manage})


def _school_form(request, data=None, initial=None) -> SchoolForm:
    return SchoolForm(data, initial=initial, regions=selectors.regions_in_scope(request.user, "manage_units"),
                      authorities=selectors.authority_choices(request.user))


def _school_fields(form: SchoolForm) -> dict:
    return dict(form.cleaned_data)


@login_required
@require_http_methods(["GET", "POST"])
def school_create(request):
    """New school (system admin): the form offers only regions inside the admin's scope."""
    _require_manage_units_somewhere(request.user)
    form = _school_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            school = services.school_create(actor=request.user, **_school_fields(form))
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"已新设学校：{school.name}")
            return redirect("schools:school_detail", pk=school.pk)
    return render(request, "schools/school_form.html", {"form": form, "school": None})


@login_required
@require_http_methods(["GET", "POST"])
def school_update(request, pk: int):
    """Edit a school (system admin holding ``manage_units`` on it)."""
    school = get_for_user(request.user, School.objects.select_related("region", "authority"), "manage_units", pk=pk)
    if request.method == "POST":
        form = _school_form(request, request.POST)
        if form.is_valid():
            try:
                services.school_update(actor=request.user, school=school, **_school_fields(form))
            except ValidationError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, "学校信息已保存")
                return redirect("schools:school_detail", pk=school.pk)
    else:
        form = _school_form(request, initial=SchoolForm.initial_for(school))
    return render(request, "schools/school_form.html", {"form": form, "school": school})


@login_required
@require_GET
def authority_options(request):
    """htmx: the <option>s for 学籍主管部门 once a region is chosen: the region and its ancestors."""
    _require_manage_units_somewhere(request.user)
    region = selectors.regions_in_scope(request.user, "manage_units").filter(pk=request.GET.get("region", "")).first()
    authorities = selectors.authority_choices(request.user)
    if region is not None:
        authorities = authorities.filter(code__in=path_codes(region.path)).order_by("-path")
    labels = selectors.region_labels(authorities)
    return render(request, "schools/_authority_options.html",
                  {"options": [(code, label) for code, label in labels.items()],
                   "selected": region.code if region else ""})


@login_required
@require_POST
def grades_generate(request, pk: int):
    """One click: create all grades of the school's stages per its 学制."""
    school = get_for_user(request.user, School.objects.all(), "manage_units", pk=pk)
    created = services.grades_create_all(actor=request.user, school=school)
    if created:
        messages.success(request, f"已生成 {len(created)} 个年级：{'、'.join(g.name for g in created)}")
    else:
        messages.info(request, "所有年级均已存在，未生成新年级")
    return redirect("schools:school_detail", pk=school.pk)


@login_required
@require_http_methods(["GET", "POST"])
def class_create(request, pk: int):
    """A new class in one of the school's grades, with an optional head teacher."""
    school = get_for_user(request.user, School.objects.select_related("region"), "manage_units", pk=pk)
    grades = Grade.objects.filter(school=school).order_by(selectors.STAGE_ORDER, "level")
    form = ClassCreateForm(request.POST or None, initial={"grade": request.GET.get("grade")}, grades=grades,
                           teachers=selectors.head_teacher_candidates(school))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            school_class = services.class_create(actor=request.user, grade=data["grade"], number=data["number"],
                                                 name=data["name"], head_teacher=data["head_teacher"])
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"已新设班级：{school_class.name}")
            return redirect("schools:school_detail", pk=school.pk)
    return render(request, "schools/class_form.html", {"form": form, "school": school, "school_class": None})


@login_required
@require_http_methods(["GET", "POST"])
def class_update(request, pk: int):
    """Rename a class or change its head teacher."""
    school_class = get_for_user(request.user, SchoolClass.objects.select_related("school__region", "grade"),
                                "manage_units", pk=pk)
    school = school_class.school
    teachers = selectors.head_teacher_candidates(school)
    if request.method == "POST":
        form = ClassUpdateForm(request.POST, teachers=teachers)
        if form.is_valid():
            services.class_update(actor=request.user, school_class=school_class, name=form.cleaned_data["name"],
                                  head_teacher=form.cleaned_data["head_teacher"])
            messages.success(request, f"班级已保存：{school_class.name}")
            return redirect("schools:school_detail", pk=school.pk)
    else:
        form = ClassUpdateForm(initial=ClassUpdateForm.initial_for(school_class), teachers=teachers)
    return render(request, "schools/class_form.html", {"form": form, "school": school, "school_class": school_class})
