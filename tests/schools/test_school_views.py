"""School pages: list, detail, create and edit a school (trio, scope, form errors, query counts)."""

import pytest
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import role_grant, user_create
from schools.models import School
from tests.cast import PASSWORD


def other_province_system_admin(cast) -> User:
    """A system admin of 湖北 (not in the fixed cast: only these tests need one)."""
    user = user_create(actor=None, username="other_system_admin", real_name="许系统", password=PASSWORD,
                       home_region=cast.regions["420000"], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.SYSTEM_ADMIN, unit=cast.regions["420000"])
    return user


def school_post(cast, **overrides) -> dict:
    data = {"school_code": "3401020009", "name": "瑶海区新建小学", "stage": "primary", "primary_years": "6",
            "junior_years": "", "senior_years": "", "ownership": "public", "region": "340102",
            "authority": "340102", "is_active": "on"}
    data.update(overrides)
    return data


@pytest.mark.django_db
class TestSchoolList:
    url = reverse("schools:school_list")

    def test_county_approver_sees_only_schools_of_the_county(self, cast, client_for):
        response = client_for(cast.county_approver).get(self.url)
        assert response.status_code == 200
        names = {s.name for s in response.context["page_obj"]}
        assert names == {"瑶海区第一小学", "瑶海区第二小学"}

    def test_system_admin_sees_the_province(self, cast, client_for):
        response = client_for(cast.system_admin).get(self.url)
        assert {s.school_code for s in response.context["page_obj"]} == {
            "3401020001", "3401020002", "3401040001", "3401000001"}
        assert "新设学校" in response.content.decode()

    def test_other_province_user_sees_none_of_anhui(self, cast, client_for):
        response = client_for(cast.other_province_county_approver).get(self.url)
        assert [s.name for s in response.context["page_obj"]] == ["彭场镇第二小学"]

    def test_user_without_grants_is_refused(self, cast, client_for):
        assert client_for(cast.nobody).get(self.url).status_code == 403

    def test_search_by_name_and_by_code(self, cast, client_for):
        client = client_for(cast.system_admin)
        assert [s.name for s in client.get(self.url, {"q": "蜀山"}).context["page_obj"]] == ["蜀山区实验小学"]
        assert [s.name for s in client.get(self.url, {"q": "340100"}).context["page_obj"]] == ["合肥市第一中学"]

    def test_filter_by_region_covers_the_subtree(self, cast, client_for):
        client = client_for(cast.system_admin)
        codes = {s.school_code for s in client.get(self.url, {"region": "340100"}).context["page_obj"]}
        assert codes == {"3401020001", "3401020002", "3401040001", "3401000001"}
        codes = {s.school_code for s in client.get(self.url, {"region": "340104"}).context["page_obj"]}
        assert codes == {"3401040001"}

    def test_region_outside_scope_is_not_a_filter_choice(self, cast, client_for):
        response = client_for(cast.county_approver).get(self.url, {"region": "340104"})
        assert response.status_code == 200
        assert "region" in response.context["filter"].form.errors
        assert "彭场" not in response.content.decode()

    def test_filter_by_stage(self, cast, client_for):
        response = client_for(cast.system_admin).get(self.url, {"stage": "senior"})
        assert [s.name for s in response.context["page_obj"]] == ["合肥市第一中学"]

    def test_sort_by_name_descending_and_unknown_sort_falls_back(self, cast, client_for):
        client = client_for(cast.system_admin)
        codes = [s.school_code for s in client.get(self.url, {"sort": "-code"}).context["page_obj"]]
        assert codes == sorted(codes, reverse=True)
        response = client.get(self.url, {"sort": "password"})
        assert response.status_code == 200 and response.context["sort"] == "code"

    def test_pagination_keeps_the_filters(self, cast, client_for, monkeypatch):
        monkeypatch.setattr("schools.views.PER_PAGE", 2)
        response = client_for(cast.system_admin).get(self.url, {"q": "小学"})
        assert response.context["page_obj"].paginator.num_pages == 2
        assert "q=%E5%B0%8F%E5%AD%A6&amp;page=2" in response.content.decode()

    def test_query_count_does_not_grow_with_schools(self, cast, client_for, django_assert_num_queries):
        client = client_for(cast.system_admin)
        # 1 session, 2 user, 3 grants (any role, for scope), 4 regions in scope (filter select),
        # 5 count, 6 held codenames ("新设学校" button and navigation, cached), 7 schools with region and
        # authority, 8-10 savepoint, session save (SESSION_SAVE_EVERY_REQUEST), release
        with django_assert_num_queries(10):
            response = client.get(self.url)
        assert len(response.context["page_obj"]) == 4


@pytest.mark.django_db
class TestSchoolDetail:
    def url(self, school):
        return reverse("schools:school_detail", args=[school.pk])

    def test_shows_grades_classes_and_head_teacher(self, cast, client_for):
        from schools.services import class_update

        class_update(actor=None, school_class=cast.class_a, head_teacher=cast.head_teacher_a)
        response = client_for(cast.county_approver).get(self.url(cast.school_a))
        body = response.content.decode()
        assert response.status_code == 200
        assert body.index("一年级") < body.index("二年级") < body.index("六年级")
        assert "一年级(1)班" in body and "周老师" in body
        assert "编辑学校" not in body  # the approver may look but not manage

    def test_county_approver_gets_404_for_another_countys_school(self, cast, client_for):
        assert client_for(cast.county_approver).get(self.url(cast.school_b)).status_code == 404

    def test_other_province_gets_404(self, cast, client_for):
        assert client_for(cast.other_province_registrar).get(self.url(cast.school_a)).status_code == 404

    def test_system_admin_sees_the_management_buttons(self, cast, client_for):
        body = client_for(cast.system_admin).get(self.url(cast.school_a)).content.decode()
        assert "编辑学校" in body and "生成年级" in body and "新设班级" in body

    def test_query_count_does_not_grow_with_classes(self, cast, client_for, django_assert_num_queries):
        client = client_for(cast.system_admin)
        # 1 session, 2 user, 3 grants (scope), 4 school, 5 grades, 6 classes with head teachers,
        # 7 manage_units check, 8 codenames for the navigation, 9-11 savepoint, session save, release
        with django_assert_num_queries(11):
            client.get(self.url(cast.school_a))


@pytest.mark.django_db
class TestSchoolCreate:
    url = reverse("schools:school_create")

    def test_system_admin_creates_a_school_with_history_and_audit(self, cast, client_for):
        from audits.models import AuditEvent

        response = client_for(cast.system_admin).post(self.url, school_post(cast))
        school = School.objects.get(school_code="3401020009")
        assert response.status_code == 302 and response.url == reverse("schools:school_detail", args=[school.pk])
        assert school.path == "340000/340100/340102/3401020009/"
        assert school.history.get().history_user == cast.system_admin
        assert AuditEvent.objects.filter(kind="unit_change", target_id=str(school.pk)).exists()

    def test_form_offers_only_regions_in_scope(self, cast, client_for):
        response = client_for(cast.system_admin).get(self.url)
        body = response.content.decode()
        assert response.status_code == 200
        assert "合肥市 / 瑶海区" in body and "仙桃" not in body

    def test_inspector_is_refused(self, cast, client_for):
        client = client_for(cast.inspector)
        assert client.get(self.url).status_code == 403
        assert client.post(self.url, school_post(cast)).status_code == 403
        assert not School.objects.filter(school_code="3401020009").exists()

    def test_registrar_is_refused(self, cast, client_for):
        assert client_for(cast.registrar_a).post(self.url, school_post(cast)).status_code == 403

    def test_other_province_admin_cannot_create_in_anhui(self, cast, client_for):
        # There is no object in the URL to 404 on: the region outside the admin's scope is simply
        # not a valid choice, so nothing is created.
        response = client_for(other_province_system_admin(cast)).post(self.url, school_post(cast))
        assert response.status_code == 200
        assert "region" in response.context["form"].errors
        assert not School.objects.filter(school_code="3401020009").exists()

    def test_duplicate_code_is_shown_next_to_the_field_and_input_kept(self, cast, client_for):
        response = client_for(cast.system_admin).post(self.url, school_post(cast, school_code="3401020001"))
        assert response.status_code == 200
        assert response.context["form"].errors["school_code"] == ["该学校标识码已存在"]
        assert 'value="瑶海区新建小学"' in response.content.decode()

    def test_authority_below_the_region_is_refused_by_the_service(self, cast, client_for):
        response = client_for(cast.system_admin).post(self.url, school_post(cast, region="340100",
                                                                            authority="340102"))
        assert response.context["form"].errors["authority"] == ["学籍主管部门必须是学校所在地或其上级行政区划"]

    def test_bad_input_gives_field_errors_not_500(self, cast, client_for):
        response = client_for(cast.system_admin).post(self.url, school_post(
            cast, school_code="12ab", stage="university", primary_years="9", region="999999"))
        errors = response.context["form"].errors
        assert response.status_code == 200
        assert {"school_code", "stage", "primary_years", "region"} <= set(errors)

    def test_authority_options_are_the_region_and_its_ancestors(self, cast, client_for):
        response = client_for(cast.system_admin).get(reverse("schools:authority_options"), {"region": "340102"})
        body = response.content.decode()
        assert body.index('"340102"') < body.index('"340100"') < body.index('"340000"')
        assert "蜀山区" not in body and 'value="340102" selected' in body


@pytest.mark.django_db
class TestSchoolUpdate:
    def url(self, school):
        return reverse("schools:school_update", args=[school.pk])

    def test_system_admin_edits_and_history_names_them(self, cast, client_for):
        client = client_for(cast.system_admin)
        assert client.get(self.url(cast.school_a)).status_code == 200
        response = client.post(self.url(cast.school_a), school_post(cast, school_code="3401020001",
                                                                    name="瑶海区第一实验小学"))
        assert response.status_code == 302
        cast.school_a.refresh_from_db()
        assert cast.school_a.name == "瑶海区第一实验小学"
        latest = cast.school_a.history.first()
        assert latest.history_user == cast.system_admin and latest.history_change_reason == "修改学校信息"

    def test_form_is_prefilled(self, cast, client_for):
        body = client_for(cast.system_admin).get(self.url(cast.school_a)).content.decode()
        assert 'value="瑶海区第一小学"' in body and 'value="340102" selected' in body

    def test_inspector_gets_403(self, cast, client_for):
        client = client_for(cast.inspector)
        assert client.get(self.url(cast.school_a)).status_code == 403
        assert client.post(self.url(cast.school_a), school_post(cast, name="改名")).status_code == 403
        cast.school_a.refresh_from_db()
        assert cast.school_a.name == "瑶海区第一小学"

    def test_registrar_of_the_school_gets_403(self, cast, client_for):
        assert client_for(cast.registrar_a).get(self.url(cast.school_a)).status_code == 403

    def test_other_province_admin_gets_404(self, cast, client_for):
        client = client_for(other_province_system_admin(cast))
        assert client.get(self.url(cast.school_a)).status_code == 404
        assert client.post(self.url(cast.school_a), school_post(cast, name="改名")).status_code == 404

    def test_moving_to_a_region_outside_scope_is_refused(self, cast, client_for):
        response = client_for(cast.system_admin).post(self.url(cast.school_a), school_post(
            cast, school_code="3401020001", region="429004", authority="429004"))
        assert response.status_code == 200 and "region" in response.context["form"].errors
