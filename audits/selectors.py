"""Scoped reads for the audit administrator: the audit log and the change history.

Where an audit event belongs (DESIGN.md §1, §3, §7): every event is placed in a region when it is
recorded (``audits.services.audit_record``): the unit concerned, else the acting account's unit
(``accounts.selectors.account_unit``: its home region, or for a guardian the school of the child
linked first), and for a failed login or lockout the unit of the account named, when it exists.
An audit administrator reads the events placed in the subtree of a region where they hold
``read_audit``, like every other scoped read. What is left has no region at all: failed logins of
names that are no account, the daily heartbeat, anonymous requests. Those concern the whole system,
so they belong to the top of the tree: an audit administrator granted on a province (a region
without a parent) reads them too; one granted lower down does not.

The change history is django-simple-history's tables of the audited models. Each table is scoped
by the region path the row carried or reaches (a school's ``path``, a student's ``school_path``,
a grade's school, a grant's unit, an account's home region), and the tables are merged with one
UNION so that the newest changes of every kind page together.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery, Value
from django.http import Http404

from accounts.models import RoleGrant, User
from schools.models import Grade, School, SchoolClass
from students.models import Student, mask_id_number
from xueji.access import Grants, grants_for, grants_prefetch, scope_q
from xueji.scope import path_codes

from .models import AuditEvent


def _holds_top_region(grants: Grants) -> bool:
    # A province (a region without a parent) has a one-code path: the top of the tree.
    return any(len(path_codes(path)) == 1 for path in grants.region_paths)


def _event_scope(grants: Grants) -> Q:
    """Events inside ``grants``: those placed in their regions' subtrees, and the events without
    a region when a grant is on a province (see the module docstring)."""
    q = scope_q(AuditEvent, grants)
    if _holds_top_region(grants):
        q |= Q(unit_path="")
    return q


def _event_in(event: AuditEvent, grants: Grants) -> bool:
    if not event.unit_path:
        return _holds_top_region(grants)
    return any(event.unit_path.startswith(path) for path in grants.region_paths)


def event_list(user) -> QuerySet:
    """Audit events ``user`` may read as audit administrator (``read_audit``), newest first.

    Events placed in the subtree of a region where ``user`` holds ``read_audit``; with a grant on
    a province also the events without a region (module docstring). One query; none for anyone
    without ``read_audit``.
    """
    return AuditEvent.objects.filter(_event_scope(grants_for(user, "read_audit"))).order_by("-created_at", "-id")


def event_for_user(user, pk: int) -> AuditEvent:
    """The audit event ``pk`` for its detail page: the access rule of every page (xueji.access).

    Raises Http404 when the event does not exist or lies outside every unit of ``user`` (for an
    event without a region: unless ``user`` holds some role on a province), PermissionDenied when
    it lies inside but ``user`` does not hold ``read_audit`` there. Two queries (the user's grants,
    the event).
    """
    grants_prefetch(user)
    event = AuditEvent.objects.filter(_event_scope(grants_for(user)), pk=pk).first()
    if event is None:
        raise Http404("对象不存在或不在您的管辖范围内")
    if not _event_in(event, grants_for(user, "read_audit")):
        raise PermissionDenied("只有审计管理员可以查看审计日志")
    return event


def _paths_q(*lookups: str) -> Callable[[str], Q]:
    def q(path: str) -> Q:
        result = Q(pk__in=[])
        for lookup in lookups:
            result |= Q(**{f"{lookup}__startswith": path})
        return result
    return q


def _grant_scope(path: str) -> Q:
    # A grant is scoped by its unit; a grant without a unit (guardian) by its account's home region.
    return (Q(region__path__startswith=path) | Q(school__path__startswith=path)
            | Q(school_class__school__path__startswith=path)
            | Q(region__isnull=True, school__isnull=True, school_class__isnull=True,
                user__home_region__path__startswith=path))


@dataclass(frozen=True)
class HistorySource:
    """One audited model in the change history: how its rows are scoped, labelled and shown."""

    key: str
    label: str
    model: type
    scope: Callable[[str], Q]
    describe: Callable[[object], str]
    select: tuple[str, ...] = ()
    masked: frozenset[str] = field(default_factory=frozenset)

    @property
    def history_model(self):
        return self.model.history.model


SOURCES = [
    HistorySource("student", "学籍", Student, _paths_q("school_path"), lambda h: h.name,
                  masked=frozenset({"id_number"})),
    HistorySource("school", "学校", School, _paths_q("path"), lambda h: f"{h.name}（{h.school_code}）"),
    HistorySource("grade", "年级", Grade, _paths_q("school__path"), lambda h: f"{h.school.name} {h.name}",
                  select=("school",)),
    HistorySource("schoolclass", "班级", SchoolClass, _paths_q("school__path"),
                  lambda h: f"{h.school.name} {h.name}", select=("school",)),
    HistorySource("rolegrant", "角色授权", RoleGrant, _grant_scope,
                  lambda h: f"{h.get_role_display()} · {h.region or h.school or h.school_class or '无单位'}",
                  select=("region", "school", "school_class")),
    HistorySource("user", "用户", User, _paths_q("home_region__path"),
                  lambda h: f"{h.username}（{h.real_name}）" if h.real_name else h.username),
]
SOURCES_BY_KEY = {source.key: source for source in SOURCES}


def history_rows(user, *, model: str = "", username: str = "", region=None, date_q: Q | None = None) -> QuerySet:
    """(model key, history id, history date) of the change-history rows ``user`` may read, newest first.

    ``model`` limits to one key of ``SOURCES_BY_KEY``; ``username`` to changes made by accounts whose
    name contains it; ``region`` (a Region inside the scope) to its subtree; ``date_q`` is a filter
    on ``history_date``. One UNION ALL query over the historical tables; page it, then call
    ``history_entries`` on the page.
    """
    paths = grants_for(user, "read_audit").region_paths
    if region is not None and any(region.path.startswith(p) for p in paths):
        paths = (region.path,)
    parts = []
    for source in [SOURCES_BY_KEY[model]] if model else SOURCES:
        q = Q(pk__in=[])
        for path in paths:
            q |= source.scope(path)
        if username:
            q &= Q(history_user__username__icontains=username)
        parts.append(
            source.history_model.objects.filter(q, date_q or Q())
            .annotate(source=Value(source.key, output_field=CharField()), hid=F("history_id"),
                      hdate=F("history_date"))
            .values_list("source", "hid", "hdate")
            .order_by()
        )
    first, *rest = parts
    return first.union(*rest, all=True).order_by("-hdate", "-hid") if rest else first.order_by("-hdate", "-hid")


@dataclass
class HistoryEntry:
    """One change for display: what, when, by whom, why, and the fields it changed (old → new)."""

    source: HistorySource
    record: object
    kind: str
    changes: list[tuple[str, str, str]]

    @property
    def who(self):
        return self.record.history_user

    @property
    def when(self):
        return self.record.history_date

    @property
    def reason(self) -> str:
        return self.record.history_change_reason or ""

    @property
    def target(self) -> str:
        return self.source.describe(self.record)


KIND_LABELS = {"+": "新建", "~": "修改", "-": "删除"}


def _display(source: HistorySource, name: str, value) -> str:
    model_field = source.model._meta.get_field(name)
    if value in (None, ""):
        return "—"
    if name in source.masked:
        return mask_id_number(str(value))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        return f"#{value}"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _changes(source: HistorySource, record, previous) -> list[tuple[str, str, str]]:
    if record.history_type != "~" or previous is None:
        return []
    delta = record.diff_against(previous)
    return [(str(source.model._meta.get_field(c.field).verbose_name), _display(source, c.field, c.old),
             _display(source, c.field, c.new)) for c in delta.changes]


def history_entries(rows) -> list[HistoryEntry]:
    """Load the page ``rows`` (from ``history_rows``) with their previous versions and diffs.

    Two queries per kind of object on the page (the rows with who changed them, and the
    previous versions for the diff), whatever the number of rows.
    """
    rows = list(rows)
    ids_by_source = defaultdict(list)
    for key, hid, _ in rows:
        ids_by_source[key].append(hid)
    loaded = {}
    for key, ids in ids_by_source.items():
        source = SOURCES_BY_KEY[key]
        history = source.history_model
        pk = source.model._meta.pk.name
        previous_id = (history.objects.filter(**{pk: OuterRef(pk)}, history_date__lt=OuterRef("history_date"))
                       .order_by("-history_date", "-history_id").values("history_id")[:1])
        records = list(history.objects.filter(history_id__in=ids).select_related("history_user", *source.select)
                       .annotate(previous_id=Subquery(previous_id)))
        wanted = [r.previous_id for r in records if r.history_type == "~" and r.previous_id]
        previous = history.objects.in_bulk(wanted) if wanted else {}
        for record in records:
            loaded[(key, record.history_id)] = HistoryEntry(
                source, record, KIND_LABELS.get(record.history_type, record.history_type),
                _changes(source, record, previous.get(record.previous_id)))
    return [loaded[(key, hid)] for key, hid, _ in rows if (key, hid) in loaded]
