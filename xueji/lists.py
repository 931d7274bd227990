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


def unit_filter(request, queryset: QuerySet, path_field: str, *, school: bool = True) -> QuerySet:
    """Narrow ``queryset`` to the unit a link names: ``region=<6-digit code>`` or, when ``school``,
    ``school=<school id>`` in the query string (the dashboards' drill-down links).

    ``path_field`` is the lookup of the row's region/school path ("school_path", "unit_path"). A
    named unit that does not exist gives no rows; absent or malformed parameters change nothing.
    The user's scope still applies: this only narrows an already scoped queryset. One query.
    """
    from schools.models import Region, School

    code = request.GET.get("region", "")
    if len(code) == 6 and code.isdigit():
        region = Region.objects.filter(code=code).only("path").first()
        queryset = queryset.filter(**{f"{path_field}__startswith": region.path}) if region else queryset.none()
    school_id = request.GET.get("school", "")
    if school and school_id.isdigit() and len(school_id) < 12:
        found = School.objects.filter(pk=int(school_id)).only("path").first()
        queryset = queryset.filter(**{f"{path_field}__startswith": found.path}) if found else queryset.none()
    return queryset
