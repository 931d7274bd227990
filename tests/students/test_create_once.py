"""The new-student form sends once (xueji.once): a double click or a resent POST creates one draft
and leads to it; a failed POST keeps its token and input; a missing, forged or stale token is
refused with the input kept, never a 500. PostgreSQL: two simultaneous POSTs, one draft."""

import re
import threading

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from students import services
from students.models import Student
from students.views import CREATE_FORM
from xueji import once
from xueji.once import FIELD

from .test_student_views import form_post

URL = reverse("students:create")


def token_in(response) -> str:
    found = re.search(rf'name="{FIELD}" value="([^"]+)"', response.content.decode())
    assert found, "the form carries no token"
    return found.group(1)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
class TestCreateOnce:
    def test_two_posts_of_one_form_create_one_draft_and_the_second_leads_to_it(self, cast, client_for):
        client = client_for(cast.registrar_a)
        data = form_post(cast)
        first = client.post(URL, data)
        second = client.post(URL, data, follow=True)
        student = Student.objects.get()
        detail = reverse("students:detail", args=[student.pk])
        assert first.status_code == 302 and first["Location"] == detail
        assert second.redirect_chain == [(detail, 302)]
        assert "该表单已提交，请勿重复提交" in second.content.decode()
        assert student.family_members.count() == 2

    def test_the_page_issues_a_new_token_on_each_get(self, cast, client_for):
        client = client_for(cast.registrar_a)
        tokens = {token_in(client.get(URL)) for _ in range(2)}
        assert len(tokens) == 2
        data = {**form_post(cast), FIELD: tokens.pop()}
        assert client.post(URL, data).status_code == 302
        assert Student.objects.count() == 1

    def test_a_failed_post_keeps_its_token_and_input_and_the_corrected_form_saves(self, cast, client_for):
        client = client_for(cast.registrar_a)
        data = form_post(cast, phone="abc")
        response = client.post(URL, data)
        body = response.content.decode()
        assert response.status_code == 200 and "联系电话格式不正确" in body
        assert token_in(response) == data[FIELD] and 'value="赵小虎"' in body and 'value="abc"' in body
        assert not Student.objects.exists()
        assert client.post(URL, {**data, "phone": "13912345678"}).status_code == 302
        assert Student.objects.get().phone == "13912345678"

    def test_a_write_the_service_refuses_releases_the_token(self, cast, client_for, monkeypatch):
        real, calls = services.student_create, []

        def refuse_once(**kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise ValidationError({"school_class": "班级不属于所选年级"})
            return real(**kwargs)

        monkeypatch.setattr(services, "student_create", refuse_once)
        client = client_for(cast.registrar_a)
        data = form_post(cast)
        response = client.post(URL, data)
        assert response.status_code == 200 and "班级不属于所选年级" in response.content.decode()
        assert token_in(response) == data[FIELD] and not Student.objects.exists()
        assert client.post(URL, data).status_code == 302
        assert Student.objects.count() == 1 and len(calls) == 2

    @pytest.mark.parametrize("token", [None, "", "forged", "a" * 10000, "abc:def:ghi", "\x00"])
    def test_a_missing_or_forged_token_is_refused_with_the_input_kept(self, cast, client_for, token):
        data = form_post(cast)
        if token is None:
            del data[FIELD]
        else:
            data[FIELD] = token
        response = client_for(cast.registrar_a).post(URL, data)
        body = response.content.decode()
        assert response.status_code == 200 and "表单已过期或无效" in body and 'value="赵小虎"' in body
        assert not Student.objects.exists()
        assert token_in(response) != token  # a new genuine token: sending again works

    def test_a_token_of_another_registrar_is_refused(self, cast, client_for):
        data = form_post(cast, user=cast.registrar_a2)
        response = client_for(cast.registrar_a).post(URL, data)
        assert response.status_code == 200 and "表单已过期或无效" in response.content.decode()
        assert not Student.objects.exists()

    def test_a_stale_token_is_refused_then_the_new_one_saves(self, cast, client_for, monkeypatch):
        client = client_for(cast.registrar_a)
        data = form_post(cast)
        monkeypatch.setattr(once, "MAX_AGE", -1)
        response = client.post(URL, data)
        assert response.status_code == 200 and not Student.objects.exists()
        monkeypatch.undo()
        assert client.post(URL, {**data, FIELD: token_in(response)}).status_code == 302
        assert Student.objects.count() == 1

    def test_a_repeat_still_being_written_goes_to_the_list_and_writes_nothing(self, cast, client_for, monkeypatch):
        client = client_for(cast.registrar_a)
        data = form_post(cast)
        monkeypatch.setattr(once, "WAIT_SECONDS", 0.05)
        token = once.SubmissionToken(CREATE_FORM, str(cast.registrar_a.pk), data[FIELD], valid=True)
        with token.claim():  # the first POST, still writing
            response = client.post(URL, data)
        assert response.status_code == 302 and response["Location"] == reverse("students:list")
        assert messages_of(response) == ["该表单已提交，正在处理，请勿重复提交"]
        assert not Student.objects.exists()

    def test_the_form_disables_its_button_on_submit(self, cast, client_for):
        body = client_for(cast.registrar_a).get(URL).content.decode()
        assert "data-submit-once" in body and "xueji/submit-once.js" in body


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two real connections (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_of_one_form_create_one_draft(cast):
    data = form_post(cast)
    barrier = threading.Barrier(2)
    responses, errors = [], []
    clients = [Client(), Client()]  # two browser tabs of one registrar; logged in here, not in the threads
    for client in clients:
        client.force_login(cast.registrar_a)

    def post(client):
        try:
            barrier.wait(timeout=10)
            responses.append(client.post(URL, data))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads) and errors == []
    student = Student.objects.get(id_number=data["id_number"])
    detail = reverse("students:detail", args=[student.pk])
    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {detail}
