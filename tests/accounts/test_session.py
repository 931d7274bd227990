"""Idle session timeout: a session ends SESSION_IDLE_MINUTES after the last request.

Time is moved by patching django.utils.timezone.now, which the database session backend uses both
to stamp a session's expiry and to refuse an expired one; nothing sleeps.
"""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

HOME = reverse("home")


def _at(minutes_later: float, start):
    return mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=minutes_later))


def test_idle_minutes_default_to_thirty_and_every_request_renews_the_session():
    assert django_settings.SESSION_IDLE_MINUTES == 30
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST is True
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


@pytest.mark.django_db
class TestIdleTimeout:
    def test_a_session_idle_for_longer_than_the_limit_ends(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)

        with _at(31, start):
            response = client.get(HOME)

        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

    def test_a_session_idle_for_less_than_the_limit_lives(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)

        with _at(29, start):
            assert client.get(HOME).status_code == 200

    def test_each_request_restarts_the_idle_clock(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)

        with _at(20, start):
            assert client.get(HOME).status_code == 200
        with _at(45, start):  # 25 minutes after the last request
            assert client.get(HOME).status_code == 200
        with _at(76, start):  # 31 minutes after the last request
            assert client.get(HOME).status_code == 302

    def test_the_limit_is_a_setting(self, client_for, cast, settings):
        settings.SESSION_COOKIE_AGE = 10 * 60
        start = timezone.now()
        client = client_for(cast.registrar_a)

        with _at(11, start):
            assert client.get(HOME).status_code == 302
