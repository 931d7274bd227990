"""Pages: the trio (allowed / in scope without the right → 403 / other unit → 404) for every view,
query counts on the list pages, PDF and print."""

import datetime
import io

import pytest
from django.urls import reverse

from accounts.models import Role, RoleGrant
from agreements import services
from agreements.models import Agreement, AgreementStatus, AgreementTemplate
from tests.agreements.test_services import png_upload

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def form(cast, make_child):
    """A liability form issued for 张小明 (born 2020-09-15) at school_a."""
    return services.liability_form_issue(actor=cast.registrar_a, student=make_child())


@pytest.fixture
def reg_agreement(cast):
    grant = RoleGrant.objects.get(user=cast.registrar_a, role=Role.REGISTRAR, school=cast.school_a)
    return services.registrar_agreement_issue(actor=cast.approver_a, grant=grant)


def url(name, *args):
    return reverse(f"agreements:{name}", args=args)


class TestIndex:
    def test_lists_agreements_in_scope_only(self, cast, client_for, reg_agreement):
        assert "学籍管理员责任书" in client_for(cast.county_approver).get(url("index")).content.decode()
        body = client_for(cast.other_province_approver).get(url("index")).content.decode()
        assert f'href="{url("detail", reg_agreement.pk)}"' not in body

    def test_awaiting_my_signature(self, cast, client_for, reg_agreement):
        body = client_for(cast.approver_a).get(url("index")).content.decode()
        assert "待我签署" in body

    def test_query_count(self, cast, client_for, reg_agreement, django_assert_max_num_queries):
        client = client_for(cast.county_approver)
        client.get(url("index"))
        services.inter_level_issue_all(actor=cast.county_approver, region=cast.regions["340102"])
        # 1 session 2 user 3 grants (view_students) 4 head units 5 awaiting agreements 6 their signatures
        # 7 count 8 held codenames (nav) 9 unread messages (nav) 10 page rows (parties joined)
        # 11-13 session save (savepoint, update, release)
        with django_assert_max_num_queries(13):
            response = client.get(url("index"), {"q": "", "sort": "kind"})
        assert response.status_code == 200


class TestDetail:
    def test_allowed(self, cast, client_for, form):
        body = client_for(cast.registrar_a).get(url("detail", form.pk)).content.decode()
        assert "张小明" in body and form.title in body

    def test_in_scope_without_right_is_403(self, cast, client_for, form):
        assert client_for(cast.system_admin).get(url("detail", form.pk)).status_code == 403

    def test_other_unit_is_404(self, cast, client_for, form):
        assert client_for(cast.registrar_b).get(url("detail", form.pk)).status_code == 404

    def test_registrar_reaches_own_agreement_while_grant_inactive(self, cast, client_for, require_agreement):
        from accounts.services import role_grant, user_create

        user = user_create(actor=None, username="newreg", real_name="新学籍", password="x",
                           home_region=cast.regions["340102"], must_change_password=False)
        grant = role_grant(actor=None, user=user, role=Role.REGISTRAR, unit=cast.school_a)
        ag = services.registrar_agreement_issue(actor=cast.approver_a, grant=grant)
        client = client_for(user)
        assert "本学年学籍管理员责任书尚未签订" in client.get(reverse("home")).content.decode()
        assert client.get(url("mine")).status_code == 200
        assert client.post(url("sign", ag.pk), {"confirmed": "on"}).status_code == 302
        client_for(cast.approver_a).post(url("sign", ag.pk), {"confirmed": "on"})
        grant.refresh_from_db()
        assert grant.is_active


class TestSign:
    def test_allowed_records_ip(self, cast, client_for, reg_agreement):
        response = client_for(cast.registrar_a).post(url("sign", reg_agreement.pk), {"confirmed": "on"},
                                                     REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 302
        assert reg_agreement.signatures.get().ip_address == "203.0.113.7"

    def test_unticked_confirmation_is_a_field_error(self, cast, client_for, reg_agreement):
        response = client_for(cast.registrar_a).post(url("sign", reg_agreement.pk), {})
        assert response.status_code == 400 and "请勾选确认后再签署" in response.content.decode()

    def test_wrong_role_is_403(self, cast, client_for, reg_agreement):
        assert client_for(cast.inspector).post(url("sign", reg_agreement.pk), {"confirmed": "on"}).status_code == 403

    def test_other_unit_is_404(self, cast, client_for, reg_agreement):
        response = client_for(cast.other_province_approver).post(url("sign", reg_agreement.pk), {"confirmed": "on"})
        assert response.status_code == 404


class TestRemindAndVoid:
    def test_remind_allowed(self, cast, client_for, reg_agreement):
        assert client_for(cast.approver_a).post(url("remind", reg_agreement.pk)).status_code == 302
        reg_agreement.refresh_from_db()
        assert reg_agreement.reminder_count == 1

    def test_remind_wrong_role_403(self, cast, client_for, reg_agreement):
        assert client_for(cast.registrar_a).post(url("remind", reg_agreement.pk)).status_code == 403

    def test_remind_other_unit_404(self, cast, client_for, reg_agreement):
        assert client_for(cast.approver_b).post(url("remind", reg_agreement.pk)).status_code == 404

    def test_void_allowed(self, cast, client_for, reg_agreement):
        client = client_for(cast.approver_a)
        assert client.get(url("void", reg_agreement.pk)).status_code == 200
        assert "请填写作废原因" in client.post(url("void", reg_agreement.pk), {"reason": ""}).content.decode()
        assert client.post(url("void", reg_agreement.pk), {"reason": "人员调整"}).status_code == 302
        reg_agreement.refresh_from_db()
        assert reg_agreement.status == AgreementStatus.VOID

    def test_void_wrong_role_403(self, cast, client_for, reg_agreement):
        assert client_for(cast.inspector).get(url("void", reg_agreement.pk)).status_code == 403

    def test_void_other_unit_404(self, cast, client_for, reg_agreement):
        assert client_for(cast.other_province_approver).get(url("void", reg_agreement.pk)).status_code == 404


class TestPaperAndScan:
    def test_paper_allowed_then_scan_served_privately(self, cast, client_for, form):
        client = client_for(cast.registrar_a)
        response = client.post(url("paper", form.pk), {"signer_name": "许家长", "scan": png_upload()})
        assert response.status_code == 302
        scan = client_for(cast.approver_a).get(url("scan", form.pk))
        assert scan.status_code == 200 and scan["Content-Type"] == "image/png"

    def test_paper_bad_file_keeps_input(self, cast, client_for, form):
        from django.core.files.uploadedfile import SimpleUploadedFile

        bad = SimpleUploadedFile("x.jpg", b"GIF89a....", content_type="image/jpeg")
        body = client_for(cast.registrar_a).post(url("paper", form.pk), {"signer_name": "许家长", "scan": bad})
        assert "只接受 JPG、PNG 或 PDF" in body.content.decode() and 'value="许家长"' in body.content.decode()

    def test_paper_wrong_role_403(self, cast, client_for, form):
        assert client_for(cast.approver_a).get(url("paper", form.pk)).status_code == 403

    def test_paper_other_unit_404(self, cast, client_for, form):
        assert client_for(cast.registrar_b).get(url("paper", form.pk)).status_code == 404

    def test_scan_wrong_role_403_and_other_unit_404(self, cast, client_for, form):
        services.liability_form_paper_record(actor=cast.registrar_a, agreement=form, signer_name="许家长",
                                             scan=png_upload())
        assert client_for(cast.system_admin).get(url("scan", form.pk)).status_code == 403
        assert client_for(cast.other_province_approver).get(url("scan", form.pk)).status_code == 404


def pdf_text(content: bytes) -> tuple[str, list]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages)
    descriptors = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts = [font] + [f.get_object() for f in font.get("/DescendantFonts", [])]
            descriptors += [f["/FontDescriptor"].get_object() for f in fonts if "/FontDescriptor" in f]
    return text, descriptors


class TestPdfAndPrint:
    def test_pdf_has_extractable_text_and_an_embedded_cjk_font(self, cast, client_for, form):
        response = client_for(cast.registrar_a).get(url("pdf", form.pk))
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        text, descriptors = pdf_text(response.content)
        assert "张小明" in text and "未满六周岁入学责任书" in text
        assert any("/FontFile2" in d or "/FontFile3" in d for d in descriptors)

    def test_registrar_agreement_pdf(self, cast, client_for, reg_agreement):
        text, _ = pdf_text(client_for(cast.approver_a).get(url("pdf", reg_agreement.pk)).content)
        assert "张学籍" in text and "一人一籍" in text.replace("\n", "")

    def test_missing_font_offers_the_print_view(self, cast, client_for, form, settings):
        settings.XUEJI_PDF_FONT_PATH = "/nonexistent/font.ttf"
        client = client_for(cast.registrar_a)
        response = client.get(url("pdf", form.pk))
        assert response.status_code == 503 and url("print", form.pk) in response.content.decode()
        assert "服务器缺少中文字体" in client.get(url("detail", form.pk)).content.decode()

    def test_print_allowed(self, cast, client_for, form):
        body = client_for(cast.registrar_a).get(url("print", form.pk)).content.decode()
        assert "@media print" in body and "张小明" in body

    def test_print_and_pdf_wrong_role_403(self, cast, client_for, form):
        assert client_for(cast.system_admin).get(url("print", form.pk)).status_code == 403
        assert client_for(cast.system_admin).get(url("pdf", form.pk)).status_code == 403

    def test_print_and_pdf_other_unit_404(self, cast, client_for, form):
        assert client_for(cast.registrar_b).get(url("print", form.pk)).status_code == 404
        assert client_for(cast.registrar_b).get(url("pdf", form.pk)).status_code == 404


class TestRegistrars:
    def test_school_and_bureau_see_who_signed(self, cast, client_for, reg_agreement):
        services.agreement_sign(actor=cast.registrar_a, agreement=reg_agreement, confirmed=True)
        for user in (cast.approver_a, cast.county_approver):
            body = client_for(user).get(url("registrars")).content.decode()
            assert "张学籍" in body and "部分签署" in body
        assert "张学籍" not in client_for(cast.other_province_approver).get(url("registrars")).content.decode()

    def test_query_count(self, cast, client_for, django_assert_max_num_queries):
        client = client_for(cast.county_approver)
        client.get(url("registrars"))
        # session, user, grants, head units, count, page (grants + agreement subqueries), held codenames and
        # unread messages (nav), session save (savepoint, update, release)
        with django_assert_max_num_queries(11):
            assert client.get(url("registrars")).status_code == 200

    def test_issue_allowed(self, cast, client_for):
        grant = RoleGrant.objects.get(user=cast.registrar_a, role=Role.REGISTRAR)
        assert client_for(cast.approver_a).post(url("registrar_issue", grant.pk)).status_code == 302
        assert Agreement.objects.filter(kind="registrar", party_user=cast.registrar_a).exists()

    def test_issue_wrong_role_403(self, cast, client_for):
        grant = RoleGrant.objects.get(user=cast.registrar_a, role=Role.REGISTRAR)
        assert client_for(cast.registrar_a).post(url("registrar_issue", grant.pk)).status_code == 403
        assert client_for(cast.county_approver).post(url("registrar_issue", grant.pk)).status_code == 403

    def test_issue_other_unit_404(self, cast, client_for):
        grant = RoleGrant.objects.get(user=cast.registrar_a, role=Role.REGISTRAR)
        assert client_for(cast.other_province_approver).post(url("registrar_issue", grant.pk)).status_code == 404


class TestLevels:
    def test_issue_all_then_progress_and_remind(self, cast, client_for):
        client = client_for(cast.city_approver)
        assert client.post(url("levels_issue", "340100")).status_code == 302
        body = client.get(url("levels")).content.decode()
        assert "瑶海区" in body and "合肥市第一中学" in body and "已签订 0 / 3" in body
        assert client.post(url("levels_remind", "340100")).status_code == 302

    def test_issue_wrong_role_403(self, cast, client_for):
        assert client_for(cast.inspector).post(url("levels_issue", "340100")).status_code == 403

    def test_issue_other_unit_404(self, cast, client_for):
        assert client_for(cast.other_province_county_approver).post(url("levels_issue", "340100")).status_code == 404

    def test_query_count(self, cast, client_for, django_assert_max_num_queries):
        services.inter_level_issue_all(actor=cast.city_approver, region=cast.regions["340100"])
        client = client_for(cast.city_approver)
        client.get(url("levels"))
        # session, user, head units, regions, agreements, their signatures, held codenames and unread messages
        # (nav), session save (3)
        with django_assert_max_num_queries(11):
            assert client.get(url("levels")).status_code == 200


class TestLiabilityList:
    def test_cohort_with_form_status(self, cast, client_for, make_child):
        make_child(name="甲", birth=D(2020, 9, 1))
        make_child(name="乙", birth=D(2020, 8, 31), guardian="乙家长")
        body = client_for(cast.registrar_a).get(url("liability"), {"year": 2026}).content.decode()
        assert "甲" in body and ">乙<" not in body and "未发放" in body
        assert ">甲<" not in client_for(cast.registrar_b).get(url("liability"), {"year": 2026}).content.decode()

    def test_query_count(self, cast, client_for, make_child, django_assert_max_num_queries):
        for i in range(6):
            make_child(name=f"孩子{i}", birth=D(2020, 9, 1 + i), guardian=f"家长{i}")
        client = client_for(cast.registrar_a)
        client.get(url("liability"), {"year": 2026})
        # session, user, grants, provincial rules, count, page rows (school, grade and form status joined),
        # held codenames and unread messages (nav), session save (3); the same with 6 or 60 children
        with django_assert_max_num_queries(11):
            assert client.get(url("liability"), {"year": 2026, "sort": "birth"}).status_code == 200

    def test_issue_allowed_403_404(self, cast, client_for, make_child):
        child = make_child()
        assert client_for(cast.approver_a).post(url("liability_issue", child.pk)).status_code == 403
        assert client_for(cast.registrar_b).post(url("liability_issue", child.pk)).status_code == 404
        assert client_for(cast.registrar_a).post(url("liability_issue", child.pk)).status_code == 302
        assert Agreement.objects.filter(student=child).count() == 1

    def test_issue_all(self, cast, client_for, make_child):
        make_child(name="甲", birth=D(2020, 9, 1))
        make_child(name="乙", birth=D(2020, 9, 2), guardian="乙家长")
        assert client_for(cast.approver_a).post(url("liability_issue_all") + "?year=2026").status_code == 403
        assert client_for(cast.registrar_a).post(url("liability_issue_all") + "?year=2026").status_code == 302
        assert Agreement.objects.filter(kind="liability").count() == 2

    def test_invite_shows_code_once(self, cast, client_for, make_child):
        child = make_child()
        client = client_for(cast.registrar_a)
        assert 'value="许家长"' in client.get(url("invite", child.pk)).content.decode()
        body = client.post(url("invite", child.pk), {"guardian_name": "许家长"}).content.decode()
        assert 'data-testid="invitation-code"' in body
        assert client_for(cast.approver_a).get(url("invite", child.pk)).status_code == 403
        assert client_for(cast.registrar_b).get(url("invite", child.pk)).status_code == 404


class TestTemplates:
    def test_list_new_and_edit(self, cast, client_for):
        client = client_for(cast.system_admin)
        assert "学籍管理员责任书" in client.get(url("template_list")).content.decode()
        response = client.post(url("template_new"), {"kind": "registrar", "unit": "340000"})
        version = AgreementTemplate.objects.get(region_id="340000", kind="registrar")
        assert response.status_code == 302
        data = {"title": "安徽省学籍管理员责任书", "party_a_label": "甲方", "party_b_label": "乙方",
                "clauses": "省版条款", "is_active": "on"}
        assert client.post(url("template_edit", version.pk), data).status_code == 302
        version.refresh_from_db()
        assert version.clauses == "省版条款" and version.history.count() == 2

    def test_wrong_role_403(self, cast, client_for):
        assert client_for(cast.approver_a).post(url("template_new"),
                                                {"kind": "registrar", "unit": "3401020001"}).status_code == 403
        version = services.template_create_version(actor=cast.system_admin, kind="registrar", unit=cast.school_a)
        assert client_for(cast.approver_a).get(url("template_edit", version.pk)).status_code == 403

    def test_other_unit_404(self, cast, client_for):
        assert client_for(cast.other_security_admin).post(url("template_new"),
                                                          {"kind": "registrar", "unit": "340000"}).status_code == 404
        version = services.template_create_version(actor=cast.system_admin, kind="registrar", unit=cast.school_a)
        assert client_for(cast.other_security_admin).get(url("template_edit", version.pk)).status_code == 404

    def test_national_template_is_not_editable(self, cast, client_for):
        national = AgreementTemplate.objects.get(kind="registrar", region=None, school=None)
        assert client_for(cast.system_admin).get(url("template_edit", national.pk)).status_code == 404
