"""The audit log pages: scoped to the audit administrator's region, filters, read-only."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import role_grant, user_create
from audits.models import AuditEvent
from audits.services import audit_record
from tests.cast import PASSWORD

LIST_URL = reverse("audits:event_list")


def other_province_audit_admin(cast) -> User:
    """湖北's audit administrator (not in the fixed cast: only the audit tests need one)."""
    user = user_create(actor=None, username="other_audit_admin", real_name="何审计", password=PASSWORD,
                       home_region=cast.regions["420000"], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.AUDIT_ADMIN, unit=cast.regions["420000"])
    return user


def city_audit_admin(cast) -> User:
    """合肥市's audit administrator: below the top of the tree."""
    user = user_create(actor=None, username="city_audit_admin", real_name="孔审计", password=PASSWORD,
                       home_region=cast.regions["340100"], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.AUDIT_ADMIN, unit=cast.regions["340100"])
    return user


def units_seen(response) -> set[str]:
    """The provinces of the events on the page ("" for events without a region)."""
    return {e.unit_path[:6] for e in response.context["page_obj"]}


@pytest.mark.django_db
class TestEventList:
    def test_audit_admin_sees_the_provinces_events_newest_first(self, cast, client_for):
        response = client_for(cast.audit_admin).get(LIST_URL)
        assert response.status_code == 200
        events = list(response.context["page_obj"])
        # The cast's accounts without a region (nobody, guardian_a) were created by no one: no region.
        assert events and units_seen(response) == {"340000", ""}
        assert [e.created_at for e in events] == sorted((e.created_at for e in events), reverse=True)
        assert "授予角色" in response.content.decode()

    def test_audit_admin_of_hubei_does_not_see_anhui_events(self, cast, client_for):
        response = client_for(other_province_audit_admin(cast)).get(LIST_URL)
        assert response.status_code == 200
        assert units_seen(response) == {"420000", ""}
        assert "瑶海区" not in response.content.decode()

    def test_a_city_audit_admin_sees_only_the_city(self, cast, client_for):
        response = client_for(city_audit_admin(cast)).get(LIST_URL)
        assert response.status_code == 200
        assert {e.unit_path[:14] for e in response.context["page_obj"]} == {"340000/340100/"}

    def test_others_in_scope_get_403(self, cast, client_for):
        for user in (cast.security_admin, cast.system_admin, cast.county_approver, cast.inspector):
            assert client_for(user).get(LIST_URL).status_code == 403

    def test_filter_by_user_unit_and_kind(self, cast, client_for):
        client = client_for(cast.audit_admin)
        role_grant(actor=cast.security_admin, user=cast.registrar_a2, role=Role.INSPECTOR, unit=cast.regions["340104"])
        events = client.get(LIST_URL, {"user": "security", "kind": "role_grant"}).context["page_obj"]
        assert [e.message for e in events] == ["授予 registrar_a2 督查/抽查人员（蜀山区）"]
        events = client.get(LIST_URL, {"unit": "瑶海区第二小学"}).context["page_obj"]
        assert events and {e.unit_name for e in events} == {"瑶海区第二小学"}

    def test_filter_by_region_covers_its_subtree(self, cast, client_for):
        response = client_for(cast.audit_admin).get(LIST_URL, {"region": "340104"})
        assert {e.unit_path[:21] for e in response.context["page_obj"]} == {"340000/340100/340104/"}

    def test_filter_by_days_in_shanghai_time(self, cast, client_for):
        client = client_for(cast.audit_admin)
        today = timezone.localdate()
        yesterday = today - datetime.timedelta(days=1)
        assert len(client.get(LIST_URL, {"date_from": today.isoformat()}).context["page_obj"]) > 0
        assert len(client.get(LIST_URL, {"date_to": yesterday.isoformat()}).context["page_obj"]) == 0
        response = client.get(LIST_URL, {"date_from": today.isoformat(), "date_to": yesterday.isoformat()})
        assert response.context["filter"].form.errors["date_to"] == ["结束日期不能早于开始日期"]

    def test_bad_filter_values_are_errors_not_500(self, cast, client_for):
        response = client_for(cast.audit_admin).get(LIST_URL, {"date_from": "2026-13-45", "kind": "nope",
                                                               "region": "429004", "page": "x"})
        assert response.status_code == 200
        assert {"date_from", "kind", "region"} <= set(response.context["filter"].form.errors)

    def test_events_without_a_region_are_shown_to_province_audit_admins_only(self, cast, client_for):
        audit_record(actor=None, username="ghost", kind=AuditEvent.Kind.LOGIN_FAILURE, message="登录失败")
        for admin in (cast.audit_admin, other_province_audit_admin(cast)):
            response = client_for(admin).get(LIST_URL, {"user": "ghost"})
            assert [e.actor_username for e in response.context["page_obj"]] == ["ghost"]
            assert "全系统" in response.content.decode()
        response = client_for(city_audit_admin(cast)).get(LIST_URL, {"user": "ghost"})
        assert list(response.context["page_obj"]) == []

    def test_filter_by_region_leaves_out_events_without_a_region(self, cast, client_for):
        audit_record(actor=None, username="ghost", kind=AuditEvent.Kind.LOGIN_FAILURE, message="登录失败")
        response = client_for(cast.audit_admin).get(LIST_URL, {"user": "ghost", "region": "340000"})
        assert list(response.context["page_obj"]) == []

    def test_read_only_post_and_delete_are_405(self, cast, client_for):
        client = client_for(cast.audit_admin)
        count = AuditEvent.objects.count()
        assert client.post(LIST_URL, {"message": "x"}).status_code == 405
        assert client.delete(LIST_URL).status_code == 405
        event = AuditEvent.objects.filter(unit_path__startswith="340000/").first()
        detail = reverse("audits:event_detail", args=[event.pk])
        assert client.post(detail).status_code == 405
        assert client.delete(detail).status_code == 405
        assert client.put(detail).status_code == 405
        assert AuditEvent.objects.count() == count

    def test_pagination_keeps_filters(self, cast, client_for, monkeypatch):
        monkeypatch.setattr("audits.views.PER_PAGE", 3)
        response = client_for(cast.audit_admin).get(LIST_URL, {"kind": "role_grant"})
        assert response.context["page_obj"].paginator.num_pages > 1
        assert "kind=role_grant&amp;page=2" in response.content.decode()

    @pytest.mark.parametrize("admin", ["audit_admin", "city_audit_admin"])
    def test_query_count_does_not_grow_with_events(self, cast, client_for, django_assert_num_queries, admin):
        user = city_audit_admin(cast) if admin == "city_audit_admin" else cast.audit_admin
        client = client_for(user)

        def page_with_queries(expected):
            # 1 session, 2 user, 3 held codenames (access check, cached for the navigation),
            # 4 grants (read_audit, scope), 5 regions in scope (filter select), 6 count, 7 events,
            # 8-10 savepoint, session save, release
            with django_assert_num_queries(expected):
                return client.get(LIST_URL)

        before = len(page_with_queries(10).context["page_obj"])
        for n in range(30):
            audit_record(actor=None, username=f"ghost{n}", kind=AuditEvent.Kind.LOGIN_FAILURE, message="登录失败")
            audit_record(actor=cast.registrar_a, kind=AuditEvent.Kind.RECORD_VIEW, message="转学查询：未找到")
        after = page_with_queries(10).context["page_obj"]
        assert len(after) > before and len(after) == 50


@pytest.mark.django_db
class TestEventDetail:
    def event(self, cast):
        return audit_record(actor=cast.security_admin, kind=AuditEvent.Kind.ROLE_GRANT, unit=cast.school_a,
                            message="授予测试", extra={"role": "registrar"}, ip_address="10.0.0.9")

    def test_audit_admin_opens_an_event(self, cast, client_for):
        body = client_for(cast.audit_admin).get(reverse("audits:event_detail", args=[self.event(cast).pk]))
        assert body.status_code == 200
        text = body.content.decode()
        assert "授予测试" in text and "10.0.0.9" in text and "registrar" in text

    def test_security_admin_in_scope_gets_403(self, cast, client_for):
        url = reverse("audits:event_detail", args=[self.event(cast).pk])
        assert client_for(cast.security_admin).get(url).status_code == 403

    def test_hubei_audit_admin_gets_404(self, cast, client_for):
        url = reverse("audits:event_detail", args=[self.event(cast).pk])
        assert client_for(other_province_audit_admin(cast)).get(url).status_code == 404

    def test_a_school_registrar_gets_404(self, cast, client_for):
        url = reverse("audits:event_detail", args=[self.event(cast).pk])
        assert client_for(cast.registrar_a).get(url).status_code == 404


@pytest.mark.django_db
class TestEventWithoutRegionDetail:
    """A failed login of a name that is no account: no region, so it belongs to the top of the tree."""

    def url(self):
        event = audit_record(actor=None, username="ghost", kind=AuditEvent.Kind.LOGIN_FAILURE, message="登录失败",
                             ip_address="203.0.113.8")
        return reverse("audits:event_detail", args=[event.pk])

    def test_province_audit_admins_open_it(self, cast, client_for):
        url = self.url()
        for admin in (cast.audit_admin, other_province_audit_admin(cast)):
            response = client_for(admin).get(url)
            assert response.status_code == 200
            assert "203.0.113.8" in response.content.decode() and "全系统" in response.content.decode()

    def test_other_roles_on_a_province_get_403(self, cast, client_for):
        url = self.url()
        for user in (cast.security_admin, cast.system_admin, cast.province_approver, cast.other_security_admin):
            assert client_for(user).get(url).status_code == 403

    def test_a_city_audit_admin_and_lower_units_get_404(self, cast, client_for):
        url = self.url()
        for user in (city_audit_admin(cast), cast.county_approver, cast.inspector, cast.registrar_a, cast.nobody):
            assert client_for(user).get(url).status_code == 404

    def test_query_count(self, cast, client_for, django_assert_num_queries):
        url = self.url()
        client = client_for(cast.audit_admin)
        # 1 session, 2 user, 3 all grants with codenames (scope and read_audit), 4 the event,
        # 5-7 savepoint, session save, release
        with django_assert_num_queries(7):
            assert client.get(url).status_code == 200
