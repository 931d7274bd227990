"""The access layer: the only way a view, task or service gets an object on behalf of a user.

Two questions, each answered by one indexed query whatever the depth of the tree:

* ``has_unit_perm(user, codename, obj)``: may ``user`` do ``codename`` on ``obj``? True when the
  user holds the object permission (django-guardian, direct foreign-key tables) on the object's
  class, its school, or any region on its path. Global permissions never count
  (the equivalent of guardian's ``accept_global_perms=False``).
* ``scoped(user, queryset, codename=None)``: the rows of ``queryset`` inside the user's units,
  optionally only those where the user holds ``codename``. Regions match by a prefix of the
  materialised path (an index range scan), schools and classes by id.

``get_for_user`` combines them into the rule every page follows: outside the user's scope is
404, inside the scope without the right is 403.

A model takes part by declaring ``scope_fields`` (see ``ScopeFields``) naming where its region
path, school id and class id live.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Exists, F, Model, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.http import Http404

from schools.models import (
    RegionUserObjectPermission,
    School,
    SchoolClassUserObjectPermission,
    SchoolUserObjectPermission,
)
from xueji.scope import UNIT_PERMISSIONS, ScopeFields, path_codes


@dataclass(frozen=True)
class Grants:
    """A user's active unit grants for one codename (or any): region paths, school and class ids."""

    region_paths: tuple[str, ...]
    school_ids: frozenset[int]
    class_ids: frozenset[int]

    @property
    def empty(self) -> bool:
        return not (self.region_paths or self.school_ids or self.class_ids)


def _perm_rows(model, user, codename: str | None, kind: str, path_lookup: str) -> QuerySet:
    q = Q(user_id=user.pk)
    if codename:
        q &= Q(permission__codename=codename)
    return (
        model.objects.filter(q)
        .annotate(kind=Value(kind, output_field=CharField()), unit_path=F(path_lookup),
                  unit_id=Cast("content_object_id", output_field=CharField()))
        .values_list("kind", "unit_path", "unit_id")
    )


def grants_for(user, codename: str | None = None) -> Grants:
    """Return the units on which ``user`` holds ``codename`` (any permission when None).

    One query (a UNION over guardian's three direct permission tables), cached on the user
    object so a request asks once per codename. Inactive users have no grants.
    """
    if not user or not user.is_authenticated or not user.is_active:
        return Grants((), frozenset(), frozenset())
    cache = user.__dict__.setdefault("_xueji_grants", {})
    if codename in cache:
        return cache[codename]
    rows = _perm_rows(RegionUserObjectPermission, user, codename, "region", "content_object__path").union(
        _perm_rows(SchoolUserObjectPermission, user, codename, "school", "content_object__path"),
        _perm_rows(SchoolClassUserObjectPermission, user, codename, "class", "content_object__school__path"),
    )
    found = {"region": set(), "school": set(), "class": set()}
    for kind, path, unit_id in rows:
        found[kind].add(path if kind == "region" else int(unit_id))
    grants = Grants(tuple(sorted(found["region"])), frozenset(found["school"]), frozenset(found["class"]))
    cache[codename] = grants
    return grants


def grants_prefetch(user) -> None:
    """Load every active grant of ``user`` with its codename in ONE query and fill the per-request
    cache that ``grants_for`` (any codename, or none) and ``held_codenames`` read.

    For pages that ask several questions (scope, two or three rights, the navigation): they then
    cost one query instead of one per question. Calling it twice does nothing the second time.
    """
    if not user or not user.is_authenticated or not user.is_active:
        return
    cache = user.__dict__.setdefault("_xueji_grants", {})
    if cache.get("__prefetched__"):
        return
    found: dict[str, dict[str, set]] = {}
    rows = _coded_rows(RegionUserObjectPermission, user, "region", "content_object__path").union(
        _coded_rows(SchoolUserObjectPermission, user, "school", "content_object__path"),
        _coded_rows(SchoolClassUserObjectPermission, user, "class", "content_object__school__path"),
    )
    for kind, path, unit_id, codename in rows:
        units = found.setdefault(codename, {"region": set(), "school": set(), "class": set()})
        units[kind].add(path if kind == "region" else int(unit_id))
    merged = {"region": set(), "school": set(), "class": set()}
    for codename, _ in UNIT_PERMISSIONS:
        units = found.get(codename, {"region": set(), "school": set(), "class": set()})
        for kind in merged:
            merged[kind] |= units[kind]
        cache.setdefault(codename, Grants(tuple(sorted(units["region"])), frozenset(units["school"]),
                                          frozenset(units["class"])))
    cache.setdefault(None, Grants(tuple(sorted(merged["region"])), frozenset(merged["school"]),
                                  frozenset(merged["class"])))
    cache.setdefault("__codenames__", frozenset(found))
    cache["__prefetched__"] = True


def _coded_rows(model, user, kind: str, path_lookup: str) -> QuerySet:
    return (model.objects.filter(user_id=user.pk)
            .annotate(kind=Value(kind, output_field=CharField()), unit_path=F(path_lookup),
                      unit_id=Cast("content_object_id", output_field=CharField()))
            .values_list("kind", "unit_path", "unit_id", "permission__codename"))


def holds(user, codename: str | None, unit) -> bool:
    """``has_unit_perm`` for a Region or a School, answered from the cached grants (no query once
    ``grants_for(user, codename)`` is known): a grant on the school, or on a region on its path.
    With ``codename`` None: whether ``unit`` is inside the user's scope at all (any grant)."""
    grants = grants_for(user, codename)
    if isinstance(unit, School) and unit.pk in grants.school_ids:
        return True
    return any(unit.path.startswith(path) for path in grants.region_paths)


def forget_grants(user) -> None:
    """Drop the per-request grant cache (after a grant or revocation changes it)."""
    user.__dict__.pop("_xueji_grants", None)


def scope_q(model, grants: Grants) -> Q:
    """The filter selecting rows of ``model`` inside ``grants``; matches nothing when empty."""
    fields: ScopeFields = model.scope_fields
    q = Q(pk__in=[])
    for path in grants.region_paths:
        q |= Q(**{f"{fields.path}__startswith": path})
    if fields.school and grants.school_ids:
        q |= Q(**{f"{fields.school}__in": grants.school_ids})
    if fields.school_class and grants.class_ids:
        q |= Q(**{f"{fields.school_class}__in": grants.class_ids})
    return q


def scoped(user, queryset: QuerySet, codename: str | None = None) -> QuerySet:
    """Rows of ``queryset`` inside the units where ``user`` holds ``codename`` (any when None)."""
    return queryset.filter(scope_q(queryset.model, grants_for(user, codename)))


def has_unit_perm(user, codename: str, obj: Model) -> bool:
    """True when ``user`` holds ``codename`` on ``obj``'s class, school or any region above it.

    ``obj`` is any model with ``scope_fields`` (Region, School, SchoolClass, Student, ...).
    One query with three EXISTS clauses on indexed columns.
    """
    if not user or not user.is_authenticated or not user.is_active:
        return False
    fields: ScopeFields = type(obj).scope_fields
    path = _resolve(obj, fields.path)
    # Region codes are 6 digits; a school path also carries the 10-digit school code.
    region_codes = [c for c in path_codes(path) if len(c) == 6]
    school_id = _resolve(obj, fields.school) if fields.school else None
    class_id = _resolve(obj, fields.school_class) if fields.school_class else None
    perm = Q(user_id=user.pk, permission__codename=codename)
    condition = Exists(RegionUserObjectPermission.objects.filter(perm, content_object_id__in=region_codes))
    if school_id:
        condition |= Exists(SchoolUserObjectPermission.objects.filter(perm, content_object_id=school_id))
    if class_id:
        condition |= Exists(SchoolClassUserObjectPermission.objects.filter(perm, content_object_id=class_id))
    # user.__class__, not type(user): request.user is a SimpleLazyObject whose type has no manager.
    return user.__class__.objects.filter(pk=user.pk).filter(condition).exists()


def _resolve(obj, lookup: str):
    value = obj
    for part in lookup.split("__"):
        value = getattr(value, part)
        if value is None:
            return None
    return value


def get_for_user(user, queryset: QuerySet, codename: str, **lookup) -> Model:
    """Fetch one object for ``user``: 404 outside the user's scope, 403 without ``codename``.

    ``lookup`` identifies the object (e.g. ``pk=3``). Raises ``Http404`` or ``PermissionDenied``.
    """
    obj = scoped(user, queryset).filter(**lookup).first()
    if obj is None:
        raise Http404("对象不存在或不在您的管辖范围内")
    if not has_unit_perm(user, codename, obj):
        raise PermissionDenied("您没有执行此操作的权限")
    return obj


def require_unit_perm(user, codename: str, obj: Model) -> None:
    """Raise ``PermissionDenied`` unless ``user`` holds ``codename`` on ``obj`` (used by services)."""
    if not has_unit_perm(user, codename, obj):
        raise PermissionDenied("您没有执行此操作的权限")


def held_codenames(user) -> frozenset[str]:
    """Every unit-permission codename ``user`` holds on at least one unit (one query, cached)."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    cache = user.__dict__.setdefault("_xueji_grants", {})
    if "__codenames__" not in cache:
        q = Q(user_id=user.pk)
        rows = (
            RegionUserObjectPermission.objects.filter(q).values_list("permission__codename")
            .union(SchoolUserObjectPermission.objects.filter(q).values_list("permission__codename"),
                   SchoolClassUserObjectPermission.objects.filter(q).values_list("permission__codename"))
        )
        cache["__codenames__"] = frozenset(r[0] for r in rows)
    return cache["__codenames__"]
