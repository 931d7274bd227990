"""The security administrator's pages: accounts in scope with their roles, new account, grant, revoke.

Access: every page needs ``manage_roles`` on some unit (403 otherwise); each unit and grant is
resolved through xueji.access (404 outside the administrator's region, 403 without the right).
Writes go through accounts.services, which record history and the audit event.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from schools.models import School, SchoolClass
from schools.selectors import classes_in_order
from xueji.access import held_codenames, scoped
from xueji.forms import add_service_error
from xueji.lists import paginate, sort_by

from . import selectors, services
from .client_ip import client_ip
from .filters import UserGrantFilter
from .forms_grants import AccountCreateForm, RevokeForm, RoleGrantForm
from .models import SEPARATED_ROLES
from .roles import ROLE_UNIT_KINDS

PER_PAGE = 50
OPTIONS_LIMIT = 30
USER_SORTS = {"username": "username", "-username": "-username", "real_name": "real_name",
              "region": "home_region__path"}
SORT_CHOICES = [("username", "按用户名"), ("real_name", "按姓名"), ("region", "按所属地区")]


def _require_manage_roles(user) -> None:
    if "manage_roles" not in held_codenames(user):
        raise PermissionDenied("只有安全管理员可以管理账号和角色")


@login_required
@require_GET
def grant_list(request):
    """Accounts in the administrator's region with their grants; search, role filter, sort, pages."""
    _require_manage_roles(request.user)
    users = UserGrantFilter(request.GET, queryset=selectors.managed_users(request.user), request=request)
    ordered, sort = sort_by(request, users.qs, USER_SORTS, "username")
    context = {"filter": users, "sort": sort, "sort_choices": SORT_CHOICES, "separated_roles": SEPARATED_ROLES,
               **paginate(request, ordered, PER_PAGE)}
    return render(request, "accounts/grant_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request):
    """A new account under one of the administrator's regions (must change its password at first login)."""
    _require_manage_roles(request.user)
    form = AccountCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        home_region = selectors.unit_for_manager(request.user, "region", data["home_region"])
        try:
            user = services.user_create(actor=request.user, username=data["username"], real_name=data["real_name"],
                                        phone=data["phone"], password=data["password"], home_region=home_region,
                                        must_change_password=True)
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"已创建账号 {user.username}，首次登录时须修改密码。现在可以为其授予角色。")
            return redirect(f"{reverse('accounts:grant_create')}?{urlencode({'username': user.username})}")
    return render(request, "accounts/account_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def grant_create(request):
    """Grant a role on a unit of the administrator's region. 三员分立 and other rule errors come from
    accounts.services.role_grant and are shown next to the field."""
    _require_manage_roles(request.user)
    initial = {"username": request.GET.get("username", "")}
    form = RoleGrantForm(request.POST or None, initial=initial, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = selectors.unit_for_manager(request.user, data["unit_kind"], data["unit_pk"])
        try:
            grant = services.role_grant(actor=request.user, user=data["user"], role=data["role"], unit=unit,
                                        ip_address=client_ip(request))
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            state = "" if grant.is_active else f"（暂未生效：{grant.inactive_reason or '待条件满足'}）"
            where = f"{unit.school} {unit}" if isinstance(unit, SchoolClass) else str(unit)
            messages.success(request, f"已授予 {data['user']} {grant.get_role_display()}：{where}{state}")
            return redirect(f"{reverse('accounts:grant_list')}?{urlencode({'q': data['user'].username})}")
    context = {"form": form, "role_unit_kinds": {role: list(kinds) for role, kinds in ROLE_UNIT_KINDS.items()}}
    return render(request, "accounts/grant_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def grant_revoke(request, pk: int):
    """Confirmation page, then revocation with a required reason."""
    grant = selectors.grant_for_manager(request.user, pk)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        description = str(grant)
        services.role_revoke(actor=request.user, grant=grant, reason=form.cleaned_data["reason"],
                             ip_address=client_ip(request))
        messages.success(request, f"已撤销：{description}")
        return redirect(f"{reverse('accounts:grant_list')}?{urlencode({'q': grant.user.username})}")
    return render(request, "accounts/grant_revoke.html", {"form": form, "grant": grant})


# htmx helpers of the grant form: <option>s, each limited to the administrator's scope.

@login_required
@require_GET
def grant_user_options(request):
    """Accounts in scope whose username or name contains ``username`` (for the datalist)."""
    _require_manage_roles(request.user)
    term = request.GET.get("username", "").strip()
    options = []
    if term:
        users = selectors.managed_users(request.user).prefetch_related(None).filter(
            Q(username__icontains=term) | Q(real_name__icontains=term)).order_by("username")[:OPTIONS_LIMIT]
        options = [(u.username, f"{u.real_name}（{u.home_region}）") for u in users]
    return render(request, "accounts/_options.html", {"options": options, "datalist": True})


@login_required
@require_GET
def grant_school_options(request):
    """Schools in scope whose name or code matches ``school_search``."""
    _require_manage_roles(request.user)
    term = request.GET.get("school_search", "").strip()
    options = [("", "请选择学校")]
    if term:
        schools = scoped(request.user, School.objects.all(), "manage_roles").filter(
            Q(name__icontains=term) | Q(school_code__startswith=term)).order_by("school_code")[:OPTIONS_LIMIT]
        options += [(s.pk, f"{s.name}（{s.school_code}）") for s in schools]
    return render(request, "accounts/_options.html", {"options": options})


@login_required
@require_GET
def grant_class_options(request):
    """The classes of the chosen school, if it is in scope."""
    _require_manage_roles(request.user)
    school_id = request.GET.get("school", "")
    options = [("", "请选择班级")]
    school = scoped(request.user, School.objects.filter(pk=school_id), "manage_roles").first() \
        if school_id.isdigit() else None
    if school is not None:
        options += [(c.pk, c.name) for c in classes_in_order(school.classes.all())]
    return render(request, "accounts/_options.html", {"options": options})
