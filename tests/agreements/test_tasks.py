import pytest

from accounts.models import Role, RoleGrant
from agreements.tasks import registrar_grants_sync


@pytest.mark.django_db
def test_daily_sync_holds_back_registrars_without_this_years_agreement(cast, require_agreement):
    assert registrar_grants_sync.delay().get() == 4  # the cast's four school registrars
    grant = RoleGrant.objects.get(user=cast.registrar_a, role=Role.REGISTRAR)
    assert not grant.is_active and grant.inactive_reason == "本学年学籍管理员责任书尚未签订"
    # Region-level registrars are not concerned.
    assert RoleGrant.objects.get(user=cast.county_registrar, role=Role.REGISTRAR).is_active
