"""``{% session_status %}``: the box where the session script (static/xueji/session.js) shows the
expiry warning and the "登录已过期" notice, with the timings it works to."""

from django import template
from django.conf import settings
from django.urls import reverse

from accounts.middleware import relogin_url

register = template.Library()

WARN_SECONDS = 5 * 60  # warn this long before an idle session expires
PING_SECONDS = 5 * 60  # while the user types, renew the session at most this often


def session_timings(idle_seconds: int) -> dict[str, int]:
    """The script's timings for a session that expires ``idle_seconds`` after the last request.

    Returns ``idle_seconds``, ``warn_seconds`` (5 minutes, at most a fifth of the timeout) and
    ``ping_seconds`` (5 minutes, at most a sixth of the timeout, so that a user who keeps typing
    renews the session well before the warning would show). Short timeouts (tests) scale down.
    """
    idle_seconds = max(int(idle_seconds), 6)
    return {"idle_seconds": idle_seconds, "warn_seconds": min(WARN_SECONDS, idle_seconds // 5),
            "ping_seconds": min(PING_SECONDS, idle_seconds // 6)}


@register.inclusion_tag("accounts/_session_status.html")
def session_status():
    """The session box for base.html (logged-in pages only): timings from SESSION_COOKIE_AGE, the
    keep-alive address and the login address for the expired notice."""
    return {**session_timings(settings.SESSION_COOKIE_AGE), "keep_alive_url": reverse("accounts:keep_alive"),
            "login_url": relogin_url()}
