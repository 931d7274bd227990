"""grants_prefetch and holds answer exactly what grants_for, held_codenames and has_unit_perm answer."""

import pytest

from schools.models import Region, School
from xueji.access import forget_grants, grants_for, grants_prefetch, has_unit_perm, held_codenames, holds
from xueji.scope import UNIT_PERMISSIONS

USERS = ["registrar_a", "approver_a", "head_teacher_a", "county_approver", "city_approver", "province_approver",
         "inspector", "system_admin", "other_province_approver", "nobody"]
CODENAMES = [c for c, _ in UNIT_PERMISSIONS]


@pytest.mark.django_db
@pytest.mark.parametrize("username", USERS)
def test_prefetch_fills_the_same_answers_in_one_query(cast, username, django_assert_num_queries):
    user = getattr(cast, username)
    expected = {c: grants_for(user, c) for c in [None, *CODENAMES]}
    codenames = held_codenames(user)
    forget_grants(user)
    with django_assert_num_queries(1):
        grants_prefetch(user)
        grants_prefetch(user)
        assert {c: grants_for(user, c) for c in [None, *CODENAMES]} == expected
        assert held_codenames(user) == codenames


@pytest.mark.django_db
@pytest.mark.parametrize("username", USERS)
def test_holds_agrees_with_has_unit_perm_on_regions_and_schools(cast, username):
    user = getattr(cast, username)
    units = list(Region.objects.all()) + list(School.objects.all())
    for unit in units:
        for codename in CODENAMES:
            assert holds(user, codename, unit) == has_unit_perm(user, codename, unit), (unit, codename)
