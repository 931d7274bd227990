"""Student pages: the trio for every view (allowed / 403 in scope without the right / 404 outside),
masking, reveal logging, history, query counts, and awkward input never giving a 500."""

from datetime import date

import pytest
from django.urls import reverse

from audits.models import AuditEvent
from students.forms import entry_data
from students.models import Student, StudentStatus
from students.views import CREATE_FORM
from xueji.once import FIELD, issue

from .helpers import id_number, make_student

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(cast):
    return make_student(cast.registrar_a, cast.school_a)


@pytest.fixture
def active(cast):
    return make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, name="王小红", gender="2")


def form_post(cast, *, school=None, user=None, **overrides):
    """The new-student form as posted by ``user`` (default registrar_a), with a genuine one-time token."""
    school = school or cast.school_a
    school_class = school.classes.order_by("grade__level", "number").first()
    student = {"name": "赵小虎", "gender": "1", "birth_date": "2018-03-05", "id_type": "1",
               "id_number": id_number(), "ethnicity": "01", "nationality": "CHN", "hk_macau_taiwan_overseas": "00",
               "health": "10", "political_status": "13", "grade": school_class.grade_id,
               "school_class": school_class.pk, "study_mode": "1", "student_source": "1", "left_behind": "0",
               "disability_type": "0", "inclusive_class": "0", "entry_month": "202409", "school_id": school.pk,
               FIELD: issue(CREATE_FORM, str((user or cast.registrar_a).pk))}
    student.update(overrides)
    members = [{"name": "赵大", "relation": "51", "is_guardian": True, "id_type": "1",
                "id_number": id_number(birth=date(1985, 1, 1))},
               {"name": "钱二", "relation": "52", "is_guardian": False}]
    return entry_data(student, members)


# --- list, search, roster -------------------------------------------------------------------


class TestList:
    def test_registrar_sees_own_school_with_masked_ids(self, cast, client_for, student):
        response = client_for(cast.registrar_a).get(reverse("students:list"))
        assert response.status_code == 200
        body = response.content.decode()
        assert student.name in body and student.masked_id_number in body and student.id_number not in body

    def test_role_without_view_is_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(reverse("students:list")).status_code == 403

    def test_other_school_sees_none_of_ours(self, cast, client_for, student):
        response = client_for(cast.registrar_b).get(reverse("students:list"))
        assert response.status_code == 200 and student.name not in response.content.decode()

    @pytest.mark.parametrize("q", ["张小明", "zhangxiaoming", "ZXM", "zxm", "Zhang Xiao'ming"])
    def test_search_by_name_pinyin_and_initials(self, cast, client_for, student, q):
        response = client_for(cast.registrar_a).get(reverse("students:list"), {"q": q})
        assert student.name in response.content.decode()

    def test_search_by_id_number_is_exact_and_normalised(self, cast, client_for, student):
        client = client_for(cast.registrar_a)
        spaced = " ".join([student.id_number[:6], student.id_number[6:14], student.id_number[14:].lower()])
        assert student.name in client.get(reverse("students:list"), {"q": spaced}).content.decode()
        assert student.name not in client.get(reverse("students:list"), {"q": student.id_number[:-1]}).content.decode()

    def test_search_by_student_number(self, cast, client_for, active):
        from students.services import student_number_assign

        student_number_assign(actor=cast.registrar_a, student=active)
        response = client_for(cast.registrar_a).get(reverse("students:list"), {"q": active.student_number.lower()})
        assert active.name in response.content.decode()

    def test_a_partial_student_number_searches_number_prefixes_not_pinyin(self, cast, client_for):
        from students.services import student_number_assign, student_verify

        numbered = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, name="王小红",
                                gender="2")
        student_number_assign(actor=cast.registrar_a, student=numbered)
        for name in ("李四", "金明", "高山"):  # li, jin, gao: pinyin of "l", "j", "g"
            make_student(cast.registrar_a, cast.school_a, name=name)
        client = client_for(cast.registrar_a)

        def names(q):
            return [s.name for s in client.get(reverse("students:list"), {"q": q}).context["page_obj"]]

        assert numbered.student_number.startswith("L340102")
        assert names("L3401") == names("l340102") == ["王小红"]
        assert names("J3401") == []
        assert names("G3401022018") == []
        student_verify(actor=cast.registrar_a, student=numbered)
        assert names(numbered.student_number[:11]) == ["王小红"]
        assert names("l") == ["李四"] and names("j") == ["金明"]  # letters alone still search pinyin

    def test_filters_by_grade_status_and_flag(self, cast, client_for, student, active):
        client = client_for(cast.registrar_a)
        body = client.get(reverse("students:list"), {"status": "active"}).content.decode()
        assert active.name in body and student.name not in body
        body = client.get(reverse("students:list"), {"grade": "12"}).content.decode()
        assert active.name not in body
        body = client.get(reverse("students:list"), {"flag": "only_child"}).content.decode()
        assert active.name not in body

    @pytest.mark.parametrize("params", [{"q": "\x00\x01"}, {"q": "a" * 5000}, {"grade": "99"}, {"sort": "password"},
                                        {"page": "-1"}, {"school": "abc"}, {"school_class": "x"}, {"flag": "<b>"}])
    def test_awkward_parameters_never_500(self, cast, client_for, student, params):
        assert client_for(cast.registrar_a).get(reverse("students:list"), params).status_code == 200

    def test_search_results_are_sorted_by_pinyin_both_ways(self, cast, client_for):
        # Search results sort by an expression (students.views.SEARCH_SORTS), in the same order.
        for name in ("张三", "张安", "张伟"):
            make_student(cast.registrar_a, cast.school_a, name=name)
        client = client_for(cast.registrar_a)

        def names(params):
            return [s.name for s in client.get(reverse("students:list"), params).context["page_obj"]]

        assert names({"q": "张"}) == ["张安", "张三", "张伟"]
        assert names({"q": "zhang", "sort": "-name"}) == ["张伟", "张三", "张安"]
        assert names({"q": "zs"}) == ["张三"]

    def test_a_name_search_finds_names_with_a_middle_dot(self, cast, client_for):
        # The search bounds names by pinyin range (students.pinyin.pinyin_range); 朝阳 alone reads zhaoyang.
        for name in ("朝阳·阿力", "朝小明", "赵明"):
            make_student(cast.registrar_a, cast.school_a, name=name)
        page = client_for(cast.county_approver).get(reverse("students:list"), {"q": "朝"}).context["page_obj"]
        assert [s.name for s in page] == ["朝小明", "朝阳·阿力"]

    def test_a_bureau_list_counts_at_most_the_cap(self, cast, client_for, monkeypatch, student, active):
        monkeypatch.setattr("students.views.LIST_COUNT_CAP", 1)
        paginator = client_for(cast.county_approver).get(reverse("students:list")).context["page_obj"].paginator
        assert paginator.count == 1 and paginator.capped

    def test_search_costs_the_same_queries_as_the_list(self, cast, client_for, student, django_assert_num_queries):
        client = client_for(cast.registrar_a)
        with django_assert_num_queries(13):
            # As test_query_count_does_not_grow_with_rows; the capped count is still one query.
            response = client.get(reverse("students:list"), {"q": "张"})
        assert student.name in response.content.decode()

    def test_query_count_does_not_grow_with_rows(self, cast, client_for, django_assert_num_queries):
        for i in range(12):
            make_student(cast.registrar_a, cast.school_a, name=f"学生{chr(0x4e00 + i)}")
        client = client_for(cast.registrar_a)
        with django_assert_num_queries(13):
            # 1. session  2. user  3. held codenames (view check, nav, create button)
            # 4. view_students grants (UNION of three permission tables)  5. the stages of the
            # user's schools (grade choices)  6. count for the paginator  7. the page's ids
            # 8. its students (school, grade, class joined)  9. school choices  10. class choices
            # 11-13. savepoint, session update (SESSION_SAVE_EVERY_REQUEST), release
            response = client.get(reverse("students:list"))
        assert response.status_code == 200


class TestRegionBeforeSchool:
    """A user above a county with many schools picks a region before the schools are listed."""

    @staticmethod
    def school_choices(response) -> list[str]:
        field = response.context["filter"].form.fields["school"]
        return [label for value, label in field.choices if value]

    def test_few_schools_are_all_offered(self, cast, client_for):
        response = client_for(cast.province_approver).get(reverse("students:list"))
        assert {"瑶海区第一小学", "蜀山区实验小学", "合肥市第一中学"} <= set(self.school_choices(response))

    def test_many_schools_wait_for_a_region(self, cast, client_for, monkeypatch, student):
        monkeypatch.setattr("students.filters.SCHOOL_CHOICES_MAX", 2)
        client = client_for(cast.province_approver)
        assert self.school_choices(client.get(reverse("students:list"))) == []
        response = client.get(reverse("students:list"), {"region": "340102"})
        assert self.school_choices(response) == ["瑶海区第一小学", "瑶海区第二小学"]
        assert student.name in response.content.decode()

    def test_a_region_with_too_many_schools_waits_for_a_smaller_one(self, cast, client_for, monkeypatch):
        monkeypatch.setattr("students.filters.SCHOOL_CHOICES_MAX", 2)
        client = client_for(cast.province_approver)
        city = client.get(reverse("students:list"), {"region": "340100"})
        assert self.school_choices(city) == []
        assert "先选区域" in city.content.decode()
        assert self.school_choices(client.get(reverse("students:list"), {"region": "340104"})) == ["蜀山区实验小学"]

    def test_a_link_naming_one_school_still_filters(self, cast, client_for, monkeypatch, student):
        monkeypatch.setattr("students.filters.SCHOOL_CHOICES_MAX", 1)
        response = client_for(cast.province_approver).get(reverse("students:list"), {"school": cast.school_b.pk})
        assert self.school_choices(response) == ["蜀山区实验小学"]
        assert student.name not in response.content.decode()

    def test_region_choices_stay_in_scope(self, cast, client_for):
        response = client_for(cast.county_approver).get(reverse("students:list"))
        codes = [str(value) for value, _ in response.context["filter"].form.fields["region"].choices if value]
        assert codes == ["340102"]
        other = client_for(cast.county_approver).get(reverse("students:list"), {"region": "340104"})
        assert other.status_code == 200 and other.context["filter"].errors

    def test_school_staff_have_no_region_choice(self, cast, client_for):
        response = client_for(cast.registrar_a).get(reverse("students:list"))
        assert "region" not in response.context["filter"].form.fields

    def test_dashboard_region_link_narrows(self, cast, client_for, student):
        client = client_for(cast.city_approver)
        assert student.name in client.get(reverse("students:list"), {"region": "340102"}).content.decode()
        assert student.name not in client.get(reverse("students:list"), {"region": "340104"}).content.decode()


class TestInvalidFiltersNeverWiden:
    """A filter value that does not validate shows its error and no rows, never the whole scope."""

    def test_a_school_outside_the_scope_shows_no_rows_and_the_error(self, cast, client_for, student, active):
        response = client_for(cast.city_approver).get(reverse("students:list"),
                                                      {"status": "draft", "school": cast.other_school.pk})
        body = response.content.decode()
        assert response.status_code == 200 and list(response.context["page_obj"]) == []
        assert "school" in response.context["filter"].errors and "所选学校不在您的管辖范围内" in body
        assert student.name not in body and active.name not in body

    def test_a_bad_value_in_one_filter_keeps_out_every_row(self, cast, client_for, student):
        response = client_for(cast.registrar_a).get(reverse("students:list"), {"grade": "99", "status": "draft"})
        assert list(response.context["page_obj"]) == [] and "筛选条件有误" in response.content.decode()

    def test_a_bureau_link_naming_a_class_filters_by_it_without_a_school(self, cast, client_for, student):
        other_class = cast.school_a.classes.exclude(pk=cast.class_a.pk).order_by("grade__level", "number").first()
        elsewhere = make_student(cast.registrar_a, cast.school_a, name="李小强", school_class=other_class,
                                 grade=other_class.grade)
        response = client_for(cast.county_approver).get(reverse("students:list"), {"school_class": cast.class_a.pk})
        assert not response.context["filter"].errors
        assert [s.name for s in response.context["page_obj"]] == [student.name]
        assert elsewhere.name not in response.content.decode()
        # Only the named class is offered, not every class of the county.
        field = response.context["filter"].form.fields["school_class"]
        assert [value for value, _ in field.choices if value] == [cast.class_a.pk]

    def test_a_class_outside_the_scope_shows_no_rows(self, cast, client_for, student):
        foreign = cast.school_b.classes.first()
        response = client_for(cast.county_approver).get(reverse("students:list"), {"school_class": foreign.pk})
        assert "school_class" in response.context["filter"].errors
        assert list(response.context["page_obj"]) == []

    def test_a_class_of_another_school_than_the_chosen_one_is_an_error(self, cast, client_for, student):
        response = client_for(cast.county_approver).get(
            reverse("students:list"), {"school": cast.school_a2.pk, "school_class": cast.class_a.pk})
        assert "school_class" in response.context["filter"].errors
        assert list(response.context["page_obj"]) == []


class TestListDetails:
    def test_a_primary_school_is_offered_primary_grades_only(self, cast, client_for):
        response = client_for(cast.registrar_a).get(reverse("students:list"))
        grades = [label for value, label in response.context["filter"].form.fields["grade"].choices if value]
        assert grades == ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]

    def test_a_bureau_is_offered_every_grade(self, cast, client_for):
        response = client_for(cast.city_approver).get(reverse("students:list"))
        grades = [label for value, label in response.context["filter"].form.fields["grade"].choices if value]
        assert "初一" in grades and "高三" in grades and "一年级" in grades


class TestPageOrder:
    def test_every_page_keeps_the_sort(self, cast):
        # Pages are read as ids first, then rows (xueji.lists.CappedPaginator): the rows must come
        # back in the order of the ids, on every page, with their joined objects.
        from xueji.lists import CappedPaginator

        names = ["王五", "李四", "赵六", "钱七", "孙八", "周九", "吴十"]
        for name in names:
            make_student(cast.registrar_a, cast.school_a, name=name)
        queryset = Student.objects.filter(name__in=names).select_related("school").order_by("-name_pinyin", "pk")
        paginator = CappedPaginator(queryset, 3, cap=6)
        pages = [list(paginator.page(n)) for n in (1, 2)]
        assert [s.name for page in pages for s in page] == [s.name for s in queryset][:6]
        assert pages[0][0].school == cast.school_a and paginator.capped


class TestRoster:
    def test_registrar_sees_class_roster(self, cast, client_for, student):
        response = client_for(cast.registrar_a).get(reverse("students:roster", args=[cast.class_a.pk]))
        assert response.status_code == 200 and student.name in response.content.decode()

    def test_head_teacher_sees_own_class(self, cast, client_for, student):
        client = client_for(cast.head_teacher_a)
        assert client.get(reverse("students:roster", args=[cast.class_a.pk])).status_code == 200

    def test_system_admin_in_scope_without_view_is_403(self, cast, client_for):
        # The system admin's scope covers the province's units, but not student data.
        response = client_for(cast.system_admin).get(reverse("students:roster", args=[cast.class_a.pk]))
        assert response.status_code == 403

    def test_other_school_is_404(self, cast, client_for):
        assert client_for(cast.registrar_b).get(reverse("students:roster", args=[cast.class_a.pk])).status_code == 404

    def test_query_count(self, cast, client_for, django_assert_num_queries):
        for i in range(8):
            make_student(cast.registrar_a, cast.school_a, name=f"花名{chr(0x4e00 + i)}")
        client = client_for(cast.registrar_a)
        with django_assert_num_queries(12):
            # 1. session  2. user  3. the user's grants (any codename, for get_for_user's scope)
            # 4. the class with school and grade  5. has_unit_perm view_students on it
            # 6. view_students grants for the student queryset  7. count  8. held codenames (nav)
            # 9. the page of students  10-12. savepoint, session update, release
            assert client.get(reverse("students:roster", args=[cast.class_a.pk])).status_code == 200


# --- create / edit / delete -----------------------------------------------------------------


class TestCreate:
    def test_registrar_creates_a_draft(self, cast, client_for):
        client = client_for(cast.registrar_a)
        assert client.get(reverse("students:create")).status_code == 200
        response = client.post(reverse("students:create"), form_post(cast))
        student = Student.objects.get(name="赵小虎")
        assert response.status_code == 302 and response["Location"] == reverse("students:detail", args=[student.pk])
        assert student.family_members.count() == 2 and student.status == StudentStatus.DRAFT

    def test_inspector_is_403(self, cast, client_for):
        assert client_for(cast.inspector).get(reverse("students:create")).status_code == 403
        client = client_for(cast.inspector)
        assert client.get(reverse("students:create"), {"school": cast.school_a.pk}).status_code == 403

    def test_other_school_is_404(self, cast, client_for):
        client = client_for(cast.registrar_b)
        assert client.get(reverse("students:create"), {"school": cast.school_a.pk}).status_code == 404
        assert client.post(reverse("students:create"), form_post(cast)).status_code == 404
        assert not Student.objects.exists()

    def test_errors_are_chinese_next_to_fields_and_input_is_kept(self, cast, client_for):
        data = form_post(cast, id_number="340102201803051234", phone="abc", name="赵小虎")
        data["family-1-name"] = ""
        response = client_for(cast.registrar_a).post(reverse("students:create"), data)
        body = response.content.decode()
        assert response.status_code == 200
        assert "校验" in body or "有误" in body or "不正确" in body
        assert "联系电话格式不正确" in body
        assert 'value="赵小虎"' in body and 'value="abc"' in body
        assert not Student.objects.exists()

    def test_birth_date_and_gender_must_agree_with_the_id(self, cast, client_for):
        data = form_post(cast, gender="2")
        response = client_for(cast.registrar_a).post(reverse("students:create"), data)
        assert response.status_code == 200 and "性别" in response.content.decode()

    def test_no_id_needs_a_guardian_id(self, cast, client_for):
        data = form_post(cast, id_type="Z", id_number="")
        data["family-0-id_number"] = ""
        data["family-0-id_type"] = ""
        response = client_for(cast.registrar_a).post(reverse("students:create"), data)
        assert "监护人的身份证件号" in response.content.decode()
        assert not Student.objects.exists()

    def test_an_id_number_live_elsewhere_is_refused_next_to_the_field_with_a_transfer_link(self, cast, client_for):
        holder = make_student(cast.registrar_b, cast.school_b, status=StudentStatus.ACTIVE)
        response = client_for(cast.registrar_a).post(reverse("students:create"),
                                                     form_post(cast, id_number=holder.id_number))
        body = response.content.decode()
        assert response.status_code == 200 and Student.objects.filter(school=cast.school_a).count() == 0
        assert response.context["entry"].form.errors["id_number"] == [
            f"该身份证件号已在{cast.school_b.name}有学籍（状态：在籍），不能重复注册；如学生已转入本校，请发起转学"]
        assert f'<a href="{reverse("transfers:transfer_new")}">发起转学</a>' in body

    def test_an_id_number_of_a_draft_of_the_school_is_refused_without_a_transfer_link(self, cast, client_for, student):
        response = client_for(cast.registrar_a).post(reverse("students:create"),
                                                     form_post(cast, id_number=student.id_number))
        body = response.content.decode()
        assert "本校已有该身份证件号的学籍草稿，请勿重复录入" in body
        assert reverse("transfers:transfer_new") not in body and Student.objects.count() == 1

    def test_the_live_id_check_runs_while_typing_or_pasting(self, cast, client_for):
        body = client_for(cast.registrar_a).get(reverse("students:create")).content.decode()
        assert 'hx-trigger="input changed delay:400ms, blur"' in body

    @pytest.mark.parametrize("garbage", [
        {"birth_date": "2018-02-30"}, {"birth_date": "99999999"}, {"birth_date": "\x00"}, {"grade": "abc"},
        {"school_class": "999999"}, {"id_type": "Q"}, {"id_number": "１２３"}, {"id_number": "x" * 10000},
        {"school_distance_km": "1e400"}, {"school_distance_km": "NaN"}, {"entry_month": "209913"},
        {"birthplace_code": "99999"}, {"hukou_region_code": "340102000000"}, {"nationality": "XXX"},
        {"family-TOTAL_FORMS": "1000"}, {"family-TOTAL_FORMS": "x"},
        {"email": "@@"}, {"homepage": "javascript:alert(1)"}, {"name": "<script>"}, {"school_id": "x"},
    ])
    def test_garbage_never_500(self, cast, client_for, garbage):
        data = form_post(cast)
        data.update(garbage)
        response = client_for(cast.registrar_a).post(reverse("students:create"), data)
        assert response.status_code in (200, 302, 404)


class TestEdit:
    def test_registrar_edits_a_draft(self, cast, client_for, student):
        client = client_for(cast.registrar_a)
        assert client.get(reverse("students:edit", args=[student.pk])).status_code == 200
        data = form_post(cast, name="张小明", id_number=student.id_number, phone="13912345678")
        data["family-INITIAL_FORMS"] = "2"
        for i, m in enumerate(student.family_members.order_by("order")):
            data[f"family-{i}-id"] = m.pk
        response = client.post(reverse("students:edit", args=[student.pk]), data)
        assert response.status_code == 302
        student.refresh_from_db()
        assert student.phone == "13912345678" and student.family_members.count() == 2

    def test_registered_record_keeps_key_data_whatever_is_posted(self, cast, client_for, active):
        data = form_post(cast, name="篡改", id_number=id_number(), gender="2", phone="13912345678",
                         reason="家长更换手机号")
        data["family-INITIAL_FORMS"] = "2"
        for i, m in enumerate(active.family_members.order_by("order")):
            data[f"family-{i}-id"] = m.pk
        response = client_for(cast.registrar_a).post(reverse("students:edit", args=[active.pk]), data)
        assert response.status_code == 302
        active.refresh_from_db()
        assert active.name == "王小红" and active.phone == "13912345678"
        assert active.history.first().history_change_reason == "家长更换手机号"

    def test_registered_record_needs_a_reason(self, cast, client_for, active):
        data = form_post(cast, phone="13912345678")
        data["family-INITIAL_FORMS"] = "2"
        for i, m in enumerate(active.family_members.order_by("order")):
            data[f"family-{i}-id"] = m.pk
        response = client_for(cast.registrar_a).post(reverse("students:edit", args=[active.pk]), data)
        assert response.status_code == 200 and "修改原因" in response.content.decode()

    def test_errors_of_a_hidden_member_field_are_shown_at_the_top(self, cast, client_for, student):
        data = form_post(cast, name="张小明", id_number=student.id_number)
        data["family-INITIAL_FORMS"] = "2"
        data["family-0-id"] = "999999"
        data["family-1-id"] = student.family_members.get(order=2).pk
        response = client_for(cast.registrar_a).post(reverse("students:edit", args=[student.pk]), data)
        assert response.status_code == 200
        assert '<div class="alert alert-danger"><div>成员1：' in response.content.decode()

    def test_a_draft_keeps_its_own_id_number(self, cast, client_for, student):
        data = form_post(cast, name="张小明", id_number=student.id_number, phone="13912345678")
        data["family-INITIAL_FORMS"] = "2"
        for i, m in enumerate(student.family_members.order_by("order")):
            data[f"family-{i}-id"] = m.pk
        assert client_for(cast.registrar_a).post(reverse("students:edit", args=[student.pk]), data).status_code == 302

    def test_head_teacher_is_403(self, cast, client_for, student):
        assert client_for(cast.head_teacher_a).get(reverse("students:edit", args=[student.pk])).status_code == 403

    def test_other_school_is_404(self, cast, client_for, student):
        client = client_for(cast.registrar_b)
        assert client.get(reverse("students:edit", args=[student.pk])).status_code == 404
        assert client.post(reverse("students:edit", args=[student.pk]), form_post(cast)).status_code == 404


class TestDelete:
    def test_registrar_deletes_a_draft_after_confirmation(self, cast, client_for, student):
        client = client_for(cast.registrar_a)
        assert "确认删除" in client.get(reverse("students:delete", args=[student.pk])).content.decode()
        assert client.post(reverse("students:delete", args=[student.pk])).status_code == 302
        assert not Student.objects.filter(pk=student.pk).exists()

    def test_inspector_is_403(self, cast, client_for, student):
        assert client_for(cast.inspector).post(reverse("students:delete", args=[student.pk])).status_code == 403
        assert Student.objects.filter(pk=student.pk).exists()

    def test_other_school_is_404(self, cast, client_for, student):
        assert client_for(cast.registrar_b).post(reverse("students:delete", args=[student.pk])).status_code == 404


class TestVerify:
    def test_registrar_verifies(self, cast, client_for, active):
        client = client_for(cast.registrar_a)
        assert client.get(reverse("students:verify", args=[active.pk])).status_code == 200
        assert client.post(reverse("students:verify", args=[active.pk])).status_code == 302
        active.refresh_from_db()
        assert active.number_kind == "G"
        event = AuditEvent.objects.filter(target_id=str(active.pk), message__startswith="核验学籍").get()
        assert event.ip_address == "127.0.0.1"

    def test_inspector_is_403(self, cast, client_for, active):
        assert client_for(cast.inspector).post(reverse("students:verify", args=[active.pk])).status_code == 403

    def test_other_school_is_404(self, cast, client_for, active):
        assert client_for(cast.registrar_b).post(reverse("students:verify", args=[active.pk])).status_code == 404


# --- the student's page, card, reveal ------------------------------------------------------------


class TestDetail:
    def test_shows_history_with_who_what_old_new_and_why(self, cast, client_for, active):
        from students.services import student_update

        student_update(actor=cast.registrar_a, student=active, data={"phone": "13911112222"},
                       members=[{"phone": "13633334444"}, {}], reason="家长更换手机号")
        body = client_for(cast.registrar_a).get(reverse("students:detail", args=[active.pk])).content.decode()
        assert "变更历史" in body and "家长更换手机号" in body and "张学籍" in body
        assert "联系电话" in body and "13911112222" in body and "13633334444" in body and "成员1" in body
        assert active.id_number not in body

    def test_shows_the_status_changes_panel_of_transfers(self, cast, client_for, student):
        body = client_for(cast.registrar_a).get(reverse("students:detail", args=[student.pk])).content.decode()
        assert "student-changes-title" in body

    def test_inspector_in_scope_may_view(self, cast, client_for, student):
        assert client_for(cast.inspector).get(reverse("students:detail", args=[student.pk])).status_code == 200

    def test_system_admin_in_scope_without_view_is_403(self, cast, client_for, student):
        assert client_for(cast.system_admin).get(reverse("students:detail", args=[student.pk])).status_code == 403

    def test_other_school_is_404(self, cast, client_for, student):
        assert client_for(cast.registrar_b).get(reverse("students:detail", args=[student.pk])).status_code == 404


class TestCard:
    def test_card_shows_whole_record_masked_and_is_logged(self, cast, client_for, student):
        response = client_for(cast.registrar_a).get(reverse("students:card", args=[student.pk]))
        body = response.content.decode()
        assert response.status_code == 200 and "学生学籍卡" in body and "@media print" in body
        assert "随班就读" in body and "家庭成员2" in body and "张大山" in body
        assert student.id_number not in body and student.masked_id_number in body
        event = AuditEvent.objects.get(kind="record_view")
        assert event.actor == cast.registrar_a and event.target_id == str(student.pk)

    def test_system_admin_is_403_and_not_logged(self, cast, client_for, student):
        assert client_for(cast.system_admin).get(reverse("students:card", args=[student.pk])).status_code == 403
        assert not AuditEvent.objects.filter(kind="record_view").exists()

    def test_other_school_is_404(self, cast, client_for, student):
        assert client_for(cast.registrar_b).get(reverse("students:card", args=[student.pk])).status_code == 404


class TestReveal:
    def test_registrar_reveals_once_and_it_is_logged(self, cast, client_for, student):
        client = client_for(cast.registrar_a)
        response = client.post(reverse("students:reveal", args=[student.pk]), HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and student.id_number in response.content.decode()
        assert response["Cache-Control"] == "no-store"
        assert AuditEvent.objects.filter(kind="id_reveal", actor=cast.registrar_a).count() == 1

    def test_family_member_reveal(self, cast, client_for, student):
        member = student.family_members.get(order=1)
        response = client_for(cast.registrar_a).post(reverse("students:reveal", args=[student.pk]), {"member": "1"})
        assert member.id_number in response.content.decode()

    def test_get_is_refused(self, cast, client_for, student):
        assert client_for(cast.registrar_a).get(reverse("students:reveal", args=[student.pk])).status_code == 405

    def test_inspector_is_403_and_nothing_logged(self, cast, client_for, student):
        assert client_for(cast.inspector).post(reverse("students:reveal", args=[student.pk])).status_code == 403
        assert not AuditEvent.objects.filter(kind="id_reveal").exists()

    def test_other_school_is_404(self, cast, client_for, student):
        assert client_for(cast.registrar_b).post(reverse("students:reveal", args=[student.pk])).status_code == 404

    @pytest.mark.parametrize("member", ["3", "x", "0", "\x00"])
    def test_bad_member_is_404(self, cast, client_for, student, member):
        response = client_for(cast.registrar_a).post(reverse("students:reveal", args=[student.pk]), {"member": member})
        assert response.status_code == 404


class TestIdCheck:
    def test_valid_number_fills_birth_date_and_gender(self, cast, client_for):
        number = id_number(birth=date(2017, 9, 1), gender="2")
        client = client_for(cast.registrar_a)
        response = client.post(reverse("students:id_check"), {"id_type": "1", "id_number": number})
        body = response.content.decode()
        assert response.status_code == 200 and 'value="2017-09-01"' in body and 'value="2" selected' in body
        assert 'hx-swap-oob="true"' in body

    def test_bad_number_gives_a_chinese_message(self, cast, client_for):
        response = client_for(cast.registrar_a).post(reverse("students:id_check"),
                                                     {"id_type": "1", "id_number": "340102201803051230"})
        assert response.status_code == 200 and "text-danger" in response.content.decode()

    def test_inspector_is_403(self, cast, client_for):
        assert client_for(cast.inspector).post(reverse("students:id_check"), {"id_number": "1"}).status_code == 403

    def test_invalid_utf8_never_500(self, cast, client_for):
        client = client_for(cast.registrar_a)
        body = "id_type=1&id_number=%ED%A0%80%FF&name=%C0%AF"
        for url in (reverse("students:id_check"), reverse("students:create")):
            response = client.post(url, body, content_type="application/x-www-form-urlencoded")
            assert response.status_code == 200

    @pytest.mark.parametrize("data", [{}, {"id_type": "\x00", "id_number": "1"},
                                      {"id_number": "9" * 100000}, {"id_type": "A", "id_number": "<>"},
                                      {"id_type": "1", "id_number": "34010219000229123X"}])
    def test_garbage_never_500(self, cast, client_for, data):
        assert client_for(cast.registrar_a).post(reverse("students:id_check"), data).status_code == 200
