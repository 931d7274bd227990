"""Pages of the school year: the trio (allowed / in scope without the right → 403 / other unit →
404) for every view, forms that keep their input, and query counts of the lists."""

import os
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from schoolyear.models import GraduationBatch, PromotionRun
from schoolyear.selectors import graduating_grades
from schoolyear.services import graduation_decide, graduation_submit, promotion_school, promotion_start
from transfers.services import change_create_draft
from xueji.history import save_with_history

from .helpers import pupil, queued_run

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"schoolyear:{name}", args=args)


def queries(client, path, data=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, data or {}).status_code == 200
    if os.environ.get("SHOW_QUERIES"):
        print("\n".join(q["sql"][:150] for q in ctx.captured_queries))
    return len(ctx.captured_queries)


@pytest.fixture
def top_a(cast):
    return graduating_grades(cast.school_a)[0]


@pytest.fixture
def batch(cast, top_a):
    s = pupil(cast.registrar_a, cast.school_a, level=6)
    return graduation_submit(actor=cast.registrar_a, grade=top_a, outcomes={s.pk: "graduated"})


class TestGraduationIndex:
    def test_registrar_sees_the_batches_and_the_graduating_grade(self, cast, batch, top_a, client_for):
        response = client_for(cast.registrar_a).get(url("graduation_index"))
        assert response.status_code == 200
        assert [b.pk for b in response.context["page_obj"]] == [batch.pk]
        assert response.context["own_grades"] == [top_a]

    def test_waiting_for_me(self, cast, batch, client_for):
        assert len(client_for(cast.approver_a).get(url("graduation_index"), {"mine": "1"}).context["page_obj"]) == 1
        assert not client_for(cast.county_approver).get(url("graduation_index"), {"mine": "1"}).context[
            "page_obj"].object_list

    def test_without_student_rights_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(url("graduation_index")).status_code == 403

    def test_other_units_see_nothing(self, cast, batch, client_for):
        assert not client_for(cast.registrar_b).get(url("graduation_index")).context["page_obj"].object_list

    def test_query_count(self, cast, batch, top_a, client_for):
        few = queries(client_for(cast.county_approver), url("graduation_index"), {"status": "submitted"})
        for _ in range(3):
            s = pupil(cast.registrar_a, cast.school_a, level=6)
            graduation_submit(actor=cast.registrar_a, grade=top_a, outcomes={s.pk: "completed"})
        assert queries(client_for(cast.county_approver), url("graduation_index"), {"status": "submitted"}) == few
        # 1 session, 2 user, 3 held codenames, 4 grants (view_students), 5 grants (edit_students: own
        # grades), 6 count, 7 page of batches with school, grade, submitter and entry count,
        # 8-10 session save
        assert few == 10


class TestGraduationGrade:
    def test_registrar_submits_the_ticked_students_with_outcomes(self, cast, top_a, client_for):
        a, b = (pupil(cast.registrar_a, cast.school_a, level=6) for _ in range(2))
        client = client_for(cast.registrar_a)
        page = client.get(url("graduation_grade", top_a.pk))
        assert page.status_code == 200 and page.context["can_submit"] and len(page.context["form"].students) == 2
        response = client.post(url("graduation_grade", top_a.pk), {f"pick_{a.pk}": "on", f"outcome_{a.pk}": "completed",
                                                                   f"outcome_{b.pk}": "graduated"})
        batch = GraduationBatch.objects.get()
        assert response.status_code == 302 and response["Location"] == url("batch_detail", batch.pk)
        assert [(e.student_id, e.outcome) for e in batch.entries.all()] == [(a.pk, "completed")]

    def test_nothing_ticked_or_a_bad_outcome_keeps_the_form(self, cast, top_a, client_for):
        a = pupil(cast.registrar_a, cast.school_a, level=6)
        client = client_for(cast.registrar_a)
        response = client.post(url("graduation_grade", top_a.pk), {f"outcome_{a.pk}": "graduated"})
        assert response.status_code == 200 and response.context["form"].non_field_errors()
        response = client.post(url("graduation_grade", top_a.pk), {f"pick_{a.pk}": "on", f"outcome_{a.pk}": "x"})
        assert response.status_code == 200 and f"outcome_{a.pk}" in response.context["form"].errors
        assert not GraduationBatch.objects.exists()

    def test_blocked_students_are_listed_with_a_link(self, cast, top_a, client_for):
        a = pupil(cast.registrar_a, cast.school_a, level=6)
        change = change_create_draft(actor=cast.registrar_a, kind="death", student=a, reason_category="illness",
                                     reason="x")
        response = client_for(cast.county_approver).get(url("graduation_grade", top_a.pk))
        assert not response.context["can_submit"]
        assert f'href="/changes/{change.pk}/"' in response.content.decode()

    def test_approver_may_look_but_not_submit(self, cast, top_a, client_for):
        a = pupil(cast.registrar_a, cast.school_a, level=6)
        client = client_for(cast.approver_a)
        assert client.get(url("graduation_grade", top_a.pk)).status_code == 200
        assert client.post(url("graduation_grade", top_a.pk), {f"pick_{a.pk}": "on",
                                                               f"outcome_{a.pk}": "graduated"}).status_code == 403

    def test_without_student_rights_403_other_unit_404(self, cast, top_a, client_for):
        assert client_for(cast.system_admin).get(url("graduation_grade", top_a.pk)).status_code == 403
        assert client_for(cast.registrar_b).get(url("graduation_grade", top_a.pk)).status_code == 404

    def test_not_a_graduating_grade_404(self, cast, client_for):
        fifth = cast.school_a.grades.get(level=5)
        assert client_for(cast.registrar_a).get(url("graduation_grade", fifth.pk)).status_code == 404

    def test_query_count(self, cast, top_a, client_for):
        pupil(cast.registrar_a, cast.school_a, level=6)
        few = queries(client_for(cast.registrar_a), url("graduation_grade", top_a.pk))
        for n in (1, 2, 2):
            pupil(cast.registrar_a, cast.school_a, level=6, class_number=n)
        assert queries(client_for(cast.registrar_a), url("graduation_grade", top_a.pk)) == few
        # 1 session, 2 user, 3 grants (scope), 4 the grade with school and authority, 5 permission
        # (view_students), 6 permission (edit_students), 7 students with classes, 8-10 blockers (open
        # changes, open problem records, pending batches), 11 this grade's batches, 12 held codenames
        # (nav), 13-15 session save
        assert few == 15


class TestBatchPages:
    def test_school_approver_decides(self, cast, batch, client_for):
        client = client_for(cast.approver_a)
        assert client.get(url("batch_detail", batch.pk)).context["can_decide"]
        response = client.post(url("batch_decide", batch.pk), {"decision": "approve"})
        assert response.status_code == 302
        batch.refresh_from_db()
        assert batch.status == "completed"

    def test_a_rejection_without_a_reason_is_refused(self, cast, batch, client_for):
        client_for(cast.approver_a).post(url("batch_decide", batch.pk), {"decision": "reject"})
        batch.refresh_from_db()
        assert batch.status == "submitted"

    def test_registrar_may_not_decide(self, cast, batch, client_for):
        assert not client_for(cast.registrar_a).get(url("batch_detail", batch.pk)).context["can_decide"]
        assert client_for(cast.registrar_a).post(url("batch_decide", batch.pk),
                                                 {"decision": "approve"}).status_code == 403

    def test_a_bureau_does_not_decide_the_schools_step(self, cast, batch, client_for):
        assert client_for(cast.county_approver).post(url("batch_decide", batch.pk),
                                                     {"decision": "approve"}).status_code == 403

    def test_other_unit_404(self, cast, batch, client_for):
        assert client_for(cast.registrar_b).get(url("batch_detail", batch.pk)).status_code == 404
        assert client_for(cast.approver_b).post(url("batch_decide", batch.pk),
                                                {"decision": "approve"}).status_code == 404
        assert client_for(cast.system_admin).get(url("batch_detail", batch.pk)).status_code == 403

    def test_undo_by_the_bureau(self, cast, batch, client_for):
        graduation_decide(actor=cast.approver_a, batch=batch, decision="approve")
        entry = batch.entries.get()
        assert client_for(cast.county_approver).get(url("batch_detail", batch.pk)).context["can_undo"]
        assert client_for(cast.approver_a).post(url("entry_undo", entry.pk), {"reason": "误"}).status_code == 403
        assert client_for(cast.approver_b).post(url("entry_undo", entry.pk), {"reason": "误"}).status_code == 404
        client_for(cast.county_approver).post(url("entry_undo", entry.pk), {"reason": ""})
        entry.refresh_from_db()
        assert entry.state == "applied"  # no reason, no undo
        response = client_for(cast.county_approver).post(url("entry_undo", entry.pk), {"reason": "需补考"})
        assert response.status_code == 302
        entry.refresh_from_db()
        assert entry.state == "undone"

    def test_batch_page_query_count(self, cast, batch, top_a, client_for):
        few = queries(client_for(cast.approver_a), url("batch_detail", batch.pk))
        more = [pupil(cast.registrar_a, cast.school_a, level=6) for _ in range(3)]
        bigger = graduation_submit(actor=cast.registrar_a, grade=top_a, outcomes={s.pk: "graduated" for s in more})
        assert queries(client_for(cast.approver_a), url("batch_detail", bigger.pk)) == few
        # 1 session, 2 user, 3 grants (scope), 4 the batch with school, authority, grade and deciders,
        # 5 permission (view_students), 6 grants (approve_changes), 7 entries with students and classes,
        # 8 held codenames (nav), 9-11 session save
        assert few == 11


@pytest.fixture
def run(cast, django_capture_on_commit_callbacks):
    """This year's run, done for three schools (the queued task is not run)."""
    pupil(cast.registrar_a, cast.school_a, level=6)
    pupil(cast.registrar_a, cast.school_a, level=2)
    with django_capture_on_commit_callbacks(execute=False):
        run = promotion_start(actor=cast.province_approver, province=cast.regions["340000"], today=date(2026, 8, 10))
    for school in (cast.school_a, cast.school_a2, cast.school_b):
        promotion_school(run=run, school=school)
    return run


class TestPromotionPages:
    def test_index_shows_runs_and_the_start_form_to_the_province(self, cast, run, client_for):
        response = client_for(cast.province_approver).get(url("promotion_index"))
        assert [r.pk for r in response.context["page_obj"]] == [run.pk]
        assert [p.code for p in response.context["provinces"]] == ["340000"]
        response = client_for(cast.registrar_a).get(url("promotion_index"))
        assert [r.pk for r in response.context["page_obj"]] == [run.pk] and not response.context["provinces"]
        assert client_for(cast.system_admin).get(url("promotion_index")).status_code == 403
        assert not client_for(cast.other_province_registrar).get(url("promotion_index")).context["page_obj"].object_list

    def test_index_query_count(self, cast, run, client_for):
        few = queries(client_for(cast.registrar_a), url("promotion_index"))
        for year in (2027, 2028):
            queued_run(cast, year)
        assert queries(client_for(cast.registrar_a), url("promotion_index")) == few
        # 1 session, 2 user, 3 held codenames, 4 grants (view_students), 5 the school's province,
        # 6 grants (approve_changes: provinces to start), 7 count, 8 page of runs with province and
        # starter, 9-11 session save
        assert few == 11

    def test_start_trio(self, cast, client_for, django_capture_on_commit_callbacks):
        assert client_for(cast.system_admin).post(url("promotion_start"), {"province": "340000"}).status_code == 403
        assert client_for(cast.other_security_admin).post(url("promotion_start"),
                                                          {"province": "340000"}).status_code == 404
        assert client_for(cast.province_approver).post(url("promotion_start"), {"province": "x"}).status_code == 404
        response = client_for(cast.province_approver).post(url("promotion_start"), {"province": "340000"})
        assert response.status_code == 302
        if date.today() >= date(date.today().year, 8, 10):
            assert PromotionRun.objects.filter(province_id="340000").exists()
        else:
            assert not PromotionRun.objects.exists()

    def test_run_detail_is_scoped_to_the_users_schools(self, cast, run, client_for):
        response = client_for(cast.registrar_a).get(url("run_detail", run.pk))
        assert response.status_code == 200 and response.context["totals"]["schools"] == 1
        assert {r.school_id for r in response.context["page_obj"]} == {cast.school_a.pk}
        assert client_for(cast.province_approver).get(url("run_detail", run.pk)).context["totals"]["schools"] == 3
        assert client_for(cast.system_admin).get(url("run_detail", run.pk)).status_code == 403
        assert client_for(cast.other_province_registrar).get(url("run_detail", run.pk)).status_code == 404

    def test_skips_list(self, cast, run, client_for):
        response = client_for(cast.registrar_a).get(url("run_skips", run.pk), {"reason": "graduating"})
        assert [s.reason for s in response.context["page_obj"]] == ["graduating"]
        assert not client_for(cast.registrar_b).get(url("run_skips", run.pk)).context["page_obj"].object_list
        assert client_for(cast.system_admin).get(url("run_skips", run.pk)).status_code == 403
        assert client_for(cast.other_province_registrar).get(url("run_skips", run.pk)).status_code == 404

    def test_resume_trio(self, cast, run, client_for):
        run.status = PromotionRun.Status.FAILED  # as the Celery task leaves a run that failed
        save_with_history(run, actor=None, reason="测试：执行失败", update_fields=["status"])
        assert client_for(cast.registrar_a).post(url("run_resume", run.pk)).status_code == 403
        assert client_for(cast.other_province_registrar).post(url("run_resume", run.pk)).status_code == 404
        assert client_for(cast.province_approver).post(url("run_resume", run.pk)).status_code == 302
        run.refresh_from_db()
        assert run.status == PromotionRun.Status.QUEUED  # queued again; schools done stay done

    def test_catch_up_trio(self, cast, run, client_for):
        response = client_for(cast.province_approver).post(url("run_catch_up", run.pk))
        assert response.status_code == 302 and response["Location"] == url("run_skips", run.pk)
        assert client_for(cast.registrar_a).post(url("run_catch_up", run.pk)).status_code == 403
        assert client_for(cast.other_province_registrar).post(url("run_catch_up", run.pk)).status_code == 404

    def test_query_counts(self, cast, run, client_for):
        client = client_for(cast.province_approver)
        few = [queries(client, url(name, run.pk)) for name in ("run_detail", "run_skips")]
        for _ in range(3):
            pupil(cast.registrar_b, cast.school_b, level=6)
        promotion_school(run=run, school=cast.senior_school)
        assert [queries(client, url(name, run.pk)) for name in ("run_detail", "run_skips")] == few
        # run_detail: 1 session, 2 user, 3 the run, 4-5 grants (any, view_students: the run's province
        # and the schools in scope), 6 totals, 7 skip counts by reason, 8 count, 9 held codenames (nav),
        # 10 page of results with schools, 11-13 session save. run_skips: the same without totals and
        # skip counts (11).
        assert few == [13, 11]
