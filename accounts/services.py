"""Writes on accounts and role grants. Each takes the acting user, checks the rule, leaves history
and an audit event."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from guardian.shortcuts import assign_perm, remove_perm

from audits.models import AuditEvent
from audits.services import audit_record
from xueji.access import forget_grants, require_unit_perm
from xueji.history import delete_with_history, save_with_history

from .models import SEPARATED_ROLES, Role, RoleGrant, User
from .roles import ROLE_PERMISSIONS, ROLE_UNIT_KINDS


def user_create(*, actor, username: str, real_name: str, password: str, home_region=None, phone: str = "",
                must_change_password: bool = True) -> User:
    """Create an account under ``home_region`` (a Region; None for guardians).

    Accounts an admin creates must change their password at first login. ``actor`` needs
    ``manage_roles`` on ``home_region``; None only for system bootstrap (seed commands).
    Raises ValidationError for a taken username, PermissionDenied outside the actor's region.
    """
    if actor is not None and home_region is not None:
        require_unit_perm(actor, "manage_roles", home_region)
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": "该用户名已被使用"})
    user = User(username=username, real_name=real_name, phone=phone, home_region=home_region,
                must_change_password=must_change_password)
    user.set_password(password)
    save_with_history(user, actor=actor, reason="创建账号")
    audit_record(actor=actor, kind=AuditEvent.Kind.ACCOUNT_CREATE, unit=home_region, target=user,
                 message=f"创建账号 {username}")
    return user


def _check_grant_rules(user: User, role: str, unit) -> None:
    kind = {"Region": "region", "School": "school", "SchoolClass": "school_class"}.get(
        type(unit).__name__) if unit is not None else None
    if kind not in ROLE_UNIT_KINDS[role] and not (kind is None and not ROLE_UNIT_KINDS[role]):
        raise ValidationError({"unit": "该角色不能授予在此类单位上"})
    if role in SEPARATED_ROLES:
        held = RoleGrant.objects.filter(user=user, role__in=SEPARATED_ROLES).exclude(role=role).first()
        if held or RoleGrant.objects.filter(user=user, role=role).exists():
            raise ValidationError(
                {"role": "三员分立：同一账号只能担任系统管理员、安全管理员、审计管理员中的一个，且只能授予一次"})
    # DESIGN.md §1: the system administrator reads no student data, the security administrator edits
    # none, the audit administrator reads only logs; a business role on the same account would undo that.
    if role in SEPARATED_ROLES and RoleGrant.objects.filter(user=user).exists():
        raise ValidationError({"role": "三员分立：已担任其他角色的账号不能再担任系统管理员、安全管理员或审计管理员"})
    if role not in SEPARATED_ROLES and RoleGrant.objects.filter(user=user, role__in=SEPARATED_ROLES).exists():
        raise ValidationError({"role": "三员分立：系统管理员、安全管理员、审计管理员的账号不能再担任其他角色"})


def _unit_kwargs(unit) -> dict:
    kind = {"Region": "region", "School": "school", "SchoolClass": "school_class"}[type(unit).__name__]
    return {kind: unit}


def _assign(grant: RoleGrant) -> None:
    for codename in ROLE_PERMISSIONS[grant.role]:
        assign_perm(codename, grant.user, grant.unit)
    forget_grants(grant.user)


def _unassign(grant: RoleGrant) -> None:
    """Remove the permissions of ``grant`` that no other active grant on the same unit still gives."""
    kept = set()
    for other in RoleGrant.objects.filter(user=grant.user, is_active=True, **_unit_kwargs(grant.unit)).exclude(
            pk=grant.pk):
        kept.update(ROLE_PERMISSIONS[other.role])
    for codename in set(ROLE_PERMISSIONS[grant.role]) - kept:
        remove_perm(codename, grant.user, grant.unit)
    forget_grants(grant.user)


@transaction.atomic
def role_grant(*, actor, user: User, role: str, unit, is_active: bool = True, inactive_reason: str = "",
               ip_address: str | None = None) -> RoleGrant:
    """Grant ``role`` on ``unit`` (Region, School or SchoolClass; None for guardians) to ``user``.

    ``actor`` must hold ``manage_roles`` on the unit (None only for system bootstrap).
    Raises ValidationError for a role on the wrong kind of unit, a duplicate grant, or a second
    administrator role (三员分立, enforced also by a partial unique index); PermissionDenied when the
    actor may not grant there. An inactive grant (``is_active=False``) gives no permission yet.
    """
    if actor is not None and unit is not None:
        require_unit_perm(actor, "manage_roles", unit)
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied("不能给自己授予角色")
    _check_grant_rules(user, role, unit)
    grant = RoleGrant(user=user, role=role, granted_by=actor, is_active=is_active,
                      inactive_reason=inactive_reason, **(_unit_kwargs(unit) if unit is not None else {}))
    try:
        with transaction.atomic():
            save_with_history(grant, actor=actor, reason="授予角色")
    except IntegrityError as exc:
        raise ValidationError("该账号已持有此角色，或违反三员分立") from exc
    # grant.is_active, not the argument: a pre_save hook (agreements) may hold a registrar grant back.
    if grant.is_active and unit is not None:
        _assign(grant)
    audit_record(actor=actor, kind=AuditEvent.Kind.ROLE_GRANT, unit=unit, target=grant, ip_address=ip_address,
                 message=f"授予 {user.get_username()} {grant.get_role_display()}（{unit or '无单位'}）")
    return grant


@transaction.atomic
def role_revoke(*, actor, grant: RoleGrant, reason: str = "", ip_address: str | None = None) -> None:
    """Revoke ``grant``: its object permissions go, the grant row is deleted with a history row.

    ``actor`` must hold ``manage_roles`` on the grant's unit. Raises PermissionDenied otherwise.
    """
    unit = grant.unit
    if actor is not None and unit is not None:
        require_unit_perm(actor, "manage_roles", unit)
    if grant.is_active and unit is not None:
        _unassign(grant)
    audit_record(actor=actor, kind=AuditEvent.Kind.ROLE_REVOKE, unit=unit, target=grant, reason=reason,
                 ip_address=ip_address,
                 message=f"撤销 {grant.user.get_username()} {grant.get_role_display()}（{unit or '无单位'}）")
    delete_with_history(grant, actor=actor, reason=reason or "撤销角色")


@transaction.atomic
def role_grant_set_active(*, actor, grant: RoleGrant, is_active: bool, reason: str = "") -> RoleGrant:
    """Activate or deactivate ``grant`` (e.g. when the registrar's agreement is signed).

    Object permissions follow the flag. Returns the grant.
    """
    if grant.is_active == is_active:
        return grant
    grant.is_active = is_active
    grant.inactive_reason = "" if is_active else reason
    save_with_history(grant, actor=actor, reason=reason or ("角色生效" if is_active else "角色暂停"),
                      update_fields=["is_active", "inactive_reason"])
    if grant.unit is not None:
        (_assign if is_active else _unassign)(grant)
    return grant


def roles_of(user: User) -> list[RoleGrant]:
    """The user's grants with their units, for the home page and navigation."""
    return list(
        RoleGrant.objects.filter(user=user).select_related("region", "school", "school_class__school")
    )


__all__ = ["Role", "role_grant", "role_revoke", "role_grant_set_active", "roles_of", "user_create"]
