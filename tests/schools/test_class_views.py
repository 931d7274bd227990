"""Grade and class pages: generate grades, create a class, edit a class (trio, scope, errors)."""

import pytest
from django.urls import reverse

from schools.models import Grade, SchoolClass
from schools.services import school_create
from tests.schools.test_school_views import other_province_system_admin


@pytest.fixture
def bare_school(cast):
    """A nine-year school (5-4 学制) without grades, in 瑶海区."""
    return school_create(actor=None, school_code="3401020077", name="瑶海区九年一贯制学校", stage="nine_year",
                         primary_years=5, junior_years=4, region=cast.regions["340102"],
                         authority=cast.regions["340102"])


@pytest.mark.django_db
class TestGradesGenerate:
    def url(self, school):
        return reverse("schools:grades_generate", args=[school.pk])

    def test_system_admin_generates_all_grades_per_the_schools_years(self, cast, client_for, bare_school):
        response = client_for(cast.system_admin).post(self.url(bare_school), follow=True)
        names = list(Grade.objects.filter(school=bare_school).order_by("stage", "level")
                     .values_list("stage", "name"))
        assert [n for s, n in names if s == "primary"] == ["一年级", "二年级", "三年级", "四年级", "五年级"]
        assert [n for s, n in names if s == "junior"] == ["初一", "初二", "初三", "初四"]
        assert "已生成 9 个年级" in response.content.decode()
        assert Grade.objects.filter(school=bare_school).first().history.get().history_user == cast.system_admin

    def test_second_click_creates_nothing(self, cast, client_for, bare_school):
        client = client_for(cast.system_admin)
        client.post(self.url(bare_school))
        response = client.post(self.url(bare_school), follow=True)
        assert Grade.objects.filter(school=bare_school).count() == 9
        assert "所有年级均已存在" in response.content.decode()

    def test_get_is_not_allowed(self, cast, client_for, bare_school):
        assert client_for(cast.system_admin).get(self.url(bare_school)).status_code == 405

    def test_inspector_gets_403(self, cast, client_for, bare_school):
        assert client_for(cast.inspector).post(self.url(bare_school)).status_code == 403
        assert not Grade.objects.filter(school=bare_school).exists()

    def test_registrar_gets_403(self, cast, client_for):
        assert client_for(cast.registrar_a).post(self.url(cast.school_a)).status_code == 403

    def test_other_province_admin_gets_404(self, cast, client_for, bare_school):
        assert client_for(other_province_system_admin(cast)).post(self.url(bare_school)).status_code == 404
        assert not Grade.objects.filter(school=bare_school).exists()


@pytest.mark.django_db
class TestClassCreate:
    def url(self, school):
        return reverse("schools:class_create", args=[school.pk])

    def grade(self, cast, level=1):
        return Grade.objects.get(school=cast.school_a, stage="primary", level=level)

    def test_system_admin_creates_a_class_with_a_head_teacher(self, cast, client_for):
        grade = self.grade(cast)
        response = client_for(cast.system_admin).post(self.url(cast.school_a), {
            "grade": grade.pk, "number": 3, "name": "", "head_teacher": cast.head_teacher_a.pk})
        assert response.status_code == 302
        school_class = SchoolClass.objects.get(grade=grade, number=3)
        assert school_class.name == "一年级(3)班" and school_class.head_teacher == cast.head_teacher_a
        assert school_class.history.get().history_user == cast.system_admin

    def test_grade_is_preselected_from_the_link(self, cast, client_for):
        grade = self.grade(cast, 2)
        body = client_for(cast.system_admin).get(self.url(cast.school_a), {"grade": grade.pk}).content.decode()
        assert f'<option value="{grade.pk}" selected>' in body

    def test_head_teachers_offered_are_accounts_of_the_schools_region(self, cast, client_for):
        form = client_for(cast.system_admin).get(self.url(cast.school_a)).context["form"]
        offered = set(form.fields["head_teacher"].queryset.values_list("username", flat=True))
        assert {"head_teacher_a", "registrar_a", "county_approver"} <= offered
        assert "registrar_b" not in offered and "other_province_registrar" not in offered

    def test_taken_number_is_shown_next_to_the_field_and_input_kept(self, cast, client_for):
        response = client_for(cast.system_admin).post(self.url(cast.school_a), {
            "grade": self.grade(cast).pk, "number": 1, "name": "火箭班"})
        assert response.status_code == 200
        assert response.context["form"].errors["number"] == ["该年级已有此班号"]
        assert 'value="火箭班"' in response.content.decode()

    def test_grade_of_another_school_is_not_a_choice(self, cast, client_for):
        other_grade = Grade.objects.filter(school=cast.school_a2).first()
        response = client_for(cast.system_admin).post(self.url(cast.school_a), {"grade": other_grade.pk, "number": 9})
        assert "grade" in response.context["form"].errors
        assert not SchoolClass.objects.filter(grade=other_grade, number=9).exists()

    def test_bad_input_gives_field_errors(self, cast, client_for):
        response = client_for(cast.system_admin).post(self.url(cast.school_a), {
            "grade": "x", "number": "-4", "head_teacher": "999999"})
        assert response.status_code == 200
        assert {"grade", "number", "head_teacher"} <= set(response.context["form"].errors)

    def test_inspector_gets_403(self, cast, client_for):
        client = client_for(cast.inspector)
        assert client.get(self.url(cast.school_a)).status_code == 403
        assert client.post(self.url(cast.school_a), {"grade": self.grade(cast).pk, "number": 5}).status_code == 403

    def test_approver_of_the_school_gets_403(self, cast, client_for):
        assert client_for(cast.approver_a).get(self.url(cast.school_a)).status_code == 403

    def test_other_province_admin_gets_404(self, cast, client_for):
        client = client_for(other_province_system_admin(cast))
        assert client.post(self.url(cast.school_a), {"grade": self.grade(cast).pk, "number": 5}).status_code == 404
        assert not SchoolClass.objects.filter(grade=self.grade(cast), number=5).exists()


@pytest.mark.django_db
class TestClassUpdate:
    def url(self, school_class):
        return reverse("schools:class_update", args=[school_class.pk])

    def test_system_admin_renames_and_sets_the_head_teacher(self, cast, client_for):
        client = client_for(cast.system_admin)
        assert client.get(self.url(cast.class_a)).status_code == 200
        response = client.post(self.url(cast.class_a), {"name": "一年级火箭班", "head_teacher": cast.head_teacher_a.pk})
        assert response.status_code == 302
        cast.class_a.refresh_from_db()
        assert cast.class_a.name == "一年级火箭班" and cast.class_a.head_teacher == cast.head_teacher_a
        assert cast.class_a.history.first().history_user == cast.system_admin

    def test_clearing_the_head_teacher(self, cast, client_for):
        from schools.services import class_update

        class_update(actor=None, school_class=cast.class_a, head_teacher=cast.head_teacher_a)
        client_for(cast.system_admin).post(self.url(cast.class_a), {"name": cast.class_a.name, "head_teacher": ""})
        cast.class_a.refresh_from_db()
        assert cast.class_a.head_teacher is None

    def test_empty_name_is_an_error_next_to_the_field(self, cast, client_for):
        response = client_for(cast.system_admin).post(self.url(cast.class_a), {"name": ""})
        assert response.status_code == 200 and "name" in response.context["form"].errors

    def test_head_teacher_of_the_class_gets_403(self, cast, client_for):
        # head_teacher_a holds take_roll on this very class, but not manage_units.
        assert client_for(cast.head_teacher_a).post(self.url(cast.class_a), {"name": "x"}).status_code == 403

    def test_inspector_gets_403(self, cast, client_for):
        assert client_for(cast.inspector).post(self.url(cast.class_a), {"name": "x"}).status_code == 403
        cast.class_a.refresh_from_db()
        assert cast.class_a.name == "一年级(1)班"

    def test_other_province_admin_gets_404(self, cast, client_for):
        client = client_for(other_province_system_admin(cast))
        assert client.get(self.url(cast.class_a)).status_code == 404
        assert client.post(self.url(cast.class_a), {"name": "x"}).status_code == 404
