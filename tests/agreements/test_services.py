"""Services: issuing, signing, freezing, registrar grant activation, invitations, registration rule."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role, RoleGrant
from accounts.services import role_grant, user_create
from agreements import services
from agreements.models import Agreement, AgreementKind, AgreementStatus, AgreementTemplate, GuardianLink, Signature
from audits.models import AuditEvent
from xueji.access import has_unit_perm
from xueji.history import save_with_history

D = datetime.date
pytestmark = pytest.mark.django_db


def registrar_grant(cast, user=None, school=None):
    return RoleGrant.objects.get(user=user or cast.registrar_a, role=Role.REGISTRAR, school=school or cast.school_a)


def guardian_for(cast, student, name="许家长", username="parent1"):
    _, code = services.invitation_create(actor=cast.registrar_a, student=student, guardian_name=name)
    user, _ = services.invitation_redeem(code=code, username=username, password="Family2026ok")
    return user


class TestRegistrarAgreement:
    def test_new_registrar_grant_is_inactive_until_both_sign(self, cast, require_agreement):
        user = user_create(actor=None, username="new_registrar", real_name="新学籍", password="x",
                           home_region=cast.regions["340102"])
        grant = role_grant(actor=cast.security_admin, user=user, role=Role.REGISTRAR, unit=cast.school_a)
        grant.refresh_from_db()
        assert not grant.is_active and grant.inactive_reason == "本学年学籍管理员责任书尚未签订"
        assert not has_unit_perm(user, "edit_students", cast.school_a)

        ag = services.registrar_agreement_issue(actor=cast.approver_a, grant=grant)
        services.agreement_sign(actor=user, agreement=ag, confirmed=True, ip_address="10.0.0.8")
        grant.refresh_from_db()
        assert not grant.is_active  # one side only
        services.agreement_sign(actor=cast.approver_a, agreement=ag, confirmed=True, ip_address="10.0.0.9")
        grant.refresh_from_db()
        ag.refresh_from_db()
        assert ag.status == AgreementStatus.SIGNED and grant.is_active and grant.inactive_reason == ""
        assert has_unit_perm(type(user).objects.get(pk=user.pk), "edit_students", cast.school_a)
        sig = ag.signatures.get(party="b")
        assert (sig.signer, sig.ip_address, sig.method) == (user, "10.0.0.8", Signature.Method.ONLINE)

    def test_the_contract_function(self, cast, require_agreement):
        grant = registrar_grant(cast)
        assert services.registrar_grant_should_be_active(grant) == (False, "本学年学籍管理员责任书尚未签订")
        require_agreement.XUEJI_REQUIRE_REGISTRAR_AGREEMENT = False
        assert services.registrar_grant_should_be_active(grant) == (True, "")
        approver = RoleGrant.objects.get(user=cast.approver_a, role=Role.APPROVER)
        assert services.registrar_grant_should_be_active(approver) == (True, "")

    def test_sync_deactivates_after_the_school_year_turns(self, cast, require_agreement):
        grant = registrar_grant(cast)
        ag = services.registrar_agreement_issue(actor=cast.approver_a, grant=grant)
        services.agreement_sign(actor=cast.registrar_a, agreement=ag, confirmed=True)
        services.agreement_sign(actor=cast.approver_a, agreement=ag, confirmed=True)
        assert services.registrar_grants_sync(school_ids=[cast.school_a.pk]) == 0
        next_year = D(ag.school_year + 1, 9, 1)
        assert services.registrar_grants_sync(school_ids=[cast.school_a.pk], today=next_year) == 1
        grant.refresh_from_db()
        assert not grant.is_active

    def test_only_the_schools_own_approver_issues_and_signs(self, cast):
        grant = registrar_grant(cast)
        with pytest.raises(PermissionDenied):
            services.registrar_agreement_issue(actor=cast.county_approver, grant=grant)
        ag = services.registrar_agreement_issue(actor=cast.approver_a, grant=grant)
        with pytest.raises(PermissionDenied):
            services.agreement_sign(actor=cast.county_approver, agreement=ag, confirmed=True)
        with pytest.raises(PermissionDenied):
            services.agreement_sign(actor=cast.registrar_a2, agreement=ag, confirmed=True)
        with pytest.raises(ValidationError):
            services.agreement_sign(actor=cast.registrar_a, agreement=ag, confirmed=False)
        with pytest.raises(ValidationError):
            services.registrar_agreement_issue(actor=cast.approver_a, grant=grant)

    def test_signed_agreement_is_frozen_against_template_edits(self, cast):
        version = services.template_create_version(actor=cast.system_admin, kind="registrar", unit=cast.school_a)
        services.template_update(actor=cast.system_admin, template=version, clauses="第一版条款：{乙方}按时录入。")
        ag = services.registrar_agreement_issue(actor=cast.approver_a, grant=registrar_grant(cast))
        services.agreement_sign(actor=cast.registrar_a, agreement=ag, confirmed=True)
        services.agreement_sign(actor=cast.approver_a, agreement=ag, confirmed=True)
        services.template_update(actor=cast.system_admin, template=version, clauses="第二版条款，完全不同。")
        ag.refresh_from_db()
        assert ag.clauses == "第一版条款：张学籍按时录入。"
        with pytest.raises(ValidationError):
            services.agreement_sign(actor=cast.approver_a, agreement=ag, confirmed=True)
        assert ag.history.count() >= 3
        assert AuditEvent.objects.filter(kind=AuditEvent.Kind.DECISION, target_id=str(ag.pk)).count() == 2


class TestTemplates:
    def test_school_version_beats_province_beats_national(self, cast):
        from agreements.selectors import template_for

        national = template_for("registrar", school=cast.school_a)
        assert national.region_id is None and national.school_id is None
        prov = services.template_create_version(actor=cast.system_admin, kind="registrar",
                                                unit=cast.regions["340000"])
        assert template_for("registrar", school=cast.school_a) == prov
        school = services.template_create_version(actor=cast.system_admin, kind="registrar", unit=cast.school_a)
        assert template_for("registrar", school=cast.school_a) == school
        assert template_for("registrar", school=cast.school_b) == prov
        assert template_for("registrar", school=cast.other_school) == national

    def test_national_text_is_read_only_and_versions_need_the_units_system_admin(self, cast):
        national = AgreementTemplate.objects.get(kind="liability", region=None, school=None)
        with pytest.raises(PermissionDenied):
            services.template_update(actor=cast.system_admin, template=national, title="改")
        with pytest.raises(PermissionDenied):
            services.template_create_version(actor=cast.approver_a, kind="liability", unit=cast.school_a)
        with pytest.raises(ValidationError):
            services.template_create_version(actor=cast.system_admin, kind="liability", unit=cast.regions["340100"])


class TestInterLevel:
    def test_city_issues_to_every_unit_below_in_one_action(self, cast):
        created = services.inter_level_issue_all(actor=cast.city_approver, region=cast.regions["340100"])
        names = sorted(str(a.party_unit) for a in created)
        assert names == sorted(["瑶海区", "蜀山区", "合肥市第一中学"])
        assert services.inter_level_issue_all(actor=cast.city_approver, region=cast.regions["340100"]) == []

    def test_each_sides_head_signs(self, cast):
        created = services.inter_level_issue_all(actor=cast.city_approver, region=cast.regions["340100"])
        ag = next(a for a in created if a.party_region_id == "340102")
        with pytest.raises(PermissionDenied):
            services.agreement_sign(actor=cast.other_county_approver, agreement=ag, confirmed=True)
        services.agreement_sign(actor=cast.county_approver, agreement=ag, confirmed=True)
        services.agreement_sign(actor=cast.city_approver, agreement=ag, confirmed=True)
        ag.refresh_from_db()
        assert ag.status == AgreementStatus.SIGNED
        assert {s.party: s.signer for s in ag.signatures.all()} == {"a": cast.city_approver, "b": cast.county_approver}

    def test_only_the_units_own_head_issues(self, cast):
        with pytest.raises(PermissionDenied):
            services.inter_level_issue_all(actor=cast.province_approver, region=cast.regions["340100"])
        with pytest.raises(PermissionDenied):
            services.inter_level_issue_all(actor=cast.registrar_a, region=cast.regions["340102"])

    def test_reminder_reaches_the_unsigned_side(self, cast):
        from transfers.models import Notification

        created = services.inter_level_issue_all(actor=cast.city_approver, region=cast.regions["340100"])
        ag = next(a for a in created if a.party_region_id == "340102")
        assert services.agreement_remind(actor=cast.city_approver, agreement=ag) == 1
        assert Notification.objects.filter(user=cast.county_approver).count() == 1
        ag.refresh_from_db()
        assert ag.reminder_count == 1
        with pytest.raises(PermissionDenied):
            services.agreement_remind(actor=cast.county_approver, agreement=ag)


class TestLiabilityForm:
    def test_issue_fills_the_form_from_the_record(self, cast, make_child):
        child = make_child(birth=D(2020, 9, 1))
        form = services.liability_form_issue(actor=cast.registrar_a, student=child)
        assert form.facts["学生姓名"] == "张小明" and form.facts["性别"] == "男"
        assert form.facts["监护人电话"] == "13900000001" and form.facts["民族"] == "汉族"
        assert "张小明" in form.clauses

    @pytest.mark.parametrize("birth", [D(2020, 8, 31), D(2020, 11, 1), D(2020, 2, 29)])
    def test_children_outside_the_window_get_no_form(self, cast, make_child, birth):
        with pytest.raises(ValidationError):
            services.liability_form_issue(actor=cast.registrar_a, student=make_child(birth=birth))

    def test_guardian_signs_then_school_confirms_and_the_form_is_frozen(self, cast, make_child):
        child = make_child(birth=D(2020, 10, 31))
        form = services.liability_form_issue(actor=cast.registrar_a, student=child)
        parent = guardian_for(cast, child)
        with pytest.raises(ValidationError):
            services.agreement_sign(actor=cast.approver_a, agreement=form, confirmed=True)  # guardian first
        with pytest.raises(ValidationError):
            services.liability_form_guardian_sign(actor=parent, agreement=form, typed_name="许家", confirmed=True)
        services.liability_form_guardian_sign(actor=parent, agreement=form, typed_name=" 许 家长", confirmed=True,
                                              ip_address="192.0.2.5")
        services.agreement_sign(actor=cast.approver_a, agreement=form, confirmed=True)
        form.refresh_from_db()
        assert form.status == AgreementStatus.SIGNED
        # Later edits of the record do not change the signed form.
        child.name = "张大明"
        save_with_history(child, actor=cast.registrar_a, reason="测试", update_fields=["name"])
        form.refresh_from_db()
        assert form.facts["学生姓名"] == "张小明"

    def test_another_guardian_cannot_sign(self, cast, make_child):
        child = make_child(birth=D(2020, 9, 10))
        other = make_child(name="李小红", birth=D(2020, 9, 11), guardian="李妈妈")
        form = services.liability_form_issue(actor=cast.registrar_a, student=child)
        stranger = guardian_for(cast, other, name="李妈妈", username="parent2")
        with pytest.raises(PermissionDenied):
            services.liability_form_guardian_sign(actor=stranger, agreement=form, typed_name="许家长", confirmed=True)

    def test_paper_signature_with_scan_and_maker_checker(self, cast, make_child, tmp_path):
        from django.core.files.uploadedfile import SimpleUploadedFile

        child = make_child(birth=D(2020, 9, 20))
        form = services.liability_form_issue(actor=cast.registrar_a, student=child)
        bad = SimpleUploadedFile("scan.pdf", b"not a pdf at all", content_type="application/pdf")
        with pytest.raises(ValidationError):
            services.liability_form_paper_record(actor=cast.registrar_a, agreement=form, signer_name="许家长", scan=bad)
        big = SimpleUploadedFile("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * (2 * 1024 * 1024), content_type="image/png")
        with pytest.raises(ValidationError):
            services.liability_form_paper_record(actor=cast.registrar_a, agreement=form, signer_name="许家长", scan=big)
        sig = services.liability_form_paper_record(actor=cast.registrar_a, agreement=form, signer_name="许家长",
                                                   scan=png_upload())
        assert sig.method == Signature.Method.PAPER and sig.scan_path
        from django.conf import settings

        assert (settings.PRIVATE_MEDIA_ROOT / sig.scan_path).exists()
        services.agreement_sign(actor=cast.approver_a, agreement=form, confirmed=True)
        assert Agreement.objects.get(pk=form.pk).status == AgreementStatus.SIGNED


class TestRegistrationRule:
    def test_cohort_child_blocks_until_signed_and_confirmed(self, cast, make_child):
        child = make_child(birth=D(2020, 9, 1))
        normal = make_child(name="王正常", birth=D(2020, 8, 31), guardian="王爸爸")
        young = make_child(name="赵太小", birth=D(2020, 11, 1), guardian="赵爸爸")
        problems = services.liability_form_required_unsigned([child, normal, young])
        assert [s.name for s, _ in problems] == ["张小明", "赵太小"]
        assert "责任书尚未签订" in problems[0][1] and "不能注册" in problems[1][1]
        form = services.liability_form_issue(actor=cast.registrar_a, student=child)
        parent = guardian_for(cast, child)
        services.liability_form_guardian_sign(actor=parent, agreement=form, typed_name="许家长", confirmed=True)
        assert [s.name for s, _ in services.liability_form_required_unsigned([child])] == ["张小明"]
        services.agreement_sign(actor=cast.approver_a, agreement=form, confirmed=True)
        assert services.liability_form_required_unsigned([child, normal]) == []

    def test_batch_costs_two_queries(self, cast, make_child, django_assert_num_queries):
        kids = [make_child(name=f"孩子{i}", birth=D(2020, 9, 1 + i), guardian=f"家长{i}") for i in range(5)]
        kids = list(type(kids[0]).objects.filter(pk__in=[k.pk for k in kids]).select_related("grade"))
        with django_assert_num_queries(2):
            # 1. provincial windows  2. signed forms among the batch
            assert len(services.liability_form_required_unsigned(kids)) == 5


class TestInvitations:
    def test_code_is_hashed_single_use_and_expires(self, cast, make_child):
        child = make_child()
        inv, code = services.invitation_create(actor=cast.registrar_a, student=child, guardian_name="许家长")
        assert code not in inv.code_hash and len(code) == 14
        user, link = services.invitation_redeem(code=code.lower(), username="p1", password="Family2026ok")
        assert link.student == child and RoleGrant.objects.get(user=user).role == Role.GUARDIAN
        assert user.home_region is None
        with pytest.raises(ValidationError) as exc:
            services.invitation_redeem(code=code, username="p2", password="Family2026ok")
        assert "code" in exc.value.message_dict
        _, code2 = services.invitation_create(actor=cast.registrar_a, student=child, guardian_name="许家长", days=0)
        with pytest.raises(ValidationError):
            services.invitation_redeem(code=code2, username="p3", password="Family2026ok")

    def test_guardian_name_must_be_on_the_record(self, cast, make_child):
        child = make_child()
        with pytest.raises(ValidationError):
            services.invitation_create(actor=cast.registrar_a, student=child, guardian_name="陌生人")
        with pytest.raises(PermissionDenied):
            services.invitation_create(actor=cast.registrar_b, student=child, guardian_name="许家长")

    def test_weak_password_is_a_field_error(self, cast, make_child):
        _, code = services.invitation_create(actor=cast.registrar_a, student=make_child(), guardian_name="许家长")
        with pytest.raises(ValidationError) as exc:
            services.invitation_redeem(code=code, username="p1", password="123")
        assert "password" in exc.value.message_dict
        assert not GuardianLink.objects.exists()


def png_upload():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, format="PNG")
    return SimpleUploadedFile("scan.png", buf.getvalue(), content_type="image/png")


def test_kinds_are_three():
    assert {k for k, _ in AgreementKind.choices} == {"registrar", "inter_level", "liability"}
