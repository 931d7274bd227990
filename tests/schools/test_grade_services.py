"""schools.services.grades_create_all: every grade of every stage per the school's 学制."""

import pytest
from django.core.exceptions import PermissionDenied

from schools.models import Grade
from schools.services import grade_create, grades_create_all, school_create


@pytest.mark.django_db
class TestGradesCreateAll:
    def test_creates_the_grades_of_each_stage_per_its_years(self, cast):
        school = school_create(actor=None, school_code="3401020088", name="完全中学", stage="complete_middle",
                               junior_years=3, region=cast.regions["340102"], authority=cast.regions["340102"])
        created = grades_create_all(actor=cast.system_admin, school=school)
        assert [g.code for g in created] == ["21", "22", "23", "31", "32", "33"]
        assert all(g.history.get().history_user == cast.system_admin for g in created)

    def test_keeps_existing_grades_and_fills_the_gaps(self, cast):
        school = school_create(actor=None, school_code="3401020089", name="新小学", stage="primary",
                               primary_years=5, region=cast.regions["340102"], authority=cast.regions["340102"])
        for level in (1, 3):
            grade_create(actor=None, school=school, stage="primary", level=level)
        created = grades_create_all(actor=cast.system_admin, school=school)
        assert [g.name for g in created] == ["二年级", "四年级", "五年级"]
        assert grades_create_all(actor=cast.system_admin, school=school) == []
        assert Grade.objects.filter(school=school).count() == 5

    def test_needs_manage_units_on_the_school(self, cast):
        with pytest.raises(PermissionDenied):
            grades_create_all(actor=cast.approver_a, school=cast.school_a)
        with pytest.raises(PermissionDenied):
            grades_create_all(actor=cast.other_security_admin, school=cast.school_a)
