"""The access layer: scope by region path, school and class; 404 outside, 403 without the right."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from schools.models import Region, School, SchoolClass
from xueji.access import get_for_user, has_unit_perm, scoped


@pytest.mark.django_db
class TestScoped:
    def test_county_approver_sees_only_schools_of_the_county(self, cast):
        names = set(scoped(cast.county_approver, School.objects.all(), "view_students").values_list("name", flat=True))
        assert names == {"瑶海区第一小学", "瑶海区第二小学"}

    def test_city_approver_sees_the_county_schools_and_city_schools(self, cast):
        codes = set(scoped(cast.city_approver, School.objects.all()).values_list("school_code", flat=True))
        assert codes == {"3401020001", "3401020002", "3401040001", "3401000001"}

    def test_school_registrar_sees_only_own_school(self, cast):
        assert list(scoped(cast.registrar_a, School.objects.all())) == [cast.school_a]

    def test_head_teacher_sees_only_own_class(self, cast):
        assert list(scoped(cast.head_teacher_a, SchoolClass.objects.all())) == [cast.class_a]

    def test_user_without_grants_sees_nothing(self, cast):
        assert not scoped(cast.nobody, School.objects.all()).exists()

    def test_codename_narrows_scope(self, cast):
        # The system admin manages the province's units but reads no student data.
        assert scoped(cast.system_admin, School.objects.all(), "manage_units").count() == 4
        assert not scoped(cast.system_admin, School.objects.all(), "view_students").exists()

    def test_scoped_is_one_query_for_grants_and_one_for_rows(self, cast, django_assert_num_queries):
        user = type(cast.city_approver).objects.get(pk=cast.city_approver.pk)
        with django_assert_num_queries(2):
            # 1. the user's grants (UNION over three permission tables)  2. the schools
            list(scoped(user, School.objects.all(), "view_students"))


@pytest.mark.django_db
class TestHasUnitPerm:
    def test_region_grant_reaches_schools_below_at_any_depth(self, cast):
        assert has_unit_perm(cast.province_approver, "approve_changes", cast.school_a)
        assert has_unit_perm(cast.city_approver, "approve_changes", cast.class_a)

    def test_grant_does_not_reach_sideways_or_up(self, cast):
        assert not has_unit_perm(cast.county_approver, "approve_changes", cast.school_b)
        assert not has_unit_perm(cast.county_approver, "approve_changes", cast.regions["340100"])
        assert not has_unit_perm(cast.registrar_a, "edit_students", cast.school_a2)

    def test_role_without_the_right_is_refused(self, cast):
        assert has_unit_perm(cast.inspector, "view_students", cast.school_a)
        assert not has_unit_perm(cast.inspector, "edit_students", cast.school_a)

    def test_other_province_is_outside(self, cast):
        assert not has_unit_perm(cast.other_province_registrar, "view_students", cast.school_a)

    def test_is_one_query(self, cast, django_assert_num_queries):
        with django_assert_num_queries(1):
            has_unit_perm(cast.province_approver, "approve_changes", cast.class_a)

    def test_global_permission_never_widens_object_access(self, cast):
        from django.contrib.auth.models import Permission

        perm = Permission.objects.get(codename="approve_changes", content_type__model="school")
        cast.registrar_b.user_permissions.add(perm)
        assert not has_unit_perm(cast.registrar_b, "approve_changes", cast.school_a)

    def test_inactive_user_has_no_rights(self, cast):
        cast.registrar_a.is_active = False
        assert not has_unit_perm(cast.registrar_a, "view_students", cast.school_a)


@pytest.mark.django_db
class TestGetForUser:
    def test_allowed(self, cast):
        school = get_for_user(cast.registrar_a, School.objects.all(), "edit_students", pk=cast.school_a.pk)
        assert school == cast.school_a

    def test_outside_scope_is_404(self, cast):
        with pytest.raises(Http404):
            get_for_user(cast.registrar_a, School.objects.all(), "edit_students", pk=cast.school_b.pk)

    def test_in_scope_without_right_is_403(self, cast):
        with pytest.raises(PermissionDenied):
            get_for_user(cast.inspector, School.objects.all(), "edit_students", pk=cast.school_a.pk)

    def test_regions_scope_by_path(self, cast):
        regions = set(scoped(cast.city_approver, Region.objects.all()).values_list("code", flat=True))
        assert regions == {"340100", "340102", "340104"}
