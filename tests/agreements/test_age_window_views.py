"""The province's first-grade age window pages: who sees which window, who may change it (the trio,
and that a city or county user cannot), the preview-then-confirm flow with field errors that keep
the input, and what the change leaves behind (history, audit event)."""

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.services import role_grant, user_create
from agreements.models import EnrolmentAgeRule
from audits.models import AuditEvent

pytestmark = pytest.mark.django_db
LIST = reverse("agreements:age_windows")
ANHUI = reverse("agreements:age_window_edit", args=["340000"])
NARROW = {"start_month": "9", "start_day": "1", "end_month": "9", "end_day": "30"}


def confirmed(data: dict) -> dict:
    return {**data, "confirm": "-".join(data[k] for k in ("start_month", "start_day", "end_month", "end_day"))}


@pytest.fixture
def city_system_admin(cast):
    """The system administrator of 合肥市: manages units below the province, not the province."""
    user = user_create(actor=None, username="city_sysadmin", real_name="合肥系统", password="xueji2026demo",
                       home_region=cast.regions["340100"], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.SYSTEM_ADMIN, unit=cast.regions["340100"])
    return user


class TestList:
    def test_the_provinces_system_admin_sees_its_window_with_the_change_link(self, cast, client_for):
        response = client_for(cast.system_admin).get(LIST)
        assert response.status_code == 200
        assert [(r["province"].code, r["may_change"]) for r in response.context["rows"]] == [("340000", True)]
        assert f'href="{ANHUI}"' in response.content.decode()

    def test_others_read_the_window_of_their_province_without_the_link(self, cast, client_for):
        for user in (cast.province_approver, cast.county_registrar, cast.registrar_a, cast.head_teacher_a):
            response = client_for(user).get(LIST)
            assert [(r["province"].code, r["may_change"]) for r in response.context["rows"]] == [("340000", False)]
            body = response.content.decode()
            assert "9月1日—10月31日" in body and f'href="{ANHUI}"' not in body
        rows = client_for(cast.other_province_registrar).get(LIST).context["rows"]
        assert [r["province"].code for r in rows] == ["420000"]
        assert client_for(cast.nobody).get(LIST).context["rows"] == []

    def test_the_list_is_linked_from_the_agreements_tabs_and_the_templates(self, cast, client_for):
        assert f'href="{LIST}"' in client_for(cast.province_approver).get(reverse("agreements:index")).content.decode()
        assert f'href="{LIST}"' in client_for(cast.system_admin).get(
            reverse("agreements:template_list")).content.decode()

    def test_query_count(self, cast, client_for, django_assert_num_queries):
        client = client_for(cast.registrar_a)
        client.get(LIST)
        # 1 session 2 user 3 grants (any) 4 provinces of the user's schools 5 provinces 6 their rules
        # 7 grants (manage_units) 8 held codenames (nav) 9-11 session save
        with django_assert_num_queries(11):
            assert client.get(LIST).status_code == 200


class TestAccess:
    def test_the_provinces_system_admin_opens_the_form(self, cast, client_for):
        response = client_for(cast.system_admin).get(ANHUI)
        assert response.status_code == 200
        assert response.context["form"]["end_day"].value() == 31  # the default window, pre-filled

    def test_in_scope_without_the_right_is_403(self, cast, client_for):
        client = client_for(cast.province_approver)
        assert client.get(ANHUI).status_code == 403
        assert client.post(ANHUI, confirmed(NARROW)).status_code == 403
        assert not EnrolmentAgeRule.objects.exists()

    def test_a_province_outside_the_scope_is_404(self, cast, client_for):
        client = client_for(cast.other_security_admin)  # 湖北省
        assert client.get(ANHUI).status_code == 404
        assert client.post(ANHUI, confirmed(NARROW)).status_code == 404
        assert not EnrolmentAgeRule.objects.exists()

    def test_city_and_county_users_cannot_change_it(self, cast, client_for, city_system_admin):
        for user in (city_system_admin, cast.city_approver, cast.county_approver, cast.county_registrar):
            client = client_for(user)
            assert client.get(ANHUI).status_code == 404
            assert client.post(ANHUI, confirmed(NARROW)).status_code == 404
        # Nor a city's own "window": the window is set per province only.
        city = reverse("agreements:age_window_edit", args=["340100"])
        assert client_for(city_system_admin).post(city, confirmed(NARROW)).status_code == 404
        assert not EnrolmentAgeRule.objects.exists()


class TestChange:
    def test_a_valid_window_is_shown_with_its_effect_before_it_is_saved(self, cast, client_for):
        response = client_for(cast.system_admin).post(ANHUI, NARROW)
        assert response.status_code == 200 and not EnrolmentAgeRule.objects.exists()
        preview = response.context["preview"]
        assert "9月1日至" in preview and "9月30日出生的儿童" in preview and "不能注册为一年级新生" in preview
        body = response.content.decode()
        assert "确认修改" in body and 'name="confirm" value="9-1-9-30"' in body

    def test_confirming_saves_it_with_history_and_an_audit_event(self, cast, client_for):
        client = client_for(cast.system_admin)
        response = client.post(ANHUI, confirmed(NARROW), follow=True)
        assert response.redirect_chain[-1][0] == LIST
        rule = EnrolmentAgeRule.objects.get(province_id="340000")
        assert (rule.start_month, rule.start_day, rule.end_month, rule.end_day, rule.updated_by) == (
            9, 1, 9, 30, cast.system_admin)
        assert rule.history.get().history_user == cast.system_admin
        event = AuditEvent.objects.get(target_id="340000", target_type="agreements.enrolmentagerule")
        assert event.actor == cast.system_admin and "9月1日—10月31日 → 9月1日—9月30日" in event.message
        assert "入学年龄窗口已修改" in response.content.decode()

    def test_changing_the_values_after_the_preview_shows_the_new_effect_instead_of_saving(self, cast, client_for):
        data = {**confirmed(NARROW), "end_day": "15"}
        response = client_for(cast.system_admin).post(ANHUI, data)
        assert response.status_code == 200 and "9月15日出生的儿童" in response.context["preview"]
        assert not EnrolmentAgeRule.objects.exists()

    @pytest.mark.parametrize("data, field, message", [
        ({**NARROW, "start_month": "2", "start_day": "30"}, "start_day", "2月没有30日"),
        ({**NARROW, "end_month": "4", "end_day": "31"}, "end_day", "4月没有31日"),
        ({**NARROW, "start_month": "10", "end_month": "9"}, "end_month", "早于起始日期"),
        ({**NARROW, "start_day": "x"}, "start_day", "起始日应为数字"),
        ({**NARROW, "end_day": ""}, "end_day", "请填写截止日"),
        ({**NARROW, "end_month": "13"}, "end_month", "请选择截止月份"),
    ])
    def test_a_bad_window_is_refused_next_to_its_field_keeping_the_input(self, cast, client_for, data, field,
                                                                         message):
        response = client_for(cast.system_admin).post(ANHUI, confirmed(data) if data[field] else data)
        assert response.status_code == 200 and not EnrolmentAgeRule.objects.exists()
        form = response.context["form"]
        assert any(message in e for e in form.errors[field]), form.errors
        assert not response.context["preview"]
        for name, value in data.items():
            assert str(form[name].value()) == value
        assert message in response.content.decode()

    def test_the_same_window_again_writes_nothing(self, cast, client_for):
        client = client_for(cast.system_admin)
        client.post(ANHUI, confirmed(NARROW))
        response = client.post(ANHUI, NARROW, follow=True)
        assert "没有变化" in response.content.decode()
        assert EnrolmentAgeRule.history.count() == 1
        assert AuditEvent.objects.filter(target_type="agreements.enrolmentagerule").count() == 1
