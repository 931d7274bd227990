"""The security administrator's pages: account list with grants, new account, grant, revoke."""

import pytest
from django.urls import reverse

from accounts.models import Role, RoleGrant, User
from accounts.services import role_grant, user_create
from audits.models import AuditEvent
from schools.models import RegionUserObjectPermission, SchoolClassUserObjectPermission, SchoolUserObjectPermission
from tests.cast import PASSWORD
from xueji.history import delete_with_history

GRANT_URL = reverse("accounts:grant_create")
LIST_URL = reverse("accounts:grant_list")
ACCOUNT_URL = reverse("accounts:account_create")


def new_account(cast, username="new_teacher", region="340102", real_name="新老师") -> User:
    return user_create(actor=cast.security_admin, username=username, real_name=real_name, password=PASSWORD,
                       home_region=cast.regions[region])


def revoke_url(grant) -> str:
    return reverse("accounts:grant_revoke", args=[grant.pk])


def perm_rows(user) -> int:
    return sum(model.objects.filter(user=user).count() for model in (
        RegionUserObjectPermission, SchoolUserObjectPermission, SchoolClassUserObjectPermission))


@pytest.mark.django_db
class TestGrantList:
    def test_security_admin_sees_accounts_of_the_province_with_their_grants(self, cast, client_for):
        response = client_for(cast.security_admin).get(LIST_URL)
        assert response.status_code == 200
        usernames = {u.username for u in response.context["page_obj"]}
        assert {"registrar_a", "county_approver", "system_admin", "audit_admin"} <= usernames
        assert not usernames & {"other_province_registrar", "other_security_admin", "guardian_a"}
        body = response.content.decode()
        assert "学籍管理员" in body and "瑶海区第一小学" in body

    def test_search_by_username_or_real_name(self, cast, client_for):
        client = client_for(cast.security_admin)
        assert [u.username for u in client.get(LIST_URL, {"q": "张学籍"}).context["page_obj"]] == ["registrar_a"]
        assert {u.username for u in client.get(LIST_URL, {"q": "registrar_a"}).context["page_obj"]} == {
            "registrar_a", "registrar_a2"}

    def test_filter_by_role(self, cast, client_for):
        response = client_for(cast.security_admin).get(LIST_URL, {"role": "head_teacher"})
        assert [u.username for u in response.context["page_obj"]] == ["head_teacher_a"]

    def test_sort_and_pagination(self, cast, client_for, monkeypatch):
        monkeypatch.setattr("accounts.views_grants.PER_PAGE", 5)
        response = client_for(cast.security_admin).get(LIST_URL, {"sort": "-username", "role": "approver"})
        names = [u.username for u in response.context["page_obj"]]
        assert names == sorted(names, reverse=True) and len(names) == 5
        assert "sort=-username&amp;role=approver&amp;page=2" in response.content.decode()

    def test_others_in_scope_get_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(LIST_URL).status_code == 403
        assert client_for(cast.audit_admin).get(LIST_URL).status_code == 403
        assert client_for(cast.registrar_a).get(LIST_URL).status_code == 403

    def test_other_province_security_admin_sees_only_hubei(self, cast, client_for):
        response = client_for(cast.other_security_admin).get(LIST_URL)
        usernames = {u.username for u in response.context["page_obj"]}
        assert "other_province_registrar" in usernames and "registrar_a" not in usernames

    def test_query_count_does_not_grow_with_accounts(self, cast, client_for, django_assert_num_queries):
        client = client_for(cast.security_admin)
        # 1 session, 2 user, 3 held codenames (access check, cached for the navigation),
        # 4 grants (manage_roles, scope), 5 count, 6 accounts with home region,
        # 7 their grants with units (prefetch), 8-10 savepoint, session save, release
        with django_assert_num_queries(10):
            response = client.get(LIST_URL)
        assert len(response.context["page_obj"]) >= 16


@pytest.mark.django_db
class TestAccountCreate:
    def data(self, **overrides):
        data = {"username": "wang_teacher", "real_name": "王老师", "phone": "13800000000", "home_region": "340102",
                "password": "start2026go", "password_again": "start2026go"}
        data.update(overrides)
        return data

    def test_security_admin_creates_an_account_that_must_change_its_password(self, cast, client_for):
        response = client_for(cast.security_admin).post(ACCOUNT_URL, self.data())
        user = User.objects.get(username="wang_teacher")
        assert response.status_code == 302 and "username=wang_teacher" in response.url
        assert user.must_change_password and user.check_password("start2026go")
        assert user.home_region_id == "340102"
        assert AuditEvent.objects.filter(kind="account_create", target_id=str(user.pk),
                                         actor=cast.security_admin).exists()

    def test_weak_password_and_mismatch_are_field_errors_and_input_kept(self, cast, client_for):
        client = client_for(cast.security_admin)
        response = client.post(ACCOUNT_URL, self.data(password="abcdefgh", password_again="abcdefgh"))
        assert "password" in response.context["form"].errors
        assert 'value="王老师"' in response.content.decode()
        response = client.post(ACCOUNT_URL, self.data(password_again="other2026go"))
        assert response.context["form"].errors["password_again"] == ["两次输入的密码不一致"]
        assert not User.objects.filter(username="wang_teacher").exists()

    def test_taken_username_is_shown_next_to_the_field(self, cast, client_for):
        response = client_for(cast.security_admin).post(ACCOUNT_URL, self.data(username="registrar_a"))
        assert response.context["form"].errors["username"] == ["该用户名已被使用"]

    def test_system_admin_gets_403(self, cast, client_for):
        client = client_for(cast.system_admin)
        assert client.get(ACCOUNT_URL).status_code == 403
        assert client.post(ACCOUNT_URL, self.data()).status_code == 403
        assert not User.objects.filter(username="wang_teacher").exists()

    def test_other_province_security_admin_gets_404_for_an_anhui_region(self, cast, client_for):
        assert client_for(cast.other_security_admin).post(ACCOUNT_URL, self.data()).status_code == 404
        assert not User.objects.filter(username="wang_teacher").exists()


@pytest.mark.django_db
class TestGrantCreate:
    def test_grant_made_in_the_browser_gives_permissions_and_appears_in_the_audit_log(self, cast, client_for):
        teacher = new_account(cast)
        response = client_for(cast.security_admin).post(GRANT_URL, {
            "username": teacher.username, "role": Role.HEAD_TEACHER, "school": cast.school_a.pk,
            "school_class": cast.class_a.pk}, REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 302
        grant = RoleGrant.objects.get(user=teacher)
        assert (grant.role, grant.school_class) == (Role.HEAD_TEACHER, cast.class_a)
        assert grant.history.get().history_user == cast.security_admin
        assert SchoolClassUserObjectPermission.objects.filter(user=teacher, content_object=cast.class_a).count() == 2
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLE_GRANT, target_id=str(grant.pk))
        assert event.actor == cast.security_admin and event.ip_address == "10.1.2.3"
        assert event.unit_path == cast.school_a.path

    def test_registrar_on_a_school_and_inspector_on_a_region(self, cast, client_for):
        client = client_for(cast.security_admin)
        teacher = new_account(cast)
        client.post(GRANT_URL, {"username": teacher.username, "role": Role.REGISTRAR, "region": "340102",
                                "school": cast.school_a.pk})
        client.post(GRANT_URL, {"username": teacher.username, "role": Role.INSPECTOR, "region": "340104"})
        held = {(g.role, str(g.unit)) for g in RoleGrant.objects.filter(user=teacher)}
        assert held == {(Role.REGISTRAR, "瑶海区第一小学"), (Role.INSPECTOR, "蜀山区")}

    def test_same_account_cannot_be_system_admin_and_audit_admin(self, cast, client_for):
        response = client_for(cast.security_admin).post(GRANT_URL, {
            "username": "system_admin", "role": Role.AUDIT_ADMIN, "region": "340100"})
        assert response.status_code == 200
        assert "同一账号只能担任" in " ".join(response.context["form"].errors["role"])
        assert "同一账号只能担任" in response.content.decode()
        assert not RoleGrant.objects.filter(user=cast.system_admin, role=Role.AUDIT_ADMIN).exists()

    def test_administrator_cannot_also_hold_a_business_role(self, cast, client_for):
        # Found in review: the audit admin was made a school registrar and could then read and edit students.
        client = client_for(cast.security_admin)
        response = client.post(GRANT_URL, {"username": "audit_admin", "role": Role.REGISTRAR, "region": "",
                                            "school": cast.school_a.pk})
        assert response.status_code == 200
        assert "不能再担任其他角色" in " ".join(response.context["form"].errors["role"])
        response = client.post(GRANT_URL, {"username": "system_admin", "role": Role.INSPECTOR, "region": "340100"})
        assert "不能再担任其他角色" in " ".join(response.context["form"].errors["role"])
        assert set(RoleGrant.objects.filter(user__in=[cast.audit_admin, cast.system_admin])
                   .values_list("role", flat=True)) == {Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN}
        assert client_for(cast.audit_admin).get(reverse("students:list")).status_code == 403

    def test_account_with_a_business_role_cannot_become_an_administrator(self, cast, client_for):
        response = client_for(cast.security_admin).post(GRANT_URL, {
            "username": "registrar_a", "role": Role.SYSTEM_ADMIN, "region": "340000"})
        assert response.status_code == 200
        assert "不能再担任系统管理员" in " ".join(response.context["form"].errors["role"])
        assert not RoleGrant.objects.filter(user=cast.registrar_a, role=Role.SYSTEM_ADMIN).exists()

    def test_role_on_the_wrong_kind_of_unit_is_a_field_error(self, cast, client_for):
        client = client_for(cast.security_admin)
        teacher = new_account(cast)
        response = client.post(GRANT_URL, {"username": teacher.username, "role": Role.INSPECTOR,
                                           "school": cast.school_a.pk})
        assert response.context["form"].errors["school"] == ["督查/抽查人员不能授予在学校上"]
        response = client.post(GRANT_URL, {"username": teacher.username, "role": Role.HEAD_TEACHER,
                                           "school": cast.school_a.pk})
        assert response.context["form"].errors["school_class"] == ["请为班主任选择班级"]
        assert not RoleGrant.objects.filter(user=teacher).exists()

    def test_failed_submit_keeps_the_chosen_school_and_its_classes(self, cast, client_for):
        response = client_for(cast.security_admin).post(GRANT_URL, {
            "username": "no_such_user", "role": Role.HEAD_TEACHER, "school": cast.school_a.pk,
            "school_class": cast.class_a.pk})
        body = response.content.decode()
        assert response.context["form"].errors["username"] == ["账号不存在或不在您的管辖范围内"]
        assert f'<option value="{cast.school_a.pk}" selected>瑶海区第一小学（3401020001）</option>' in body
        assert f'<option value="{cast.class_a.pk}" selected>一年级(1)班</option>' in body

    def test_duplicate_grant_is_an_error_not_a_500(self, cast, client_for):
        response = client_for(cast.security_admin).post(GRANT_URL, {
            "username": "registrar_a", "role": Role.REGISTRAR, "school": cast.school_a.pk})
        assert response.status_code == 200 and response.context["form"].non_field_errors()

    def test_cannot_grant_to_themselves(self, cast, client_for):
        response = client_for(cast.security_admin).post(GRANT_URL, {
            "username": "security_admin", "role": Role.INSPECTOR, "region": "340100"})
        assert response.context["form"].errors["username"] == ["不能给自己授予角色"]
        assert RoleGrant.objects.filter(user=cast.security_admin).count() == 1

    def test_unit_outside_the_region_is_404(self, cast, client_for):
        # 湖北's security admin, granting one of its own accounts a role on an 安徽 school.
        response = client_for(cast.other_security_admin).post(GRANT_URL, {
            "username": "other_province_registrar", "role": Role.REGISTRAR, "school": cast.school_a.pk})
        assert response.status_code == 404
        response = client_for(cast.other_security_admin).post(GRANT_URL, {
            "username": "other_province_registrar", "role": Role.INSPECTOR, "region": "340000"})
        assert response.status_code == 404
        assert not RoleGrant.objects.filter(user=cast.other_province_registrar, school=cast.school_a).exists()

    def test_account_outside_the_region_is_not_found(self, cast, client_for):
        response = client_for(cast.other_security_admin).post(GRANT_URL, {
            "username": "registrar_a", "role": Role.INSPECTOR, "region": "429004"})
        assert response.context["form"].errors["username"] == ["账号不存在或不在您的管辖范围内"]

    def test_system_admin_and_registrar_get_403(self, cast, client_for):
        data = {"username": "registrar_a2", "role": Role.INSPECTOR, "region": "340100"}
        assert client_for(cast.system_admin).post(GRANT_URL, data).status_code == 403
        assert client_for(cast.registrar_a).get(GRANT_URL).status_code == 403
        assert not RoleGrant.objects.filter(user=cast.registrar_a2, role=Role.INSPECTOR).exists()

    def test_inspector_post_is_403(self, cast, client_for):
        data = {"username": "registrar_a2", "role": Role.INSPECTOR, "region": "340100"}
        assert client_for(cast.inspector).post(GRANT_URL, data).status_code == 403

    def test_form_offers_regions_of_the_scope(self, cast, client_for):
        body = client_for(cast.security_admin).get(GRANT_URL, {"username": "registrar_a"}).content.decode()
        assert 'value="registrar_a"' in body and "安徽省 / 合肥市 / 瑶海区" in body and "仙桃" not in body


@pytest.mark.django_db
class TestGrantOptions:
    def test_school_search_is_scoped(self, cast, client_for):
        url = reverse("accounts:grant_school_options")
        body = client_for(cast.security_admin).get(url, {"school_search": "小学"}).content.decode()
        assert "瑶海区第一小学" in body and "彭场镇" not in body
        body = client_for(cast.other_security_admin).get(url, {"school_search": "小学"}).content.decode()
        assert "彭场镇第二小学" in body and "瑶海区" not in body

    def test_classes_of_a_school_outside_scope_are_not_listed(self, cast, client_for):
        url = reverse("accounts:grant_class_options")
        body = client_for(cast.security_admin).get(url, {"school": cast.school_a.pk}).content.decode()
        assert "一年级(1)班" in body and body.index("一年级(1)班") < body.index("六年级(2)班")
        body = client_for(cast.other_security_admin).get(url, {"school": cast.school_a.pk}).content.decode()
        assert "一年级" not in body

    def test_user_search_is_scoped(self, cast, client_for):
        url = reverse("accounts:grant_user_options")
        body = client_for(cast.security_admin).get(url, {"username": "registrar"}).content.decode()
        assert 'value="registrar_a"' in body and "other_province_registrar" not in body

    def test_options_need_manage_roles(self, cast, client_for):
        url = reverse("accounts:grant_school_options")
        assert client_for(cast.registrar_a).get(url, {"school_search": "小学"}).status_code == 403


@pytest.mark.django_db
class TestGrantRevoke:
    def grant(self, cast):
        teacher = new_account(cast)
        return role_grant(actor=cast.security_admin, user=teacher, role=Role.HEAD_TEACHER, unit=cast.class_a)

    def test_confirmation_page_then_revocation_removes_permission_rows(self, cast, client_for):
        grant = self.grant(cast)
        client = client_for(cast.security_admin)
        body = client.get(revoke_url(grant)).content.decode()
        assert "确认撤销" in body and "新老师" in body and "一年级(1)班" in body
        assert perm_rows(grant.user) == 2
        response = client.post(revoke_url(grant), {"reason": "调离本校"})
        assert response.status_code == 302
        assert not RoleGrant.objects.filter(pk=grant.pk).exists()
        assert perm_rows(grant.user) == 0
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.ROLE_REVOKE, target_id=str(grant.pk))
        assert event.reason == "调离本校" and event.actor == cast.security_admin
        deleted = RoleGrant.history.filter(id=grant.pk, history_type="-").get()
        assert deleted.history_user == cast.security_admin and deleted.history_change_reason == "调离本校"

    def test_reason_is_required(self, cast, client_for):
        grant = self.grant(cast)
        response = client_for(cast.security_admin).post(revoke_url(grant), {"reason": "  "})
        assert response.status_code == 200 and "reason" in response.context["form"].errors
        assert RoleGrant.objects.filter(pk=grant.pk).exists()

    def test_system_admin_gets_403(self, cast, client_for):
        grant = self.grant(cast)
        assert client_for(cast.system_admin).post(revoke_url(grant), {"reason": "x"}).status_code == 403
        assert RoleGrant.objects.filter(pk=grant.pk).exists()

    def test_registrar_of_the_school_gets_403(self, cast, client_for):
        assert client_for(cast.registrar_a).get(revoke_url(self.grant(cast))).status_code == 403

    def test_other_province_security_admin_gets_404(self, cast, client_for):
        grant = self.grant(cast)
        client = client_for(cast.other_security_admin)
        assert client.get(revoke_url(grant)).status_code == 404
        assert client.post(revoke_url(grant), {"reason": "x"}).status_code == 404
        assert RoleGrant.objects.filter(pk=grant.pk).exists()

    def test_unknown_grant_is_404(self, cast, client_for):
        assert client_for(cast.security_admin).get(reverse("accounts:grant_revoke", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_deleting_a_school_leaves_no_orphaned_permission_rows(cast):
    teacher = new_account(cast)
    role_grant(actor=cast.security_admin, user=teacher, role=Role.HEAD_TEACHER, unit=cast.class_a)
    assert SchoolUserObjectPermission.objects.filter(content_object=cast.school_a).exists()
    school_pk, class_pk = cast.school_a.pk, cast.class_a.pk
    delete_with_history(cast.school_a, actor=cast.system_admin, reason="撤并")
    assert not SchoolUserObjectPermission.objects.filter(content_object_id=school_pk).exists()
    assert not SchoolClassUserObjectPermission.objects.filter(content_object_id=class_pk).exists()
    assert not RoleGrant.objects.filter(school_id=school_pk).exists()
    assert not RoleGrant.objects.filter(school_class_id=class_pk).exists()
