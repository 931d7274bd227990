"""Login through the real form: audit events, django-axes lockout per (username, address), logout."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.urls import reverse

from audits.models import AuditEvent
from tests.cast import PASSWORD

LOGIN = reverse("accounts:login")


def _login(client, username, password, address="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client, username, times, address="127.0.0.1"):
    return [_login(client, username, "wrong-password-1", address) for _ in range(times)][-1]


@pytest.mark.django_db
class TestLogin:
    def test_it_logs_in_and_records_success_under_the_home_region(self, client, cast):
        response = _login(client, "registrar_a", PASSWORD)

        assert response.status_code == 302
        assert response.url == reverse("home")
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_SUCCESS)
        assert event.actor == cast.registrar_a
        assert event.unit_path == cast.regions["340102"].scope_path
        assert event.ip_address == "127.0.0.1"

    def test_a_wrong_password_is_refused_in_chinese_and_recorded(self, client, cast):
        response = _login(client, "registrar_a", "wrong-password-1")

        assert response.status_code == 200
        assert "用户名或密码错误" in response.content.decode()
        assert "_auth_user_id" not in client.session
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_FAILURE)
        assert event.actor is None
        assert event.actor_username == "registrar_a"
        assert event.unit_path == cast.regions["340102"].scope_path

    def test_an_unknown_username_is_recorded_without_unit(self, client, cast):
        _login(client, "no_such_user", "wrong-password-1")

        event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_FAILURE)
        assert (event.actor_username, event.unit_path) == ("no_such_user", "")

    def test_a_logged_in_user_opening_the_login_page_goes_home(self, client_for, cast):
        response = client_for(cast.registrar_a).get(LOGIN)

        assert response.status_code == 302
        assert response.url == reverse("home")


@pytest.mark.django_db
class TestLockout:
    def test_four_failures_do_not_lock(self, client, cast):
        _fail(client, "registrar_a", 4)

        assert _login(client, "registrar_a", PASSWORD).status_code == 302

    def test_the_fifth_failure_locks_the_pair_with_a_chinese_page(self, client, cast):
        response = _fail(client, "registrar_a", 5)

        assert response.status_code == 429
        page = response.content.decode()
        assert "账号已被临时锁定" in page
        assert "30 分钟" in page
        # The right password does not help while locked.
        assert _login(client, "registrar_a", PASSWORD).status_code == 429
        assert "_auth_user_id" not in client.session

    def test_the_lockout_is_an_audit_event(self, client, cast):
        _fail(client, "registrar_a", 5)

        event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKOUT)
        assert event.actor_username == "registrar_a"
        assert event.ip_address == "127.0.0.1"
        assert event.unit_path == cast.regions["340102"].scope_path
        assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILURE).count() == 5

    def test_another_address_is_not_locked(self, client, cast):
        _fail(client, "registrar_a", 5, address="10.0.0.1")

        assert _login(client, "registrar_a", PASSWORD, address="10.0.0.2").status_code == 302

    def test_another_username_at_the_same_address_is_not_locked(self, client, cast):
        _fail(client, "registrar_a", 5)

        assert _login(client, "approver_a", PASSWORD).status_code == 302

    def test_the_lock_ends_after_the_cool_off(self, client, cast):
        _fail(client, "registrar_a", 5)
        # Age the recorded failures instead of waiting: axes compares attempt_time with now - cool-off.
        for attempt in AccessAttempt.objects.all():
            attempt.attempt_time -= timedelta(minutes=31)
            attempt.save(update_fields=["attempt_time"])

        assert _login(client, "registrar_a", PASSWORD).status_code == 302

    def test_attempts_while_locked_do_not_extend_the_lock(self, client, cast):
        _fail(client, "registrar_a", 5)
        first = AccessAttempt.objects.get().attempt_time

        _fail(client, "registrar_a", 2)

        assert AccessAttempt.objects.get().attempt_time == first

    def test_the_limit_is_a_setting(self, client, cast, settings):
        settings.AXES_FAILURE_LIMIT = 3

        assert _fail(client, "registrar_a", 3).status_code == 429


def test_limit_cool_off_and_idle_timeout_come_from_the_environment(tmp_path):
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'xueji.settings'; django.setup(); "
            "from django.conf import settings as s; "
            "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.SESSION_COOKIE_AGE)")
    env = {**os.environ, "AXES_FAILURE_LIMIT": "7", "AXES_COOLOFF_MINUTES": "10", "SESSION_IDLE_MINUTES": "15",
           "XUEJI_VAR_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=django_settings.BASE_DIR, check=True,
                         capture_output=True, text=True).stdout.split()

    assert out == ["7", "600.0", "900"]


def test_the_defaults_are_five_failures_and_thirty_minutes():
    assert django_settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=30) == django_settings.AXES_COOLOFF_TIME
    assert django_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


@pytest.mark.django_db
class TestLogout:
    def test_get_is_refused(self, client_for, cast):
        client = client_for(cast.registrar_a)

        assert client.get(reverse("accounts:logout")).status_code == 405
        assert client.get(reverse("home")).status_code == 200

    def test_post_ends_the_session(self, client_for, cast):
        client = client_for(cast.registrar_a)

        response = client.post(reverse("accounts:logout"))

        assert response.status_code == 302
        assert response.url == reverse("accounts:login")
        assert client.get(reverse("home")).status_code == 302
        assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGOUT, actor=cast.registrar_a).exists()


@pytest.mark.django_db
def test_login_sets_last_login_without_an_empty_history_row(cast, client):
    user = cast.registrar_a
    before = user.history.count()
    assert client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    user.refresh_from_db()
    assert user.last_login is not None
    assert user.history.count() == before
