"""Password rules and the forced password change of accounts an administrator created."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.services import user_create
from audits.models import AuditEvent
from tests.cast import PASSWORD

CHANGE = reverse("accounts:password_change")


def _messages(password: str) -> list[str]:
    try:
        validate_password(password)
    except ValidationError as exc:
        return exc.messages
    return []


class TestValidators:
    def test_a_short_password_is_refused_in_chinese(self):
        assert _messages("ab12cd") == ["密码太短，至少需要 8 个字符。"]

    def test_letters_only_is_refused(self):
        assert "密码必须同时包含字母和数字。" in _messages("onlyletterswithoutdigits")

    def test_digits_only_is_refused(self):
        assert "密码必须同时包含字母和数字。" in _messages("20260915104711")

    def test_a_common_password_is_refused(self):
        assert any("常见" in m for m in _messages("password1"))

    def test_eight_letters_and_digits_pass(self):
        assert _messages("xj7Kq2mw") == []


@pytest.fixture
def new_user(cast):
    """An account the security admin created: it must change its initial password."""
    return user_create(actor=cast.security_admin, username="new_registrar", real_name="新学籍员",
                       password="Initial2026x", home_region=cast.regions["340102"])


def _change(client, new="Changed2026y", old="Initial2026x"):
    return client.post(CHANGE, {"old_password": old, "new_password1": new, "new_password2": new})


@pytest.mark.django_db
class TestForcedChange:
    def test_an_admin_created_account_must_change_its_password(self, new_user):
        assert new_user.must_change_password is True

    @pytest.mark.parametrize("path", ["/", "/schools/", "/audits/", "/accounts/login/"])
    def test_every_page_redirects_to_the_change_page(self, client_for, new_user, path):
        response = client_for(new_user).get(path)

        assert response.status_code == 302
        assert response.url == CHANGE

    def test_a_post_elsewhere_is_redirected_too(self, client_for, new_user):
        response = client_for(new_user).post("/schools/", {"name": "x"})

        assert (response.status_code, response.url) == (302, CHANGE)

    def test_htmx_requests_get_a_full_page_redirect(self, client_for, new_user):
        response = client_for(new_user).get("/", HTTP_HX_REQUEST="true")

        assert response["HX-Redirect"] == CHANGE

    def test_htmx_requests_from_the_change_page_get_nothing_instead_of_a_redirect_loop(self, client_for, new_user):
        response = client_for(new_user).get("/", HTTP_HX_REQUEST="true",
                                            HTTP_HX_CURRENT_URL=f"http://testserver{CHANGE}")

        assert response.status_code == 204
        assert "HX-Redirect" not in response

    def test_the_change_page_logout_and_health_check_stay_open(self, client_for, new_user):
        client = client_for(new_user)

        page = client.get(CHANGE)
        assert page.status_code == 200
        assert "首次登录须先修改" in page.content.decode()
        assert client.get("/healthz").status_code == 200
        assert client.post(reverse("accounts:logout")).status_code == 302

    def test_logging_in_through_the_form_lands_on_the_change_page(self, client, new_user):
        response = client.post(reverse("accounts:login"), {"username": "new_registrar", "password": "Initial2026x"},
                               follow=True)

        assert response.redirect_chain[-1] == (CHANGE, 302)

    def test_a_weak_new_password_keeps_the_flag_and_shows_chinese_errors(self, client_for, new_user):
        response = _change(client_for(new_user), new="abcdefgh")

        assert response.status_code == 200
        assert "密码必须同时包含字母和数字。" in response.content.decode()
        new_user.refresh_from_db()
        assert new_user.must_change_password is True

    def test_a_wrong_old_password_is_refused(self, client_for, new_user):
        response = _change(client_for(new_user), old="not-the-old-1")

        assert response.status_code == 200
        new_user.refresh_from_db()
        assert new_user.must_change_password is True

    def test_changing_clears_the_flag_with_history_naming_the_user(self, client_for, new_user):
        client = client_for(new_user)

        response = _change(client)

        assert (response.status_code, response.url) == (302, reverse("home"))
        new_user.refresh_from_db()
        assert new_user.must_change_password is False
        assert new_user.check_password("Changed2026y")
        last = new_user.history.latest()
        assert last.history_user == new_user
        assert last.history_change_reason == "首次登录修改密码"
        assert last.must_change_password is False
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.PASSWORD_CHANGE)
        assert (event.actor, event.unit_path) == (new_user, new_user.home_region.scope_path)
        # The session survives the change and the pages open again.
        assert client.get(reverse("home")).status_code == 200

    def test_an_account_without_the_flag_is_not_redirected(self, client_for, cast):
        assert client_for(cast.registrar_a).get("/").status_code == 200

    def test_an_ordinary_change_is_recorded_as_such(self, client_for, cast):
        client = client_for(cast.registrar_a)

        response = _change(client, old=PASSWORD)

        assert response.status_code == 302
        assert cast.registrar_a.history.latest().history_change_reason == "修改密码"
