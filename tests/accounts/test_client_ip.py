"""The client's address behind reverse proxies (XUEJI_TRUSTED_PROXY_COUNT): one answer for the
lockout (django-axes) and the audit log (accounts.client_ip)."""

import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from accounts.client_ip import client_ip
from accounts.models import Role
from audits.models import AuditEvent
from tests.cast import PASSWORD
from xueji.settings import client_ip_settings

LOGIN = reverse("accounts:login")
PROXY = "172.18.0.1"  # the reverse proxy (or Docker's gateway) as the web process sees it


@pytest.fixture
def proxies(settings):
    """``proxies(n)``: behave as if XUEJI_TRUSTED_PROXY_COUNT were n."""

    def configure(count: int):
        for name, value in client_ip_settings(count).items():
            setattr(settings, name, value)

    return configure


def login(client, username, password, *, forwarded=None, remote=PROXY):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=remote, **headers)


def fail(client, username, times, **kwargs):
    return [login(client, username, "wrong-password-1", **kwargs) for _ in range(times)][-1]


class TestClientIp:
    def request(self, forwarded=None):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
        return RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers)

    def test_without_proxies_the_socket_address_counts_and_the_header_is_ignored(self, proxies):
        proxies(0)
        assert client_ip(self.request("203.0.113.9")) == PROXY

    def test_with_one_proxy_the_address_it_appended_counts(self, proxies):
        proxies(1)
        assert client_ip(self.request("203.0.113.9")) == "203.0.113.9"
        # What the client wrote itself stands to the left of what the proxy appended.
        assert client_ip(self.request("6.6.6.6, 203.0.113.9")) == "203.0.113.9"
        assert client_ip(self.request("not-an-address, 10.20.30.40")) == "10.20.30.40"

    def test_with_two_proxies_the_outer_proxys_entry_counts(self, proxies):
        proxies(2)
        assert client_ip(self.request("6.6.6.6, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"

    def test_a_request_that_bypassed_the_proxy_has_no_address(self, proxies):
        proxies(1)
        assert client_ip(self.request()) is None

    def test_no_request_no_address(self):
        assert client_ip(None) is None

    def test_a_negative_count_is_a_configuration_error(self):
        with pytest.raises(ImproperlyConfigured):
            client_ip_settings(-1)


@pytest.mark.django_db
class TestWithoutProxy:
    """XUEJI_TRUSTED_PROXY_COUNT=0 (the default): a forged X-Forwarded-For changes nothing."""

    def test_a_forged_header_is_not_recorded(self, cast, client, proxies):
        proxies(0)
        login(client, "registrar_a", "wrong-password-1", forwarded="203.0.113.9", remote="10.0.0.7")

        assert AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_FAILURE).ip_address == "10.0.0.7"

    def test_forging_a_new_address_each_time_does_not_escape_the_lockout(self, cast, client, proxies):
        proxies(0)
        for n in range(4):
            login(client, "registrar_a", "wrong-password-1", forwarded=f"203.0.113.{n}", remote="10.0.0.7")

        response = login(client, "registrar_a", "wrong-password-1", forwarded="203.0.113.99", remote="10.0.0.7")

        assert response.status_code == 429
        assert AccessAttempt.objects.get().ip_address == "10.0.0.7"
        assert AuditEvent.objects.get(kind=AuditEvent.Kind.LOCKOUT).ip_address == "10.0.0.7"


@pytest.mark.django_db
class TestBehindOneProxy:
    """XUEJI_TRUSTED_PROXY_COUNT=1: every request comes from the proxy; the client is what it appended."""

    def test_one_client_is_locked_and_another_behind_the_same_proxy_is_not(self, cast, client, proxies):
        proxies(1)
        assert fail(client, "registrar_a", 5, forwarded="203.0.113.9").status_code == 429

        assert login(client, "registrar_a", PASSWORD, forwarded="198.51.100.2").status_code == 302
        assert AccessAttempt.objects.get().ip_address == "203.0.113.9"

    def test_a_forged_prefix_does_not_escape_the_lockout(self, cast, client, proxies):
        proxies(1)
        for n in range(5):
            response = login(client, "registrar_a", "wrong-password-1", forwarded=f"6.6.6.{n}, 203.0.113.9")

        assert response.status_code == 429

    def test_the_audit_events_record_the_forwarded_client(self, cast, client, proxies):
        proxies(1)
        fail(client, "registrar_a", 5, forwarded="203.0.113.9")
        login(client, "approver_a", PASSWORD, forwarded="6.6.6.6, 198.51.100.2")

        addresses = dict(AuditEvent.objects.filter(kind__in=["login_failure", "lockout", "login_success"])
                         .values_list("kind", "ip_address").distinct())
        assert addresses == {"login_failure": "203.0.113.9", "lockout": "203.0.113.9",
                             "login_success": "198.51.100.2"}

    def test_a_role_grant_records_the_forwarded_client(self, cast, client_for, proxies):
        proxies(1)
        response = client_for(cast.security_admin).post(
            reverse("accounts:grant_create"), {"username": "registrar_a2", "role": Role.INSPECTOR, "region": "340104"},
            REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.20")

        assert response.status_code == 302

        assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ROLE_GRANT).latest("id").ip_address == "203.0.113.20"


def _settings_in_subprocess(tmp_path, **env):
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'xueji.settings'; django.setup(); "
            "from django.conf import settings as s; "
            "print(repr((s.AXES_IPWARE_META_PRECEDENCE_ORDER, s.AXES_IPWARE_PROXY_COUNT, s.IPWARE_STRICT)))")
    environ = {k: v for k, v in os.environ.items() if k != "XUEJI_TRUSTED_PROXY_COUNT"}
    environ.update(XUEJI_VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", code], env=environ, cwd=django_settings.BASE_DIR, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_the_proxy_count_comes_from_the_environment(tmp_path):
    assert _settings_in_subprocess(tmp_path) == "(('REMOTE_ADDR',), None, True)"
    assert _settings_in_subprocess(tmp_path, XUEJI_TRUSTED_PROXY_COUNT="1") == "(('HTTP_X_FORWARDED_FOR',), 0, False)"
    assert _settings_in_subprocess(tmp_path, XUEJI_TRUSTED_PROXY_COUNT="2") == "(('HTTP_X_FORWARDED_FOR',), 1, False)"
