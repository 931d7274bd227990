"""Forces a password change at first login for accounts an administrator created."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect


class PasswordChangeRequiredMiddleware:
    """Send users with ``must_change_password`` to the password-change page until they change it.

    Every path except the password pages, logout, static files and the health check is redirected
    (GET and POST alike, so no write happens before the change). htmx requests get an HX-Redirect so
    that the whole page, not a fragment, changes, except those sent from the change page itself, which
    get an empty 204. Must sit after AuthenticationMiddleware and django-htmx's HtmxMiddleware.
    """

    ALLOWED_PREFIXES = ("/accounts/password/", "/accounts/logout/", "/static/", "/healthz")

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


class HtmxLoginRedirectMiddleware:
    """After a session expires, an htmx request is redirected to login as a whole page.

    Without this, htmx swaps the login form into a fragment of the page, and the login's ``next``
    would be the fragment's POST-only address. The full page goes to login with ``next`` set to
    the page the user was on (htmx sends it as HX-Current-URL).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from urllib.parse import urlencode, urlsplit

        from django.conf import settings
        from django.http import HttpResponse
        from django.shortcuts import resolve_url

        response = self.get_response(request)
        login_url = resolve_url(settings.LOGIN_URL)
        if (request.headers.get("HX-Request") and response.status_code == 302
                and response.get("Location", "").startswith(login_url)):
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            page = current.path + (f"?{current.query}" if current.query else "") if current.path else "/"
            redirected = HttpResponse(status=200)
            redirected["HX-Redirect"] = f"{login_url}?{urlencode({'next': page})}"
            return redirected
        return response
