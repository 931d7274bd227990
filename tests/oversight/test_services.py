"""Services: school verification and verdicts, rectification notices, quarterly reports."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone

from audits.models import AuditEvent
from oversight.models import InspectionItem, QuarterlyReport, RectificationNotice
from oversight.services import (
    inspection_assign,
    inspection_close,
    inspection_create,
    inspection_item_answer,
    inspection_item_judge,
    is_reporting_unit,
    quarterly_report_request,
    quarterly_report_submit,
    rectification_issue,
    rectification_reply,
    rectification_review,
)

from .conftest import PNG


def png(name="证明.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


@pytest.fixture
def inspection(cast, students):
    """An assigned inspection of every active record in 瑶海区 (school_a: 4, school_a2: 3)."""
    made = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                             inspected_region=cast.regions["340102"], title="瑶海区抽查", size=7, seed="s")
    return inspection_assign(actor=cast.inspector, inspection=made)


def item_of(inspection, school):
    return inspection.items.filter(school=school).order_by("position").first()


@pytest.mark.django_db
class TestVerification:
    def test_the_registrar_answers_with_evidence(self, cast, inspection):
        item = inspection_item_answer(actor=cast.registrar_a, item=item_of(inspection, cast.school_a),
                                      answer="corrected", note="出生日期录错，已更正", upload=png())
        item.refresh_from_db()
        assert item.answer == "corrected" and item.answered_by == cast.registrar_a
        assert item.evidence_type == "image/png" and item.evidence.read() == PNG
        assert AuditEvent.objects.filter(kind="submission", target_id=str(item.pk)).exists()

    def test_a_correction_needs_a_note_and_evidence_must_be_a_scan(self, cast, inspection):
        item = item_of(inspection, cast.school_a)
        with pytest.raises(ValidationError) as exc:
            inspection_item_answer(actor=cast.registrar_a, item=item, answer="corrected")
        assert "note" in exc.value.error_dict
        with pytest.raises(ValidationError) as exc:
            inspection_item_answer(actor=cast.registrar_a, item=item, answer="verified",
                                   upload=SimpleUploadedFile("x.png", b"MZ\x90\x00fake", content_type="image/png"))
        assert "evidence" in exc.value.error_dict

    def test_other_schools_and_other_roles_cannot_answer(self, cast, inspection):
        item = item_of(inspection, cast.school_a)
        for user in (cast.registrar_a2, cast.approver_a, cast.inspector):
            with pytest.raises(PermissionDenied):
                inspection_item_answer(actor=user, item=item, answer="verified")

    def test_nothing_is_answered_before_the_sample_is_sent(self, cast, students):
        drawn = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                  inspected_region=cast.regions["340102"], title="t", size=7, seed="s")
        with pytest.raises(ValidationError):
            inspection_item_answer(actor=cast.registrar_a, item=item_of(drawn, cast.school_a), answer="verified")


@pytest.mark.django_db
class TestVerdicts:
    def test_the_inspector_judges_and_closes(self, cast, inspection):
        with pytest.raises(ValidationError):
            inspection_close(actor=cast.inspector, inspection=inspection)
        for n, item in enumerate(inspection.items.all()):
            inspection_item_judge(actor=cast.inspector, item=item, verdict=["correct", "corrected", "false"][n % 3],
                                  note="空挂学籍" if n % 3 == 2 else "")
        closed = inspection_close(actor=cast.inspector, inspection=inspection)
        assert closed.status == "closed"
        assert dict(inspection.items.values_list("verdict").order_by().annotate(n=Count("id"))) == {
            "correct": 3, "corrected": 2, "false": 2}
        with pytest.raises(ValidationError):  # closed: no more verdicts
            inspection_item_judge(actor=cast.inspector, item=inspection.items.first(), verdict="correct")

    def test_false_needs_a_note_and_locks_the_school_answer(self, cast, inspection):
        item = item_of(inspection, cast.school_a)
        with pytest.raises(ValidationError):
            inspection_item_judge(actor=cast.inspector, item=item, verdict="false")
        inspection_item_judge(actor=cast.inspector, item=item, verdict="false", note="查无此人")
        with pytest.raises(ValidationError):
            inspection_item_answer(actor=cast.registrar_a, item=item, answer="verified")

    def test_only_inspectors_of_the_inspecting_unit_judge(self, cast, inspection, county_inspectors):
        item = item_of(inspection, cast.school_a)
        for user in (cast.city_approver, county_inspectors[0], cast.registrar_a):
            with pytest.raises(PermissionDenied):
                inspection_item_judge(actor=user, item=item, verdict="correct")

    def test_in_a_cross_check_the_other_county_judges(self, cast, students, county_inspectors):
        yaohai, shushan = county_inspectors
        cross = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"], kind="cross",
                                  inspected_region=cast.regions["340102"], inspecting_region=cast.regions["340104"],
                                  title="互查", size=2, seed="c")
        inspection_assign(actor=cast.inspector, inspection=cross)
        item = cross.items.first()
        assert inspection_item_judge(actor=shushan, item=item, verdict="correct").verdict == "correct"
        with pytest.raises(PermissionDenied):  # the inspected county does not judge itself
            inspection_item_judge(actor=yaohai, item=item, verdict="correct")


@pytest.mark.django_db
class TestRectification:
    def issue(self, cast, **kwargs):
        fields = {"actor": cast.county_approver, "issuer": cast.regions["340102"], "target": cast.school_a,
                  "failing": "late_entry", "title": "新生注册逾期", "details": "9月30日前未完成新生注册",
                  "deadline": timezone.localdate() + timedelta(days=10)}
        fields.update(kwargs)
        return rectification_issue(**fields)

    def test_issue_reply_return_reply_close(self, cast):
        notice = self.issue(cast)
        assert notice.status == "issued" and notice.target_path == cast.school_a.path
        rectification_reply(actor=cast.registrar_a, notice=notice, text="已补录", upload=png())
        notice.refresh_from_db()
        assert notice.status == "replied"
        later = timezone.localdate() + timedelta(days=20)
        rectification_review(actor=cast.county_approver, notice=notice, decision="returned", comment="材料不全",
                             new_deadline=later)
        notice.refresh_from_db()
        assert notice.status == "returned" and notice.deadline == later
        rectification_reply(actor=cast.approver_a, notice=notice, text="已补齐材料")
        rectification_review(actor=cast.county_approver, notice=notice, decision="closed")
        notice.refresh_from_db()
        assert notice.status == "closed" and notice.closed_by == cast.county_approver
        assert list(notice.replies.values_list("decision", flat=True)) == ["returned", "closed"]
        assert AuditEvent.objects.filter(target_id=str(notice.pk), kind="decision").count() == 3

    def test_a_city_issues_to_a_school_two_levels_down(self, cast):
        notice = self.issue(cast, actor=cast.city_approver, issuer=cast.regions["340100"],
                            failing="obstructed_transfer")
        assert notice.issuer_path == "340000/340100/"

    def test_only_units_below_the_issuer(self, cast):
        for target in (cast.regions["340102"], cast.school_b, cast.regions["340100"]):
            with pytest.raises(ValidationError):
                self.issue(cast, target=target)
        with pytest.raises(PermissionDenied):
            self.issue(cast, actor=cast.inspector, issuer=cast.regions["340100"])

    def test_fields_are_checked(self, cast):
        for bad in ({"failing": "x"}, {"title": " "}, {"details": ""}, {"deadline": date(2020, 1, 1)}):
            with pytest.raises(ValidationError):
                self.issue(cast, **bad)
        assert not RectificationNotice.objects.exists()

    def test_only_the_target_unit_replies_and_only_the_issuer_reviews(self, cast):
        notice = self.issue(cast)
        for user in (cast.county_approver, cast.city_approver, cast.registrar_a2, cast.head_teacher_a):
            with pytest.raises(PermissionDenied):
                rectification_reply(actor=user, notice=notice, text="x")
        rectification_reply(actor=cast.registrar_a, notice=notice, text="已整改")
        for user in (cast.approver_a, cast.other_county_approver):
            with pytest.raises(PermissionDenied):
                rectification_review(actor=user, notice=notice, decision="closed")
        with pytest.raises(ValidationError):  # returning needs a reason
            rectification_review(actor=cast.county_approver, notice=notice, decision="returned")
        # A bureau above the issuer may also review.
        rectification_review(actor=cast.city_approver, notice=notice, decision="closed")

    def test_no_reply_once_replied_or_closed(self, cast):
        notice = self.issue(cast)
        rectification_reply(actor=cast.registrar_a, notice=notice, text="已整改")
        with pytest.raises(ValidationError):
            rectification_reply(actor=cast.registrar_a, notice=notice, text="再次")


@pytest.mark.django_db
class TestQuarterlyReport:
    def test_generated_in_celery_then_submitted(self, cast, students, django_capture_on_commit_callbacks):
        today = timezone.localdate()
        quarter = (today.month - 1) // 3 + 1
        with django_capture_on_commit_callbacks(execute=True):
            report = quarterly_report_request(actor=cast.city_approver, city=cast.regions["340100"],
                                              year=today.year, quarter=quarter)
        report.refresh_from_db()
        assert report.status == "ready", report.error
        assert report.figures["students"]["total"] == 10
        assert report.figures["students"]["flags"]["migrant"] == 2
        assert report.figures["students"]["flags"]["left_behind_both"] == 1
        quarterly_report_submit(actor=cast.city_approver, report=report, note="已审阅")
        report.refresh_from_db()
        assert report.status == "submitted" and report.review_note == "已审阅"
        with pytest.raises(ValidationError):
            quarterly_report_request(actor=cast.city_approver, city=cast.regions["340100"], year=today.year,
                                     quarter=quarter)

    def test_only_a_city_bureau_for_a_quarter_that_began(self, cast):
        today = timezone.localdate()
        with pytest.raises(PermissionDenied):
            quarterly_report_request(actor=cast.county_approver, city=cast.regions["340100"], year=today.year,
                                     quarter=1)
        with pytest.raises(ValidationError):
            quarterly_report_request(actor=cast.county_approver, city=cast.regions["340102"], year=today.year,
                                     quarter=1)
        with pytest.raises(ValidationError):
            quarterly_report_request(actor=cast.city_approver, city=cast.regions["340100"], year=today.year + 1,
                                     quarter=1)
        assert not QuarterlyReport.objects.exists()

    def test_reporting_units(self, cast):
        assert is_reporting_unit(cast.regions["340100"]) and is_reporting_unit(cast.regions["429004"])
        assert not is_reporting_unit(cast.regions["340102"]) and not is_reporting_unit(cast.regions["340000"])

    def test_a_failure_shows_on_the_report(self, cast, monkeypatch, django_capture_on_commit_callbacks):
        from oversight import figures

        def boom(*args, **kwargs):
            raise RuntimeError("数据库不可用")

        monkeypatch.setattr(figures, "report_figures", boom)
        with django_capture_on_commit_callbacks(execute=True):
            report = quarterly_report_request(actor=cast.city_approver, city=cast.regions["340100"], year=2026,
                                              quarter=1)
        report.refresh_from_db()
        assert report.status == "failed" and "数据库不可用" in report.error
        with pytest.raises(ValidationError):
            quarterly_report_submit(actor=cast.city_approver, report=report)


def test_item_verdict_choices_cover_the_issue():
    assert set(InspectionItem.Verdict.values) == {"pending", "correct", "corrected", "false"}


def test_report_sections_keep_code_order_whatever_the_json_order():
    from oversight.reports import as_of_label, report_sections

    figures = {"students": {"total": 3, "by_stage": {"senior": 1, "primary": 2},
                            "by_grade": {"31": 1, "11": 2}, "by_gender": {"2": 1, "1": 2},
                            "by_ethnicity": {"02": 1, "01": 2}, "flags": {"orphan": 0, "left_behind": 1}},
               "changes": {"submitted": {}, "completed": {}}, "steps": {}, "roll_checks": None,
               "inspections": {}, "rectifications": {}, "as_of": "2026-11-29T19:09:16+08:00"}
    sections = {s["title"]: s for s in report_sections(figures)}
    assert [r[0] for r in sections["按学段"]["rows"]] == ["小学", "高中"]
    assert [r[0] for r in sections["按年级"]["rows"]] == ["一年级", "高一"]
    assert [r[0] for r in sections["按性别"]["rows"]] == ["男", "女"]
    assert [r[0] for r in sections["特殊群体"]["rows"]] == ["留守儿童", "孤儿"]
    assert sections["按月核对"]["empty"] == "暂无数据"
    assert sections["本季度学籍异动（提交 / 办结）"]["rows"] == [("合计", "0 / 0")]
    assert as_of_label(figures) == "2026-11-29 19:09"
