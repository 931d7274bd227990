"""Home page and health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.services import roles_of


@login_required
def home(request):
    """The user's roles and units, and links to what each role does."""
    return render(request, "home.html", {"grants": roles_of(request.user)})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means "not healthy"; the probe must not crash
        return False


def _broker_status() -> str:
    from django.conf import settings

    if not settings.REDIS_URL:
        return "eager"
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except Exception:  # unreachable broker is reported, not raised
        return "unreachable"


@never_cache
@require_GET
def healthz(request):
    """JSON health report: 200 when the database answers, 503 when it does not.

    Body: {"database": "ok"|"unreachable", "broker": "ok"|"unreachable"|"eager", "status": "ok"|"error"}.
    A down broker is reported but does not fail the check: pages still work without it.
    """
    db = _database_ok()
    body = {"database": "ok" if db else "unreachable", "broker": _broker_status(), "status": "ok" if db else "error"}
    return JsonResponse(body, status=200 if db else 503)
