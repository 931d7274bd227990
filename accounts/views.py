"""Login, logout, password change and the lockout page (role-grant pages live in accounts/views_grants.py)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.urls import reverse_lazy

from audits.models import AuditEvent
from audits.services import audit_record

from .client_ip import client_ip
from .forms import LoginForm, XuejiPasswordChangeForm
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
