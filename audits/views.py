"""Read-only pages of the audit administrator: the audit log and the change history.

Only holders of ``read_audit`` (the audit administrator) open them (403 for anyone else); rows
are limited to the administrator's region (events without a region: to administrators granted on
a province; see audits.selectors). Every view accepts GET only: nothing here edits or
deletes a row (DESIGN.md §7).
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xueji.access import held_codenames
from xueji.lists import paginate, sort_by

from . import selectors
from .filters import AuditEventFilter, HistoryFilterForm

PER_PAGE = 50
EVENT_SORTS = {"-created_at": "-created_at", "created_at": "created_at"}
SORT_CHOICES = [("-created_at", "最新在前"), ("created_at", "最早在前")]


def _require_read_audit(user) -> None:
    if "read_audit" not in held_codenames(user):
        raise PermissionDenied("只有审计管理员可以查看审计日志")


@login_required
@require_GET
def event_list(request):
    """Audit events in scope: filter by account, region, unit name, kind and days; newest first."""
    _require_read_audit(request.user)
    events = AuditEventFilter(request.GET, queryset=selectors.event_list(request.user), request=request)
    ordered, sort = sort_by(request, events.qs, EVENT_SORTS, "-created_at")
    context = {"filter": events, "sort": sort, "sort_choices": SORT_CHOICES, **paginate(request, ordered, PER_PAGE)}
    return render(request, "audits/event_list.html", context)


@login_required
@require_GET
def event_detail(request, pk: int):
    """One audit event with its extra data: 404 outside the region, 403 without ``read_audit``."""
    event = selectors.event_for_user(request.user, pk)
    return render(request, "audits/event_detail.html", {"event": event})


@login_required
@require_GET
def history_list(request):
    """Changes to students, schools, grades, classes, grants and accounts in scope, with old → new values."""
    _require_read_audit(request.user)
    form = HistoryFilterForm(request.GET or None, actor=request.user)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = selectors.history_rows(request.user, model=filters.get("model", ""), username=filters.get("user", ""),
                                  region=filters.get("region"), date_q=form.date_q() if filters else None)
    page = paginate(request, rows, PER_PAGE)
    entries = selectors.history_entries(page["page_obj"].object_list)
    return render(request, "audits/history_list.html", {"form": form, "entries": entries, **page})
