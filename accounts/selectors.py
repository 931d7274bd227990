"""Scoped reads on accounts and role grants for the security administrator's pages."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from schools.models import Region, School, SchoolClass
from xueji.access import get_for_user, scoped

from .models import RoleGrant, User


def grants_with_units() -> QuerySet:
    """Role grants with their unit (region, school, or class and its school) joined."""
    return RoleGrant.objects.select_related("region", "school", "school_class__school").order_by("role", "pk")


def managed_users(actor) -> QuerySet:
    """Accounts whose home region lies where ``actor`` holds ``manage_roles``, with their grants.

    Scope follows ``User.home_region`` (the region the account was created under); guardians have
    none and are not managed here.
    """
    return (
        scoped(actor, User.objects.select_related("home_region"), "manage_roles")
        .prefetch_related(Prefetch("role_grants", queryset=grants_with_units()))
    )


def account_unit(user):
    """The unit under which events of ``user``'s account are placed in the audit log.

    The account's home region; for an account without one (a guardian) the school of the child
    linked first (agreements.GuardianLink); None when neither exists. Takes a saved User; at most
    one query (the home region, or the guardian's first link with its school).
    Source: DESIGN.md §7 (every access event is audited) and audits.selectors (who reads it).
    """
    if user.home_region_id:
        return user.home_region
    link = user.guardian_links.select_related("student__school").order_by("created_at", "pk").first()
    return link.student.school if link is not None else None


def managed_user(actor, username: str) -> User | None:
    """The account ``username`` if ``actor`` manages it (see ``managed_users``), else None."""
    return scoped(actor, User.objects.all(), "manage_roles").filter(username=username).first()


UNIT_QUERYSETS = {
    "region": lambda: Region.objects.all(),
    "school": lambda: School.objects.all(),
    "school_class": lambda: SchoolClass.objects.select_related("school"),
}


def unit_for_manager(actor, kind: str, pk):
    """The region/school/class ``pk`` for granting a role: 404 outside ``actor``'s scope, 403 without
    ``manage_roles`` on it (xueji.access.get_for_user). ``kind`` is a key of ROLE_UNIT_KINDS' values."""
    return get_for_user(actor, UNIT_QUERYSETS[kind](), "manage_roles", pk=pk)


def grant_for_manager(actor, pk: int) -> RoleGrant:
    """The grant ``pk`` for revocation, resolved through its unit like ``unit_for_manager``.

    A grant without a unit (guardian) is resolved through its account's home region. Raises
    Http404 (no such grant, or outside the scope) or PermissionDenied (no ``manage_roles`` there).
    """
    grant = grants_with_units().select_related("user__home_region").filter(pk=pk).first()
    if grant is None:
        raise Http404("授权不存在或不在您的管辖范围内")
    if grant.unit is None:
        get_for_user(actor, User.objects.select_related("home_region"), "manage_roles", pk=grant.user_id)
    else:
        kind = {Region: "region", School: "school", SchoolClass: "school_class"}[type(grant.unit)]
        unit_for_manager(actor, kind, grant.unit.pk)
    return grant
