"""Request middleware of the accounts app: the forced password change, the idle session that
background polls do not renew, and what a request from an expired session gets."""

from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.shortcuts import redirect, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

BACKGROUND_HEADER = "X-Xueji-Background"
UNSAVED_MESSAGE = "登录已过期，上次提交未保存，请重新填写并提交。"


class PasswordChangeRequiredMiddleware:
    """Send users with ``must_change_password`` to the password-change page until they change it.

    Every path except the password pages, logout, the session keep-alive, static files and the
    health check is redirected (GET and POST alike, so no write happens before the change). htmx
    requests get an HX-Redirect so that the whole page, not a fragment, changes, except those sent
    from the change page itself, which get an empty 204. Must sit after AuthenticationMiddleware and
    django-htmx's HtmxMiddleware.
    """

    # The session keep-alive writes nothing but the session's expiry.
    ALLOWED_PREFIXES = ("/accounts/password/", "/accounts/logout/", "/accounts/session/keep-alive/", "/static/",
                        "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path test comes first: /healthz must answer without touching the session or the database.
        if not request.path.startswith(self.ALLOWED_PREFIXES) and self._must_change(request):
            url = reverse("accounts:password_change")
            htmx = getattr(request, "htmx", None)
            if htmx and htmx.current_url_abs_path and htmx.current_url_abs_path.startswith(url):
                # A fragment the change page itself polls for (e.g. the navigation badge): answer with
                # nothing rather than redirecting the page to itself in a loop.
                return HttpResponse(status=204)
            if htmx:
                return HttpResponseClientRedirect(url)
            return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _must_change(request) -> bool:
        user = getattr(request, "user", None)
        return user is not None and user.is_authenticated and user.must_change_password


def is_background(request) -> bool:
    """Whether ``request`` was sent by the page on its own (a poll such as the unread badge, or the
    session script's check) rather than by the user: it carries ``X-Xueji-Background: 1``."""
    return request.headers.get(BACKGROUND_HEADER) == "1"


class IdleSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, except that background requests do not renew the session.

    The idle timeout (SESSION_COOKIE_AGE, renewed by every request through
    SESSION_SAVE_EVERY_REQUEST) counts the user's inactivity. A page polls on its own (the unread
    badge every two minutes), and if those polls renewed the session it would never expire while
    a tab is open, and the expiry warning could never be right. A background request is answered
    with the session as it is, neither saved nor its cookie re-sent, unless the view changed it.
    """

    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and is_background(request) and not session.modified and not session.is_empty():
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


class ExpiredSessionMiddleware:
    """What a request from an expired session gets instead of losing the page (review of issue 3).

    * htmx request (a live check, a poll): a 200 with the notice "登录已过期：…" swapped into the
      page's session box (``#session-status`` in base.html, through HX-Retarget / HX-Reswap /
      HX-Reselect), never the login page and never HX-Redirect, so that the form and its input stay.
      The notice links to the login page in a new tab; ``X-Xueji-Session: expired`` tells the
      session script (static/xueji/session.js).
    * full POST (the form was sent): the login page, with ``next`` the page the form was on (the
      Referer when it is this site, else the address posted to) and the message that the
      submission was not saved. The POST body is not kept.

    Recognised by the login redirect of ``login_required`` (302 to LOGIN_URL with ``next``) for an
    anonymous user, so logout and permission redirects of logged-in users are left alone. Sits
    after MessageMiddleware and HtmxMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not self._is_login_redirect(request, response):
            return response
        if request.headers.get("HX-Request"):
            return self._notice(request)
        if request.method == "POST":
            messages.warning(request, UNSAVED_MESSAGE, fail_silently=True)
            response["Location"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': self._form_page(request)})}"
        return response

    @staticmethod
    def _is_login_redirect(request, response) -> bool:
        if response.status_code != 302:
            return False
        location = urlsplit(response.get("Location", ""))
        user = getattr(request, "user", None)
        return (location.path == resolve_url(settings.LOGIN_URL) and "next" in parse_qs(location.query)
                and user is not None and not user.is_authenticated)

    @staticmethod
    def _notice(request) -> HttpResponse:
        response = HttpResponse(render_to_string("accounts/_session_expired.html", {"login_url": relogin_url()}))
        response["HX-Retarget"] = "#session-status"
        response["HX-Reswap"] = "innerHTML"
        response["HX-Reselect"] = "#session-expired"  # not the requesting element's hx-select
        response["X-Xueji-Session"] = "expired"
        return response

    @staticmethod
    def _form_page(request) -> str:
        referer = request.headers.get("Referer", "")
        if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                       require_https=request.is_secure()):
            page = urlsplit(referer)
            if page.path != resolve_url(settings.LOGIN_URL):
                return page.path + (f"?{page.query}" if page.query else "")
        return request.get_full_path()


def relogin_url() -> str:
    """The login page for logging in again from a new tab: afterwards it says to go back to the
    page whose input was kept (accounts:session_restored), instead of opening an empty form."""
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': reverse('accounts:session_restored')})}"
