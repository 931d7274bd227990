"""Login, logout and password change (role-grant pages live in accounts/views_grants.py)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from audits.models import AuditEvent
from audits.services import audit_record
from xueji.history import save_with_history

from .forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Logout by POST only (Django 5 refuses GET)."""


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change own password; clears the forced-change flag set for admin-created accounts."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.must_change_password:
            user.must_change_password = False
            save_with_history(user, actor=user, reason="首次登录修改密码", update_fields=["must_change_password"])
        audit_record(actor=user, kind=AuditEvent.Kind.PASSWORD_CHANGE, message="修改密码",
                     ip_address=self.request.META.get("REMOTE_ADDR"))
        messages.success(self.request, "密码已修改。")
        return response
