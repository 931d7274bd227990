"""Login, logout, password change and the lockout page (role-grant pages live in accounts/views_grants.py)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audits.models import AuditEvent
from audits.services import audit_record

from .client_ip import client_ip
from .forms import LoginForm, XuejiPasswordChangeForm
from .middleware import is_background
from .selectors import account_unit


class LoginView(auth_views.LoginView):
    """The login form. Django's form passes ``request`` to ``authenticate``, which django-axes needs;
    axes counts failures per (username, address) and AxesMiddleware answers with ``lockout_response``."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(idle_minutes=settings.SESSION_IDLE_MINUTES, **kwargs)


class LogoutView(auth_views.LogoutView):
    """Logout by POST only (Django 5 answers GET with 405); ends the session, then the login page."""


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change own password; clears the forced-change flag set for admin-created accounts.

    The flag is cleared in the same save as the new password, so one history row names the user
    and the reason. The session stays valid (Django updates the session auth hash).
    """

    template_name = "accounts/password_change.html"
    form_class = XuejiPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        user = form.user
        first_change = user.must_change_password
        user.must_change_password = False
        # PasswordChangeForm.save() calls user.save(); simple-history reads these two attributes.
        user._history_user = user
        user._change_reason = "首次登录修改密码" if first_change else "修改密码"
        response = super().form_valid(form)
        audit_record(actor=user, kind=AuditEvent.Kind.PASSWORD_CHANGE, unit=account_unit(user),
                     message=user._change_reason, ip_address=client_ip(self.request))
        messages.success(self.request, "密码已修改。")
        return response


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the Chinese page shown while a (username, address) pair is locked.

    Returns HTTP 429 with the cool-off in whole minutes (AXES_COOLOFF_MINUTES, default 30).
    The lockout itself is recorded by accounts.signals (axes' ``user_locked_out`` signal).
    """
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": settings.AXES_COOLOFF_MINUTES,
    }
    return render(request, "accounts/locked_out.html", context, status=429)


@never_cache
@require_GET
def keep_alive(request):
    """The session script's ping (static/xueji/session.js): 204 while the session lives, 401 once
    it has expired (never a redirect to login, which a script could not tell from a page).

    Restarts the session's idle clock (saves the session) unless the request is a background check
    (``X-Xueji-Background: 1``, see accounts.middleware.IdleSessionMiddleware), which only asks.
    Writes nothing else. The answer carries the current CSRF token (``X-CSRFToken``): Django rotates
    the token at login, and a page kept open while the user logged in again in another tab must
    send the new one with its form.
    """
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    if not is_background(request):
        request.session.modified = True  # explicit: not left to SESSION_SAVE_EVERY_REQUEST
    response = HttpResponse(status=204)
    response["X-CSRFToken"] = get_token(request)
    return response


@login_required
def session_restored(request):
    """Where the login opened from the "登录已过期" notice leads: says to go back to the page whose
    input was kept (that page's script notices the new session by itself)."""
    return render(request, "accounts/session_restored.html")
