"""Shared helpers for list pages: pagination that keeps the query string, and safe sorting."""

from django.core.paginator import Paginator
from django.db.models import QuerySet

PER_PAGE = 50


def paginate(request, queryset: QuerySet, per_page: int = PER_PAGE) -> dict:
    """Page ``queryset`` by the ``page`` GET parameter (bad values give the nearest valid page).

    Returns a template context: ``page_obj`` and ``querystring_without_page`` ("q=..&sort=..&"),
    to be used with templates/includes/pagination.html.
    """
    page_obj = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    encoded = params.urlencode()
    return {"page_obj": page_obj, "querystring_without_page": f"{encoded}&" if encoded else ""}


def sort_by(request, queryset: QuerySet, allowed: dict[str, str], default: str) -> tuple[QuerySet, str]:
    """Order ``queryset`` by the ``sort`` GET parameter, if it is a key of ``allowed``.

    ``allowed`` maps a public sort key ("name", "-name") to an ORM ordering; unknown keys fall
    back to ``default``. Returns (ordered queryset, the sort key used). A tie-break on pk keeps
    pagination stable.
    """
    key = request.GET.get("sort", default)
    if key not in allowed:
        key = default
    return queryset.order_by(allowed[key], "pk"), key
