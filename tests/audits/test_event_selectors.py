"""Where audit events are placed when recorded, and which audit administrator reads them
(audits.services.audit_record, audits.selectors.event_list / event_for_user)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import role_grant, user_create
from agreements import services as agreement_services
from audits import selectors
from audits.models import AuditEvent
from audits.services import audit_record
from audits.tasks import heartbeat
from students.models import StudentStatus
from tests.cast import PASSWORD
from tests.students.helpers import make_student

pytestmark = pytest.mark.django_db


def audit_admin_on(cast, code: str, username: str) -> User:
    user = user_create(actor=None, username=username, real_name="测审计", password=PASSWORD,
                       home_region=cast.regions[code], must_change_password=False)
    role_grant(actor=None, user=user, role=Role.AUDIT_ADMIN, unit=cast.regions[code])
    return user


@pytest.fixture
def admins(cast):
    """Audit administrators of 安徽省 (the cast's), 湖北省 and 合肥市 (fresh from the database)."""
    hubei = audit_admin_on(cast, "420000", "hubei_audit_admin")
    hefei = audit_admin_on(cast, "340100", "hefei_audit_admin")
    return {name: User.objects.get(pk=user.pk)
            for name, user in (("anhui", cast.audit_admin), ("hubei", hubei), ("hefei", hefei))}


def readers(admins, event: AuditEvent) -> set[str]:
    """Which of ``admins`` see ``event`` in their audit log."""
    return {name for name, user in admins.items() if selectors.event_list(user).filter(pk=event.pk).exists()}


def fail_login(client, username: str) -> AuditEvent:
    client.post(reverse("accounts:login"), {"username": username, "password": "wrong-password-1"})
    return AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN_FAILURE).latest("id")


class TestFailedLogins:
    def test_an_unknown_username_has_no_region_and_is_read_by_every_province_audit_admin(self, cast, client,
                                                                                          admins):
        event = fail_login(client, "no_such_user")

        assert (event.actor_username, event.unit_path) == ("no_such_user", "")
        assert readers(admins, event) == {"anhui", "hubei"}

    def test_a_known_username_belongs_to_its_accounts_region_only(self, cast, client, admins):
        event = fail_login(client, "registrar_a")

        assert event.unit_path == cast.regions["340102"].scope_path
        assert readers(admins, event) == {"anhui", "hefei"}

    def test_a_hubei_account_is_not_read_in_anhui(self, cast, client, admins):
        event = fail_login(client, "other_province_registrar")

        assert readers(admins, event) == {"hubei"}


class TestPlacing:
    def test_an_event_without_a_unit_goes_under_the_actors_home_region(self, cast, admins):
        # As transfers.services.transfer_lookup records it: an actor, no unit.
        event = audit_record(actor=cast.registrar_a, kind=AuditEvent.Kind.RECORD_VIEW, message="转学查询：未找到")

        assert (event.unit_path, event.unit_name) == (cast.regions["340102"].scope_path, "瑶海区")
        assert readers(admins, event) == {"anhui", "hefei"}

    def test_a_guardians_login_goes_under_the_childs_school(self, cast, client, admins):
        child = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, approver=cast.approver_a)
        _, code = agreement_services.invitation_create(actor=cast.registrar_a, student=child, guardian_name="张大山")
        agreement_services.invitation_redeem(code=code, username="zhang_parent", password="Family2026ok")

        client.post(reverse("accounts:login"), {"username": "zhang_parent", "password": "Family2026ok"})

        event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_SUCCESS, actor_username="zhang_parent")
        assert event.unit_path == cast.school_a.scope_path
        assert readers(admins, event) == {"anhui", "hefei"}

    def test_the_heartbeat_has_no_region(self, cast, admins):
        event = AuditEvent.objects.get(pk=heartbeat.delay().get())

        assert event.unit_path == ""
        assert readers(admins, event) == {"anhui", "hubei"}

    def test_the_log_stays_append_only(self, cast):
        event = audit_record(actor=None, username="ghost", kind=AuditEvent.Kind.LOGIN_FAILURE)

        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).update(unit_path="340000/")
        with pytest.raises(PermissionError):
            event.save()


class TestEventForUser:
    def test_the_access_rule_for_an_event_without_a_region(self, cast, admins):
        event = audit_record(actor=None, username="ghost", kind=AuditEvent.Kind.LOGIN_FAILURE)

        assert selectors.event_for_user(admins["hubei"], event.pk) == event
        with pytest.raises(PermissionDenied):
            selectors.event_for_user(cast.security_admin, event.pk)
        with pytest.raises(Http404):
            selectors.event_for_user(admins["hefei"], event.pk)

    def test_the_access_rule_for_an_event_placed_in_anhui(self, cast, admins):
        event = audit_record(actor=cast.registrar_a, kind=AuditEvent.Kind.RECORD_VIEW)

        assert selectors.event_for_user(admins["hefei"], event.pk) == event
        with pytest.raises(Http404):
            selectors.event_for_user(admins["hubei"], event.pk)
        with pytest.raises(PermissionDenied):
            selectors.event_for_user(cast.county_approver, event.pk)
        with pytest.raises(Http404):
            selectors.event_for_user(cast.other_county_approver, event.pk)

    def test_a_missing_event_is_404(self, cast):
        with pytest.raises(Http404):
            selectors.event_for_user(cast.audit_admin, 10**9)
