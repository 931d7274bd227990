"""The parents' portal: redeem an invitation, see only one's own children, sign, download; never another child."""

import datetime

import pytest
from django.urls import reverse

from agreements import services
from agreements.models import AgreementStatus, GuardianLink
from tests.agreements.test_services import guardian_for
from tests.agreements.test_views import pdf_text

D = datetime.date
pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"agreements:{name}", args=args)


def valid_id(county: str, birth: datetime.date, seq: str = "001") -> str:
    from stdnum.cn import ric

    body = f"{county}{birth:%Y%m%d}{seq}"
    return body + ric.calc_check_digit(body)


@pytest.fixture
def family(cast, make_child):
    """Two families at school_a: 张小明 (guardian 许家长, a form) and 李小红 (guardian 李妈妈, a form)."""
    mine = make_child(name="张小明", birth=D(2020, 9, 15))
    other = make_child(name="李小红", birth=D(2020, 10, 2), guardian="李妈妈")
    return {
        "mine": mine, "other": other,
        "my_form": services.liability_form_issue(actor=cast.registrar_a, student=mine),
        "other_form": services.liability_form_issue(actor=cast.registrar_a, student=other),
        "parent": guardian_for(cast, mine),
        "other_parent": guardian_for(cast, other, name="李妈妈", username="parent2"),
    }


class TestRedeem:
    def test_redeem_needs_no_login_and_logs_the_guardian_in(self, cast, client, make_child):
        child = make_child()
        _, code = services.invitation_create(actor=cast.registrar_a, student=child, guardian_name="许家长")
        assert client.get(url("redeem")).status_code == 200
        response = client.post(url("redeem"), {"code": code, "username": "xu_parent", "password": "Family2026ok",
                                               "password2": "Family2026ok"})
        assert response.status_code == 302 and response["Location"] == url("portal")
        body = client.get(url("portal")).content.decode()
        assert "张小明" in body and "待注册" in body
        assert GuardianLink.objects.get().user.username == "xu_parent"

    def test_bad_code_and_mismatched_passwords_are_field_errors_keeping_input(self, cast, client):
        response = client.post(url("redeem"), {"code": "AAAA-BBBB-CCCC", "username": "xu_parent",
                                               "password": "Family2026ok", "password2": "Family2026ok"})
        body = response.content.decode()
        assert "邀请码无效" in body and 'value="xu_parent"' in body
        response = client.post(url("redeem"), {"code": "x", "username": "xu_parent", "password": "Family2026ok",
                                               "password2": "other2026ok"})
        assert "两次输入的密码不一致" in response.content.decode()

    def test_logged_in_guardian_adds_a_second_child(self, cast, client_for, family, make_child):
        second = make_child(name="张小亮", birth=D(2020, 9, 20))
        _, code = services.invitation_create(actor=cast.registrar_a, student=second, guardian_name="许家长")
        client = client_for(family["parent"])
        assert client.post(url("redeem"), {"code": code}).status_code == 302
        assert set(GuardianLink.objects.filter(user=family["parent"]).values_list("student__name", flat=True)) == {
            "张小明", "张小亮"}


class TestIsolation:
    def test_portal_lists_only_own_children(self, cast, client_for, family):
        body = client_for(family["parent"]).get(url("portal")).content.decode()
        assert "张小明" in body and "李小红" not in body

    @pytest.mark.parametrize("name", ["portal_child", "portal_print", "portal_pdf"])
    def test_changing_the_url_to_another_child_is_404(self, client_for, family, name):
        client = client_for(family["parent"])
        assert client.get(url(name, family["mine"].pk)).status_code == 200
        assert client.get(url(name, family["other"].pk)).status_code == 404
        assert client.get(url(name, 999999)).status_code == 404

    def test_signing_another_childs_form_is_404(self, client_for, family):
        response = client_for(family["parent"]).post(url("portal_child", family["other"].pk),
                                                     {"typed_name": "李妈妈", "confirmed": "on"})
        assert response.status_code == 404
        assert family["other_form"].signatures.count() == 0

    @pytest.mark.parametrize("name", ["detail", "print", "pdf", "scan"])
    def test_staff_pages_are_404_for_a_guardian(self, client_for, family, name):
        assert client_for(family["parent"]).get(url(name, family["my_form"].pk)).status_code == 404

    def test_staff_lists_show_a_guardian_nothing(self, client_for, family):
        client = client_for(family["parent"])
        assert "李小红" not in client.get(url("liability"), {"year": 2026}).content.decode()
        assert "张小明" not in client.get(url("index")).content.decode()


class TestGuardianSigning:
    def test_sign_then_school_confirms(self, cast, client_for, family):
        client = client_for(family["parent"])
        wrong = client.post(url("portal_child", family["mine"].pk), {"typed_name": "许", "confirmed": "on"})
        assert wrong.status_code == 400 and "姓名与学籍中登记的监护人不一致" in wrong.content.decode()
        assert 'value="许"' in wrong.content.decode()
        ok = client.post(url("portal_child", family["mine"].pk), {"typed_name": "许家长", "confirmed": "on"},
                         REMOTE_ADDR="198.51.100.4")
        assert ok.status_code == 302
        sig = family["my_form"].signatures.get()
        assert (sig.signer, sig.signer_name, sig.ip_address) == (family["parent"], "许家长", "198.51.100.4")
        staff = client_for(cast.approver_a)
        assert staff.post(url("sign", family["my_form"].pk), {"confirmed": "on"}).status_code == 302
        family["my_form"].refresh_from_db()
        assert family["my_form"].status == AgreementStatus.SIGNED
        assert "已签订" in client_for(family["parent"]).get(url("portal")).content.decode()

    def test_screen_masks_the_id_but_the_guardians_pdf_has_it_in_full(self, cast, client_for, make_child):
        child = make_child(name="王小宝", birth=D(2020, 9, 9), guardian="王爸爸")
        from xueji.history import save_with_history

        child.id_number = valid_id("340102", D(2020, 9, 9))
        save_with_history(child, actor=cast.registrar_a, reason="测试证件号", update_fields=["id_number"])
        services.liability_form_issue(actor=cast.registrar_a, student=child)
        parent = guardian_for(cast, child, name="王爸爸", username="wangbaba")
        client = client_for(parent)
        screen = client.get(url("portal_child", child.pk)).content.decode()
        assert child.id_number not in screen and child.masked_id_number in screen
        text, _ = pdf_text(client.get(url("portal_pdf", child.pk)).content)
        assert child.id_number in text and "王小宝" in text
        # A bureau inspector (no reveal right) gets the masked number on the PDF.
        form = child.agreements.get()
        text, _ = pdf_text(client_for(cast.inspector).get(url("pdf", form.pk)).content)
        assert child.id_number not in text and child.masked_id_number in text
