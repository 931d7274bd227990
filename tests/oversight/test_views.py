"""Oversight pages: the trio for every view (allowed / in scope without the right → 403 / other
unit → 404 or nothing listed), forms with Chinese errors, and query counts of the list pages."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from oversight.models import Inspection, InspectionItem, QuarterlyReport, RectificationNotice
from oversight.services import (
    figures_refresh,
    inspection_assign,
    inspection_create,
    quarterly_report_request,
    rectification_issue,
    rectification_reply,
)

from .conftest import PNG


def url(name, *args):
    return reverse(f"oversight:{name}", args=args)


def count_queries(client, path, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def inspection(cast, students):
    made = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                             inspected_region=cast.regions["340102"], title="瑶海区抽查", size=7, seed="v")
    return inspection_assign(actor=cast.inspector, inspection=made)


@pytest.fixture
def item_a(cast, inspection):
    return inspection.items.filter(school=cast.school_a).order_by("position").first()


@pytest.fixture
def notice(cast):
    return rectification_issue(actor=cast.county_approver, issuer=cast.regions["340102"], target=cast.school_a,
                               failing="late_entry", title="新生注册逾期", details="补录",
                               deadline=timezone.localdate() + timedelta(days=7))


@pytest.fixture
def report(cast, students, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = quarterly_report_request(actor=cast.city_approver, city=cast.regions["340100"], year=2026, quarter=4)
    made.refresh_from_db()
    return made


# --------------------------------------------------------------------------------------------
# Dashboards


@pytest.mark.django_db
class TestDashboard:
    def test_a_city_sees_its_figures_and_its_counties(self, cast, students, client_for):
        figures_refresh(province_code="34")
        response = client_for(cast.city_approver).get(url("dashboard_region", "340100"))
        assert response.status_code == 200
        board = response.context["board"]
        assert board.cards[0].value == 10 and "status=active" in board.cards[0].link
        assert "region=340100" in board.cards[0].link
        names = [row["unit"].name for row in board.children]
        assert names == ["瑶海区", "蜀山区", "合肥市第一中学"]
        assert [row["active"] for row in board.children] == [7, 2, 1]
        assert "数据更新于" in response.content.decode()

    def test_every_grade_bar_links_to_the_student_list_with_its_filters(self, cast, students, client_for):
        figures_refresh(province_code="34")
        charts = client_for(cast.county_approver).get(url("dashboard_region", "340102")).context["board"].charts
        assert charts["grades"]["labels"] == ["一年级", "二年级", "三年级"]
        assert charts["grades"]["values"] == [2, 4, 1]
        assert charts["grades"]["links"][1] == "/students/?status=active&grade=12&region=340102"

    def test_a_school_dashboard_links_by_school(self, cast, students, client_for):
        figures_refresh(province_code="34")
        response = client_for(cast.registrar_a).get(url("dashboard_school", cast.school_a.pk))
        assert response.status_code == 200
        assert f"school={cast.school_a.pk}" in response.context["board"].cards[0].link
        assert not response.context["board"].children

    def test_before_any_refresh_the_page_says_so(self, cast, client_for):
        content = client_for(cast.province_approver).get(url("dashboard_region", "340000")).content.decode()
        assert "统计数据尚未生成" in content

    def test_home_opens_the_users_own_unit(self, cast, client_for):
        assert client_for(cast.county_approver).get(url("dashboard_home")).url == url("dashboard_region", "340102")
        assert client_for(cast.registrar_a).get(url("dashboard_home")).url == url("dashboard_school", cast.school_a.pk)
        assert client_for(cast.system_admin).get(url("dashboard_home")).status_code == 403

    def test_wrong_role_in_scope_gets_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(url("dashboard_region", "340100")).status_code == 403
        assert client_for(cast.system_admin).get(url("dashboard_school", cast.school_a.pk)).status_code == 403

    def test_other_units_get_404(self, cast, client_for):
        assert client_for(cast.other_province_approver).get(url("dashboard_region", "340100")).status_code == 404
        assert client_for(cast.county_approver).get(url("dashboard_region", "340104")).status_code == 404
        assert client_for(cast.registrar_b).get(url("dashboard_school", cast.school_a.pk)).status_code == 404
        assert client_for(cast.registrar_b).get(url("dashboard_school", "x")).status_code == 404

    def test_query_count_warm_and_cold(self, cast, students, client_for):
        figures_refresh(province_code="34")
        client = client_for(cast.city_approver)
        # Cold: 1 session, 2 user, 3 every grant of the user (also answers the rights checks and the
        # navigation), 4 the region, 5 figures version, 6 the unit's figures, 7 child regions, 8 child
        # schools, 9 children's figures, 10 breadcrumb, 11-13 session save. (figures_refresh sets the
        # version at commit, which a test's transaction never reaches, hence query 5.)
        assert count_queries(client, url("dashboard_region", "340100")) == 13
        # Warm: the region, the dashboard data and its HTML come from the cache: 1 session, 2 user,
        # 3 every grant of the user, 4-6 session save.
        assert count_queries(client, url("dashboard_region", "340100")) == 6


@pytest.mark.django_db
class TestDashboardRefresh:
    def test_a_bureau_queues_a_refresh(self, cast, students, client_for, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(cast.county_approver).post(url("dashboard_refresh", "340102"))
        assert response.status_code == 302
        from oversight.selectors import unit_figures

        assert unit_figures("340000/340100/340102/")[("status", "active")] == 7
        # A second press within a minute queues nothing.
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client_for(cast.county_approver).post(url("dashboard_refresh", "340102"))
        assert not callbacks

    def test_wrong_role_in_scope_gets_403(self, cast, client_for):
        assert client_for(cast.inspector).post(url("dashboard_refresh", "340100")).status_code == 403

    def test_other_units_get_404(self, cast, client_for):
        client = client_for(cast.other_province_county_approver)
        assert client.post(url("dashboard_refresh", "340102")).status_code == 404

    def test_get_is_refused(self, cast, client_for):
        assert client_for(cast.county_approver).get(url("dashboard_refresh", "340102")).status_code == 405


@pytest.mark.django_db
class TestScorecard:
    def test_children_are_scored_and_sortable(self, cast, students, inspection, client_for):
        for n, item in enumerate(inspection.items.order_by("position")):
            from oversight.services import inspection_item_judge

            inspection_item_judge(actor=cast.inspector, item=item, verdict="correct" if n % 2 else "false", note="x")
        figures_refresh(province_code="34")
        client = client_for(cast.inspector)
        response = client.get(url("scorecard_region", "340102"))
        assert response.status_code == 200
        rows = {r["name"]: r for r in response.context["rows"]}
        assert rows["瑶海区第一小学"]["judged"] == 4 and rows["瑶海区第二小学"]["judged"] == 3
        assert response.context["own"]["accuracy"] == round(100 * 3 / 7, 1)
        ordered = client.get(url("scorecard_region", "340102"), {"sort": "-accuracy"}).context["rows"]
        assert [r["accuracy"] for r in ordered] == sorted([r["accuracy"] for r in ordered], reverse=True)
        assert client.get(url("scorecard_region", "340102"), {"sort": "bogus", "year": "1999"}).status_code == 200

    def test_home_opens_the_users_own_unit(self, cast, client_for):
        assert client_for(cast.inspector).get(url("scorecard_home")).url == url("scorecard_region", "340100")
        assert client_for(cast.approver_a).get(url("scorecard_home")).url == url("scorecard_school", cast.school_a.pk)
        assert client_for(cast.registrar_a).get(url("scorecard_home")).status_code == 403

    def test_a_bureau_can_issue_a_notice_from_the_scorecard(self, cast, students, client_for):
        content = client_for(cast.county_approver).get(url("scorecard_region", "340102")).content.decode()
        assert "target=3401020001" in content

    def test_wrong_role_in_scope_gets_403(self, cast, client_for):
        assert client_for(cast.county_registrar).get(url("scorecard_region", "340102")).status_code == 403

    def test_other_units_get_404(self, cast, client_for):
        assert client_for(cast.other_province_county_approver).get(url("scorecard_region", "340102")).status_code == 404

    def test_query_count(self, cast, students, client_for):
        client = client_for(cast.inspector)
        count_queries(client, url("scorecard_region", "340100"))
        # Warm: 1 session, 2 user, 3 every grant of the user (rights, navigation), 4-6 session save
        # (the region and the figures come from the cache).
        assert count_queries(client, url("scorecard_region", "340100")) == 6


# --------------------------------------------------------------------------------------------
# Inspections


@pytest.mark.django_db
class TestInspectionList:
    def test_inspector_and_bureaus_see_it_schools_do_not(self, cast, inspection, client_for):
        for user in (cast.inspector, cast.county_approver, cast.province_approver):
            response = client_for(user).get(url("inspection_list"))
            assert [i.pk for i in response.context["page_obj"]] == [inspection.pk]
        assert client_for(cast.registrar_a).get(url("inspection_list")).status_code == 403

    def test_other_units_see_nothing(self, cast, inspection, client_for):
        assert not client_for(cast.other_county_approver).get(url("inspection_list")).context["page_obj"]
        assert not client_for(cast.other_province_approver).get(url("inspection_list")).context["page_obj"]

    def test_filters(self, cast, inspection, client_for):
        client = client_for(cast.inspector)
        assert client.get(url("inspection_list"), {"region": "340102"}).context["page_obj"]
        assert not client.get(url("inspection_list"), {"region": "340104"}).context["page_obj"]
        assert not client.get(url("inspection_list"), {"status": "closed"}).context["page_obj"]
        assert not client.get(url("inspection_list"), {"verdict": "false"}).context["page_obj"]
        assert client.get(url("inspection_list"), {"q": "瑶海", "sort": "x", "page": "9"}).status_code == 200

    def test_query_count_does_not_grow_with_rows(self, cast, inspection, client_for):
        client = client_for(cast.inspector)
        count_queries(client, url("inspection_list"))
        few = count_queries(client, url("inspection_list"))
        for n in range(3):
            inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                              inspected_region=cast.regions["340100"], title=f"全市{n}", size=2)
        assert count_queries(client, url("inspection_list")) == few
        # 1 session, 2 user, 3 held codenames, 4-5 inspect and approve_changes grants, 6 count,
        # 7 the page with regions and creator joined and progress counted, 8-10 session save.
        assert few == 10


@pytest.mark.django_db
class TestInspectionNew:
    def test_draws_a_sample(self, cast, students, client_for):
        response = client_for(cast.inspector).post(url("inspection_new"), {
            "title": "秋季抽查", "organiser": "340100", "kind": "regular", "inspected_region": "340102",
            "size": "3", "seed": "abc"})
        inspection = Inspection.objects.get()
        assert response.url == url("inspection_detail", inspection.pk)
        assert inspection.sample_size == 3 and inspection.seed == "abc"

    def test_errors_are_shown_next_to_the_fields(self, cast, students, client_for):
        client = client_for(cast.inspector)
        response = client.post(url("inspection_new"), {"title": "t", "organiser": "340100", "kind": "cross",
                                                        "inspected_region": "340102"})
        errors = response.context["form"].errors
        assert "请填写抽样数量或抽样比例（二选一）" in errors["size"]
        assert "互查须指定检查单位" in errors["inspecting_region"]
        response = client.post(url("inspection_new"), {"title": "t", "organiser": "340100", "kind": "cross",
                                                        "inspected_region": "340102", "inspecting_region": "340100",
                                                        "percent": "10"})
        assert response.context["form"].errors["inspecting_region"] == ["互查双方须是本市所辖的下级单位"]
        assert response.context["form"]["title"].value() == "t"  # input kept
        assert not Inspection.objects.exists()

    def test_wrong_role_gets_403(self, cast, client_for):
        assert client_for(cast.city_approver).get(url("inspection_new")).status_code == 403

    def test_a_region_of_another_unit_is_not_a_choice(self, cast, students, client_for):
        response = client_for(cast.inspector).post(url("inspection_new"), {
            "title": "t", "organiser": "340100", "kind": "regular", "inspected_region": "340202", "size": "1"})
        assert response.status_code == 200 and response.context["form"].errors["inspected_region"]
        assert not Inspection.objects.exists()


@pytest.mark.django_db
class TestInspectionDetail:
    def test_shows_minimal_fields_with_masked_numbers(self, cast, inspection, client_for):
        response = client_for(cast.inspector).get(url("inspection_detail", inspection.pk))
        content = response.content.decode()
        student = inspection.items.first().student
        assert student.name in content and student.masked_student_number in content
        assert student.id_number not in content
        assert response.context["can_judge"]

    def test_cross_check_inspectors_see_the_sample(self, cast, students, county_inspectors, client_for):
        _, shushan = county_inspectors
        cross = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"], kind="cross",
                                  inspected_region=cast.regions["340102"], inspecting_region=cast.regions["340104"],
                                  title="互查", size=2, seed="c")
        inspection_assign(actor=cast.inspector, inspection=cross)
        response = client_for(shushan).get(url("inspection_detail", cross.pk))
        assert response.status_code == 200 and response.context["can_judge"]
        student = cross.items.first().student
        assert student.id_number not in response.content.decode()
        # Their scope stops at the sample: the student's own record is not theirs.
        assert client_for(shushan).get(reverse("students:detail", args=[student.pk])).status_code == 404

    def test_wrong_role_in_scope_gets_403(self, cast, inspection, client_for):
        assert client_for(cast.county_registrar).get(url("inspection_detail", inspection.pk)).status_code == 403

    def test_other_units_get_404(self, cast, inspection, client_for):
        for user in (cast.other_province_approver, cast.registrar_a, cast.other_county_approver):
            assert client_for(user).get(url("inspection_detail", inspection.pk)).status_code == 404

    def test_query_count_does_not_grow_with_rows(self, cast, students, client_for):
        client = client_for(cast.inspector)
        small = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                  inspected_region=cast.regions["340100"], title="s", size=1, seed="q")
        big = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                inspected_region=cast.regions["340100"], title="b", size=10, seed="q")
        count_queries(client, url("inspection_detail", small.pk))
        few = count_queries(client, url("inspection_detail", small.pk))
        assert count_queries(client, url("inspection_detail", big.pk)) == few
        # 1 session, 2 user, 3 grants, 4 the inspection, 5 inspect on the inspecting unit (view),
        # 6 verdict counts, 7 inspect on the organiser (send button), 8 count, 9 the page of items with
        # student, grade, class, school and actors joined, 10 held codenames, 11-13 session save.
        assert few == 13


@pytest.mark.django_db
class TestInspectionActions:
    def test_assign_then_judge_then_close(self, cast, students, client_for):
        drawn = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                  inspected_region=cast.regions["340102"], title="t", size=2, seed="s")
        client = client_for(cast.inspector)
        due = (timezone.localdate() + timedelta(days=5)).isoformat()
        assert client.post(url("inspection_assign", drawn.pk), {"answer_due": due}).status_code == 302
        drawn.refresh_from_db()
        assert drawn.status == "assigned" and drawn.answer_due.isoformat() == due
        for item in drawn.items.all():
            response = client.post(url("item_judge", item.pk), {"verdict": "correct", "querystring": "sort=position"})
            assert response.url.endswith("?sort=position")
        assert client.post(url("inspection_close", drawn.pk)).status_code == 302
        drawn.refresh_from_db()
        assert drawn.status == "closed"

    def test_a_false_verdict_without_note_is_refused_with_a_message(self, cast, inspection, item_a, client_for):
        response = client_for(cast.inspector).post(url("item_judge", item_a.pk), {"verdict": "false"}, follow=True)
        assert "认定信息不实须说明情况" in response.content.decode()
        item_a.refresh_from_db()
        assert item_a.verdict == "pending"

    def test_wrong_role_in_scope_gets_403(self, cast, inspection, item_a, client_for):
        client = client_for(cast.county_approver)
        assert client.post(url("inspection_assign", inspection.pk)).status_code == 403
        assert client.post(url("inspection_close", inspection.pk)).status_code == 403
        assert client.post(url("item_judge", item_a.pk), {"verdict": "correct"}).status_code == 403

    def test_other_units_get_404(self, cast, inspection, item_a, client_for):
        client = client_for(cast.other_province_approver)
        assert client.post(url("inspection_assign", inspection.pk)).status_code == 404
        assert client.post(url("inspection_close", inspection.pk)).status_code == 404
        assert client.post(url("item_judge", item_a.pk), {"verdict": "correct"}).status_code == 404
        assert client.post(url("item_judge", 999999), {"verdict": "correct"}).status_code == 404


# --------------------------------------------------------------------------------------------
# School verification


@pytest.mark.django_db
class TestVerification:
    def test_the_registrar_lists_and_answers_with_evidence(self, cast, inspection, item_a, client_for):
        client = client_for(cast.registrar_a)
        listed = client.get(url("verification_list")).context["page_obj"]
        assert {i.school_id for i in listed} == {cast.school_a.pk} and len(listed) == 4
        response = client.post(url("verification_answer", item_a.pk), {
            "answer": "corrected", "note": "更正了出生日期",
            "evidence": SimpleUploadedFile("证明.png", PNG, content_type="image/png")})
        assert response.status_code == 302
        item_a.refresh_from_db()
        assert item_a.answer == "corrected" and item_a.evidence_type == "image/png"
        # The school and the inspector download it; a neighbour school cannot.
        for user in (cast.registrar_a, cast.inspector):
            download = client_for(user).get(url("item_evidence", item_a.pk))
            assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
        assert client_for(cast.registrar_b).get(url("item_evidence", item_a.pk)).status_code == 404
        assert client_for(cast.system_admin).get(url("item_evidence", item_a.pk)).status_code == 403

    def test_a_bad_file_is_a_field_error_and_the_input_stays(self, cast, inspection, item_a, client_for):
        response = client_for(cast.registrar_a).post(url("verification_answer", item_a.pk), {
            "answer": "corrected", "note": "说明", "evidence": SimpleUploadedFile("a.png", b"GIF89a....")})
        form = response.context["form"]
        assert form.errors["evidence"] and form["note"].value() == "说明"

    def test_a_correction_without_note_is_refused(self, cast, inspection, item_a, client_for):
        response = client_for(cast.registrar_a).post(url("verification_answer", item_a.pk), {"answer": "corrected"})
        assert response.context["form"].errors["note"] == ["请说明更正了哪些信息"]

    def test_wrong_role_in_scope_gets_403(self, cast, inspection, item_a, client_for):
        assert client_for(cast.approver_a).get(url("verification_list")).status_code == 403
        assert client_for(cast.approver_a).get(url("verification_answer", item_a.pk)).status_code == 403

    def test_other_units_get_404(self, cast, inspection, item_a, client_for):
        assert client_for(cast.registrar_b).get(url("verification_answer", item_a.pk)).status_code == 404
        assert not client_for(cast.registrar_b).get(url("verification_list")).context["page_obj"]

    def test_a_sample_not_sent_yet_is_invisible(self, cast, students, client_for):
        drawn = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                  inspected_region=cast.regions["340102"], title="t", size=7, seed="s")
        item = drawn.items.filter(school=cast.school_a).first()
        assert client_for(cast.registrar_a).get(url("verification_answer", item.pk)).status_code == 404

    def test_query_count_does_not_grow_with_rows(self, cast, students, client_for):
        client = client_for(cast.registrar_a)
        one = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                inspected_region=cast.regions["340102"], title="t", size=7, seed="s")
        inspection_assign(actor=cast.inspector, inspection=one)
        count_queries(client, url("verification_list"), answer="all")
        few = count_queries(client, url("verification_list"), answer="all")
        more = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                 inspected_region=cast.regions["340102"], title="t2", size=7, seed="s")
        inspection_assign(actor=cast.inspector, inspection=more)
        assert count_queries(client, url("verification_list"), answer="all") == few
        # 1 session, 2 user, 3 held codenames, 4 edit_students grants, 5 count, 6 the page with
        # inspection, school, student, grade and class joined, 7-9 session save.
        assert few == 9


# --------------------------------------------------------------------------------------------
# Rectification notices


@pytest.mark.django_db
class TestRectificationList:
    def test_both_units_and_the_bureaus_between_see_it(self, cast, notice, client_for):
        for user in (cast.county_approver, cast.city_approver, cast.approver_a, cast.registrar_a, cast.inspector):
            assert [n.pk for n in client_for(user).get(url("rectification_list")).context["page_obj"]] == [notice.pk]

    def test_wrong_role_gets_403(self, cast, client_for):
        assert client_for(cast.head_teacher_a).get(url("rectification_list")).status_code == 403
        assert client_for(cast.system_admin).get(url("rectification_list")).status_code == 403

    def test_other_units_see_nothing(self, cast, notice, client_for):
        for user in (cast.registrar_a2, cast.other_county_approver, cast.other_province_approver):
            assert not client_for(user).get(url("rectification_list")).context["page_obj"]

    def test_filters_and_overdue_marker(self, cast, notice, client_for):
        client = client_for(cast.county_approver)
        assert client.get(url("rectification_list"), {"status": "open"}).context["page_obj"]
        assert not client.get(url("rectification_list"), {"status": "closed"}).context["page_obj"]
        assert not client.get(url("rectification_list"), {"overdue": "1"}).context["page_obj"]
        assert client.get(url("rectification_list"), {"direction": "issued"}).context["page_obj"]
        assert client.get(url("rectification_list"), {"school": cast.school_a.pk}).context["page_obj"]
        assert not client.get(url("rectification_list"), {"school": cast.school_a2.pk}).context["page_obj"]
        assert client.get(url("rectification_list"), {"region": "340102", "q": "注册"}).context["page_obj"]
        RectificationNotice.objects.filter(pk=notice.pk).update(deadline=timezone.localdate() - timedelta(days=1))
        response = client.get(url("rectification_list"), {"overdue": "1"})
        assert response.context["page_obj"] and "逾期" in response.content.decode()

    def test_query_count_does_not_grow_with_rows(self, cast, notice, client_for):
        client = client_for(cast.county_approver)
        count_queries(client, url("rectification_list"))
        few = count_queries(client, url("rectification_list"))
        for school in (cast.school_a2, cast.school_a, cast.school_a2):
            rectification_issue(actor=cast.county_approver, issuer=cast.regions["340102"], target=school,
                                failing="other", title="t", details="d", deadline=timezone.localdate())
        assert count_queries(client, url("rectification_list")) == few
        # 1 session, 2 user, 3 held codenames, 4-6 approve_changes / inspect / edit_students grants,
        # 7 count, 8 the page with issuer, targets and issuer user joined, 9-11 session save.
        assert few == 11


@pytest.mark.django_db
class TestRectificationNew:
    def test_a_bureau_issues_one(self, cast, client_for):
        response = client_for(cast.county_approver).post(url("rectification_new"), {
            "issuer": "340102", "target": "3401020001", "failing": "false_data", "title": "空挂学籍",
            "details": "抽查发现空挂学籍2条", "deadline": (timezone.localdate() + timedelta(days=10)).isoformat()})
        notice = RectificationNotice.objects.get()
        assert response.url == url("rectification_detail", notice.pk) and notice.target_school == cast.school_a

    def test_prefilled_from_a_link_and_errors_in_chinese(self, cast, client_for):
        client = client_for(cast.county_approver)
        assert client.get(url("rectification_new"), {"target": "3401020001"}).context["form"]["target"].value() \
            == "3401020001"
        response = client.post(url("rectification_new"), {"issuer": "340102", "target": "12", "failing": "x",
                                                           "title": "", "details": "", "deadline": "2020-01-01"})
        errors = response.context["form"].errors
        assert errors["target"] == ["请填写6位行政区划代码或10位学校标识码"] and "title" in errors

    def test_wrong_role_gets_403(self, cast, client_for):
        assert client_for(cast.registrar_a).get(url("rectification_new")).status_code == 403
        assert client_for(cast.inspector).get(url("rectification_new")).status_code == 403

    def test_a_unit_outside_the_issuer_is_refused(self, cast, client_for):
        response = client_for(cast.county_approver).post(url("rectification_new"), {
            "issuer": "340102", "target": "3401040001", "failing": "other", "title": "t", "details": "d",
            "deadline": timezone.localdate().isoformat()})
        assert response.context["form"].errors["target"] == ["整改单位须是本单位所辖的下级单位或学校"]
        assert not RectificationNotice.objects.exists()


@pytest.mark.django_db
class TestRectificationDetail:
    def test_the_target_replies_and_the_issuer_closes(self, cast, notice, client_for):
        client = client_for(cast.registrar_a)
        assert client.get(url("rectification_detail", notice.pk)).context["can_reply"]
        response = client.post(url("rectification_reply", notice.pk), {
            "text": "已补录全部新生", "evidence": SimpleUploadedFile("a.pdf", b"%PDF-1.4 test")})
        assert response.status_code == 302
        reply = notice.replies.get()
        assert client_for(cast.county_approver).get(url("reply_evidence", reply.pk)).status_code == 200
        approver = client_for(cast.county_approver)
        assert approver.get(url("rectification_detail", notice.pk)).context["can_review"]
        assert approver.post(url("rectification_review", notice.pk), {"decision": "closed"}).status_code == 302
        notice.refresh_from_db()
        assert notice.status == "closed"

    def test_returning_without_reason_shows_the_error(self, cast, notice, client_for):
        rectification_reply(actor=cast.registrar_a, notice=notice, text="已整改")
        response = client_for(cast.county_approver).post(url("rectification_review", notice.pk),
                                                          {"decision": "returned"})
        assert response.status_code == 200 and response.context["review_form"].errors["comment"] == ["退回须说明理由"]

    def test_an_empty_reply_shows_the_error(self, cast, notice, client_for):
        response = client_for(cast.registrar_a).post(url("rectification_reply", notice.pk), {"text": ""})
        assert response.status_code == 200 and response.context["reply_form"].errors["text"]

    def test_wrong_role_in_scope_gets_403(self, cast, notice, client_for):
        rectification_reply(actor=cast.registrar_a, notice=notice, text="已整改", upload=SimpleUploadedFile(
            "a.png", PNG))
        reply = notice.replies.get()
        assert client_for(cast.system_admin).get(url("rectification_detail", notice.pk)).status_code == 403
        assert client_for(cast.system_admin).get(url("reply_evidence", reply.pk)).status_code == 403
        assert client_for(cast.county_approver).post(url("rectification_reply", notice.pk),
                                                     {"text": "x"}).status_code == 403
        assert client_for(cast.approver_a).post(url("rectification_review", notice.pk),
                                                {"decision": "closed"}).status_code == 403

    def test_other_units_get_404(self, cast, notice, client_for):
        client = client_for(cast.registrar_b)
        assert client.get(url("rectification_detail", notice.pk)).status_code == 404
        assert client.post(url("rectification_reply", notice.pk), {"text": "x"}).status_code == 404
        assert client_for(cast.other_county_approver).post(url("rectification_review", notice.pk),
                                                           {"decision": "closed"}).status_code == 404


# --------------------------------------------------------------------------------------------
# Quarterly reports


@pytest.mark.django_db
class TestReports:
    def test_the_city_generates_reviews_submits_and_downloads(self, cast, students, client_for,
                                                              django_capture_on_commit_callbacks):
        client = client_for(cast.city_approver)
        assert client.get(url("report_list")).context["form"] is not None
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url("report_generate"), {"city": "340100", "year": "2026", "quarter": "4"})
        report = QuarterlyReport.objects.get()
        assert response.url == url("report_detail", report.pk)
        page = client.get(url("report_detail", report.pk))
        assert page.context["can_submit"] and "在籍学生" in page.content.decode()
        assert [s["title"] for s in page.context["sections"]][:2] == ["在籍学生总数", "按学段"]
        xlsx = client.get(url("report_xlsx", report.pk))
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
        from io import BytesIO

        from openpyxl import load_workbook

        sheet = load_workbook(BytesIO(xlsx.content)).active
        values = [row for row in sheet.iter_rows(values_only=True)]
        assert ("在籍学生", 10) in values
        assert client.post(url("report_submit", report.pk), {"note": "数据已核"}).status_code == 302
        report.refresh_from_db()
        assert report.status == "submitted"

    def test_the_province_sees_who_submitted(self, cast, report, client_for):
        response = client_for(cast.province_approver).get(url("report_overview", "340000"),
                                                          {"year": "2026", "quarter": "4"})
        rows = {r["unit"].code: r["report"] for r in response.context["rows"]}
        assert set(rows) == {"340100", "340200"} and rows["340100"] == report and rows["340200"] is None
        assert response.context["submitted"] == 0
        assert client_for(cast.province_approver).get(url("report_detail", report.pk)).status_code == 200

    def test_wrong_role_gets_403(self, cast, report, client_for):
        assert client_for(cast.registrar_a).get(url("report_list")).status_code == 403
        assert client_for(cast.county_approver).post(url("report_generate"), {}).status_code == 403
        for name in ("report_detail", "report_xlsx"):
            assert client_for(cast.system_admin).get(url(name, report.pk)).status_code == 403
        assert client_for(cast.inspector).post(url("report_submit", report.pk)).status_code == 403
        assert client_for(cast.system_admin).get(url("report_overview", "340000")).status_code == 403

    def test_other_units_get_404_or_nothing(self, cast, report, client_for):
        client = client_for(cast.other_province_approver)
        assert not client.get(url("report_list")).context["page_obj"]
        for name in ("report_detail", "report_xlsx"):
            assert client.get(url(name, report.pk)).status_code == 404
        assert client.post(url("report_submit", report.pk)).status_code == 404
        assert client.get(url("report_overview", "340000")).status_code == 404

    def test_another_city_is_not_a_choice(self, cast, client_for):
        response = client_for(cast.city_approver).post(url("report_generate"),
                                                       {"city": "340200", "year": "2026", "quarter": "4"}, follow=True)
        assert "选择一个有效的选项" in response.content.decode()
        assert not QuarterlyReport.objects.exists()

    def test_overview_query_count(self, cast, report, client_for):
        client = client_for(cast.province_approver)
        count_queries(client, url("report_overview", "340000"))
        # 1 session, 2 user, 3 every grant of the user, 4 regions under the province (itself cached),
        # 5 their reports with the submitter joined, 6-8 session save.
        assert count_queries(client, url("report_overview", "340000")) == 8

    def test_query_count_does_not_grow_with_rows(self, cast, report, client_for):
        client = client_for(cast.province_approver)
        count_queries(client, url("report_list"))
        few = count_queries(client, url("report_list"))
        for quarter in (1, 2, 3):
            quarterly_report_request(actor=cast.city_approver, city=cast.regions["340100"], year=2026,
                                     quarter=quarter)
        assert count_queries(client, url("report_list")) == few
        # 1 session, 2 user, 3 held codenames, 4-5 approve_changes / inspect grants, 6 count, 7 the page
        # with city and users joined, 8 reporting cities, 9 provinces (overview links), 10-12 session save.
        assert few == 12


def test_evidence_lives_in_private_storage():
    assert InspectionItem._meta.get_field("evidence").storage.__class__.__name__ == "PrivateMediaStorage"


@pytest.mark.django_db
def test_navigation_offers_each_role_its_oversight_pages(cast, rf):
    from xueji.context_processors import navigation

    def labels(user):
        request = rf.get("/")
        request.user = user
        return [label for label, _ in navigation(request)["nav_items"]]

    assert {"统计概览", "抽查", "整改通知", "季度报告"} <= set(labels(cast.city_approver))
    assert {"统计概览", "抽查", "整改通知", "季度报告"} <= set(labels(cast.inspector))
    assert {"统计概览", "抽查核实", "整改通知"} <= set(labels(cast.registrar_a))
    assert not {"统计概览", "抽查", "整改通知", "季度报告"} & set(labels(cast.head_teacher_a))
    assert all(labels(cast.city_approver).count(label) == 1 for label in labels(cast.city_approver))


@pytest.mark.django_db
def test_reports_are_listed_newest_period_first(cast, client_for):
    for quarter in (2, 4, 1, 3):
        quarterly_report_request(actor=cast.city_approver, city=cast.regions["340100"], year=2026, quarter=quarter)
    client = client_for(cast.city_approver)
    assert [r.quarter for r in client.get(url("report_list")).context["page_obj"]] == [4, 3, 2, 1]
    assert [r.quarter for r in client.get(url("report_list"), {"sort": "period"}).context["page_obj"]] == [1, 2, 3, 4]
