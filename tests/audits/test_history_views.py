"""The change-history page: simple-history rows of the audited models, scoped, with old → new diffs."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.services import role_grant, role_revoke
from audits.selectors import SOURCES_BY_KEY, _display
from schools.services import class_update, school_update
from tests.audits.test_event_views import other_province_audit_admin

URL = reverse("audits:history_list")


def targets(response) -> list[str]:
    return [f"{e.source.key}:{e.target}" for e in response.context["entries"]]


@pytest.mark.django_db
class TestHistoryList:
    def test_school_change_shows_who_when_fields_old_and_new_and_reason(self, cast, client_for):
        school_update(actor=cast.system_admin, school=cast.school_a, name="瑶海区第一实验小学", ownership="private")
        response = client_for(cast.audit_admin).get(URL, {"model": "school"})
        assert response.status_code == 200
        entry = response.context["entries"][0]
        assert entry.who == cast.system_admin and entry.kind == "修改" and entry.reason == "修改学校信息"
        assert entry.changes == [("学校名称", "瑶海区第一小学", "瑶海区第一实验小学"), ("举办者", "公办", "民办")]
        body = response.content.decode()
        assert "瑶海区第一小学 → 瑶海区第一实验小学" in body and "蒋系统" in body

    def test_class_head_teacher_change_and_grant_revocation(self, cast, client_for):
        class_update(actor=cast.system_admin, school_class=cast.class_a, head_teacher=cast.head_teacher_a)
        grant = role_grant(actor=cast.security_admin, user=cast.registrar_a2, role=Role.INSPECTOR,
                           unit=cast.regions["340104"])
        role_revoke(actor=cast.security_admin, grant=grant, reason="任期结束")
        client = client_for(cast.audit_admin)
        revoked, granted = client.get(URL, {"model": "rolegrant"}).context["entries"][:2]
        changed = client.get(URL, {"model": "schoolclass"}).context["entries"][0]
        assert (revoked.source.key, revoked.kind, revoked.reason) == ("rolegrant", "删除", "任期结束")
        assert revoked.target == "督查/抽查人员 · 蜀山区" and revoked.who == cast.security_admin
        assert (granted.kind, granted.reason) == ("新建", "授予角色")
        assert changed.source.key == "schoolclass" and changed.target == "瑶海区第一小学 一年级(1)班"
        assert changed.changes == [("班主任", "—", f"#{cast.head_teacher_a.pk}")]

    def test_hubei_audit_admin_sees_none_of_anhui(self, cast, client_for):
        school_update(actor=cast.system_admin, school=cast.school_a, name="瑶海区第一实验小学")
        response = client_for(other_province_audit_admin(cast)).get(URL)
        seen = " ".join(targets(response))
        assert "彭场镇第二小学" in seen and "other_province_registrar" in seen
        assert "瑶海" not in seen and "registrar_a" not in seen.replace("other_province_registrar", "")

    def test_anhui_audit_admin_sees_none_of_hubei(self, cast, client_for, monkeypatch):
        monkeypatch.setattr("audits.views.PER_PAGE", 1000)
        seen = " ".join(targets(client_for(cast.audit_admin).get(URL)))
        assert "瑶海区第一小学" in seen and "彭场" not in seen and "other_province" not in seen

    def test_every_kind_of_object_is_scoped(self, cast, client_for, monkeypatch):
        monkeypatch.setattr("audits.views.PER_PAGE", 1000)
        keys = {e.source.key for e in client_for(cast.audit_admin).get(URL).context["entries"]}
        assert {"school", "grade", "schoolclass", "rolegrant", "user"} <= keys

    def test_filter_by_model_user_region_and_date(self, cast, client_for):
        client = client_for(cast.audit_admin)
        school_update(actor=cast.system_admin, school=cast.school_b, name="蜀山区实验小学（新）")
        response = client.get(URL, {"user": "system_ad"})
        assert targets(response) == ["school:蜀山区实验小学（新）（3401040001）"]
        response = client.get(URL, {"model": "user", "region": "340104"})
        assert {e.source.key for e in response.context["entries"]} == {"user"}
        assert all("钱学籍" in e.target or "孙校长" in e.target or "冯科长" in e.target
                   for e in response.context["entries"])
        yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
        assert client.get(URL, {"date_to": yesterday}).context["entries"] == []

    def test_bad_filters_are_field_errors_not_500(self, cast, client_for):
        response = client_for(cast.audit_admin).get(URL, {"model": "password", "date_from": "x", "region": "429004"})
        assert response.status_code == 200
        assert {"model", "date_from", "region"} <= set(response.context["form"].errors)

    def test_only_audit_admins(self, cast, client_for):
        for user in (cast.security_admin, cast.system_admin, cast.registrar_a):
            assert client_for(user).get(URL).status_code == 403

    def test_read_only(self, cast, client_for):
        client = client_for(cast.audit_admin)
        assert client.post(URL).status_code == 405
        assert client.delete(URL).status_code == 405

    def test_query_count_is_bounded_by_the_kinds_of_object(self, cast, client_for, django_assert_num_queries):
        school_update(actor=cast.system_admin, school=cast.school_a, name="瑶海区第一实验小学")
        class_update(actor=cast.system_admin, school_class=cast.class_a, name="一年级火箭班")
        client = client_for(cast.audit_admin)  # logging in writes no user history row
        # 1 session, 2 user, 3 held codenames, 4 regions in scope (filter select), 5 grants (read_audit),
        # 6 count (UNION of the six history tables), 7 the page of (kind, id, date); then for each kind
        # on the page the rows with who changed them (8 users, 9 grants, 10 classes, 11 grades, 12 schools)
        # and, for kinds with a "~" row, their previous versions (13 classes, 14 schools);
        # 15-17 savepoint, session save, release
        with django_assert_num_queries(17):
            response = client.get(URL, {"page": "1"})
        entries = response.context["entries"]
        assert len(entries) == 50
        assert {e.source.key for e in entries} == {"user", "rolegrant", "schoolclass", "grade", "school"}


def test_id_numbers_are_masked_in_student_diffs():
    student = SOURCES_BY_KEY["student"]
    assert _display(student, "id_number", "340102201001011234") == "340102********1234"
    assert _display(student, "gender", "2") == "女"
