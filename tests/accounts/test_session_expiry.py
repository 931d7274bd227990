"""What a registrar gets around the idle timeout (review of issue 3, finding 5): typing keeps the
session alive through the keep-alive address, background polls do not, an htmx request from an
expired session gets a notice in place (the page and its input stay), and a form sent after expiry
leads back to its page through login with the message that it was not saved.

Time is moved by patching django.utils.timezone.now, as in test_session.py; nothing sleeps.
"""

from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import UNSAVED_MESSAGE
from accounts.services import user_create
from accounts.templatetags.session_tags import session_timings
from tests.cast import PASSWORD

HOME = reverse("home")
KEEP_ALIVE = reverse("accounts:keep_alive")
LOGIN = reverse("accounts:login")
NEW_STUDENT = reverse("students:create")
ID_CHECK = reverse("students:id_check")
BADGE = reverse("transfers:unread_badge")
NOTICE = "登录已过期：请在新窗口重新登录后再保存，本页已填写的内容不会丢失"
BACKGROUND = {"HTTP_X_XUEJI_BACKGROUND": "1"}
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/students/new/"}


def _at(minutes_later: float, start):
    return mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=minutes_later))


@pytest.mark.django_db
class TestKeepAlive:
    def test_it_answers_204_with_the_csrf_token_and_writes_nothing_else(self, client_for, cast):
        response = client_for(cast.registrar_a).get(KEEP_ALIVE)
        assert response.status_code == 204 and response.content == b""
        assert len(response["X-CSRFToken"]) == 64
        assert "no-cache" in response["Cache-Control"]

    def test_it_extends_the_session(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)
        with _at(20, start):
            assert client.get(KEEP_ALIVE).status_code == 204
        with _at(45, start):  # 45 minutes after login, 25 after the keep-alive
            assert client.get(HOME).status_code == 200

    def test_without_it_the_same_session_ends(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)
        with _at(45, start):
            assert client.get(HOME).status_code == 302

    def test_a_background_check_says_alive_without_extending(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)
        with _at(20, start):
            assert client.get(KEEP_ALIVE, **BACKGROUND).status_code == 204
        with _at(31, start):
            assert client.get(KEEP_ALIVE, **BACKGROUND).status_code == 401

    def test_the_unread_badge_poll_does_not_keep_an_idle_session_alive(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)
        for minute in (2, 10, 20, 28):
            with _at(minute, start):
                assert client.get(BADGE, **BACKGROUND, HTTP_HX_REQUEST="true").status_code == 200
        with _at(31, start):
            assert client.get(HOME).status_code == 302

    def test_an_expired_session_gets_401_not_a_login_page(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)
        with _at(31, start):
            response = client.get(KEEP_ALIVE)
        assert response.status_code == 401 and "Location" not in response

    def test_anonymous_gets_401_and_no_session(self, client):
        response = client.get(KEEP_ALIVE)
        assert response.status_code == 401
        assert not Session.objects.exists()

    def test_only_get(self, client_for, cast):
        assert client_for(cast.registrar_a).post(KEEP_ALIVE).status_code == 405

    def test_a_user_who_must_change_the_password_is_not_redirected(self, client):
        user = user_create(actor=None, username="newcomer", real_name="新用户", password=PASSWORD,
                           must_change_password=True)
        client.force_login(user)
        assert client.get(KEEP_ALIVE).status_code == 204
        assert client.get(HOME).status_code == 302  # everything else still goes to the change page


@pytest.mark.django_db
class TestHtmxAfterExpiry:
    def test_a_live_check_from_an_expired_session_gets_the_notice_in_place(self, client_for, cast):
        start = timezone.now()
        client = client_for(cast.registrar_a)
        with _at(31, start):
            response = client.post(ID_CHECK, {"id_type": "1", "id_number": "34010220"}, **HTMX)
        assert response.status_code == 200
        assert "HX-Redirect" not in response and "HX-Refresh" not in response
        html = response.content.decode()
        assert NOTICE in html and "<form" not in html  # not the login page
        assert response["HX-Retarget"] == "#session-status" and response["HX-Reswap"] == "innerHTML"
        assert response["HX-Reselect"] == "#session-expired"
        assert response["X-Xueji-Session"] == "expired"

    def test_the_notice_opens_the_login_in_a_new_tab(self, client):
        html = client.post(ID_CHECK, {"id_number": "1"}, **HTMX).content.decode()
        restored = reverse("accounts:session_restored")
        assert f'href="{LOGIN}?next={restored.replace("/", "%2F")}"' in html and 'target="_blank"' in html

    def test_a_background_poll_after_expiry_gets_the_notice_too(self, client):
        response = client.get(BADGE, HTTP_HX_REQUEST="true", **BACKGROUND)
        assert response.status_code == 200 and NOTICE in response.content.decode()

    def test_a_live_session_gets_the_fragment_it_asked_for(self, client_for, cast):
        response = client_for(cast.registrar_a).post(ID_CHECK, {"id_type": "1", "id_number": "1"}, **HTMX)
        assert response.status_code == 200 and "X-Xueji-Session" not in response
        assert NOTICE not in response.content.decode()

    def test_after_logging_in_again_the_restored_page_says_to_go_back(self, client_for, cast):
        html = client_for(cast.registrar_a).get(reverse("accounts:session_restored")).content.decode()
        assert "回到原来的页面" in html


@pytest.mark.django_db
class TestFullPostAfterExpiry:
    def _expired_post(self, client, cast, **headers):
        start = timezone.now()
        client.force_login(cast.registrar_a)
        with _at(31, start):
            return client.post(NEW_STUDENT, {"name": "王小明"}, **headers)

    def test_login_leads_back_to_the_form_and_says_it_was_not_saved(self, client, cast):
        response = self._expired_post(client, cast)
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert location.path == LOGIN and parse_qs(location.query)["next"] == [NEW_STUDENT]

        login_page = client.get(response["Location"]).content.decode()
        assert UNSAVED_MESSAGE in login_page
        assert "登录已过期，上次提交未保存，请重新填写并提交" in login_page
        assert f'name="next" value="{NEW_STUDENT}"' in login_page

        after = client.post(response["Location"], {"username": "registrar_a", "password": PASSWORD,
                                                   "next": NEW_STUDENT})
        assert after.status_code == 302 and after["Location"] == NEW_STUDENT

    def test_a_form_posted_elsewhere_leads_back_to_the_page_it_was_on(self, client, cast):
        form_page = f"{reverse('students:list')}?status=active"
        response = self._expired_post(client, cast, HTTP_REFERER=f"http://testserver{form_page}")
        assert parse_qs(urlsplit(response["Location"]).query)["next"] == [form_page]

    def test_a_foreign_referer_is_ignored(self, client, cast):
        response = self._expired_post(client, cast, HTTP_REFERER="https://evil.example/students/new/")
        assert parse_qs(urlsplit(response["Location"]).query)["next"] == [NEW_STUDENT]

    def test_a_get_after_expiry_says_nothing_about_a_submission(self, client):
        response = client.get(NEW_STUDENT, follow=True)
        assert UNSAVED_MESSAGE not in response.content.decode()

    def test_logging_out_says_nothing_about_a_submission(self, client_for, cast):
        response = client_for(cast.registrar_a).post(reverse("accounts:logout"), follow=True)
        assert response.status_code == 200 and UNSAVED_MESSAGE not in response.content.decode()


@pytest.mark.django_db
class TestTheScriptOnPages:
    def test_the_new_student_form_carries_the_session_script_and_box(self, client_for, cast):
        html = client_for(cast.registrar_a).get(NEW_STUDENT).content.decode()
        assert "<form" in html
        assert "/static/xueji/session.js" in html
        assert 'id="session-status"' in html and 'data-idle-seconds="1800"' in html
        assert 'data-warn-seconds="300"' in html and 'data-ping-seconds="300"' in html
        assert f'data-keep-alive-url="{KEEP_ALIVE}"' in html
        assert "会话将在" in html and "延长会话" in html and NOTICE in html  # the script's templates
        assert "{#" not in html and "#}" not in html  # no template comment leaks onto the page

    def test_the_unread_badge_is_polled_as_a_background_request(self, client_for, cast):
        html = client_for(cast.registrar_a).get(HOME).content.decode()
        badge = next(line for line in html.splitlines() if BADGE in line)
        assert "X-Xueji-Background" in badge

    def test_the_login_page_has_no_session_script(self, client):
        assert "session.js" not in client.get(LOGIN).content.decode()


def test_timings_scale_with_the_idle_timeout():
    assert session_timings(30 * 60) == {"idle_seconds": 1800, "warn_seconds": 300, "ping_seconds": 300}
    assert session_timings(60) == {"idle_seconds": 60, "warn_seconds": 12, "ping_seconds": 10}
