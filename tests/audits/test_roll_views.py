"""Pages of roll checks, present-without-record cases, follow-ups and the daily roll call: the trio
(allowed / in scope without the right → 403 / other unit → 404) for every view, forms that keep
their input, and query counts of the lists."""

import os
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.models import AbsenceFollowUp, DailyRollCall, RollCheck, RollCheckEntry, UnrecordedChild
from audits.roll_services import (
    absence_follow_up_update,
    roll_check_complete,
    roll_check_mark,
    roll_checks_open,
    unrecorded_add,
)
from students.models import StudentStatus
from tests.schoolyear.helpers import pupil

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MON = date(2025, 11, 3)


def url(name, *args):
    return reverse(f"audits:{name}", args=args)


def queries(client, path, data=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path, data or {}).status_code == 200
    if os.environ.get("SHOW_QUERIES"):
        print("\n".join(q["sql"][:150] for q in ctx.captured_queries))
    return len(ctx.captured_queries)


@pytest.fixture
def check(cast):
    """This month's roll check of class_a with two pupils."""
    for _ in range(2):
        pupil(cast.registrar_a, cast.school_a, level=1)
    roll_checks_open()
    return RollCheck.objects.get(school_class=cast.class_a)


@pytest.fixture
def follow_up(cast, check):
    roll_check_mark(actor=cast.head_teacher_a, roll_check=check,
                    student=cast.class_a.students.first(), missing=True)
    roll_check_complete(actor=cast.head_teacher_a, roll_check=check)
    return AbsenceFollowUp.objects.get()


class TestRollIndex:
    def test_head_teacher_sees_the_class(self, cast, check, client_for):
        response = client_for(cast.head_teacher_a).get(url("roll_index"))
        assert response.status_code == 200 and [c.pk for c in response.context["page_obj"]] == [check.pk]

    def test_without_student_rights_403(self, cast, check, client_for):
        assert client_for(cast.system_admin).get(url("roll_index")).status_code == 403

    def test_other_units_see_nothing(self, cast, check, client_for):
        assert not client_for(cast.registrar_b).get(url("roll_index")).context["page_obj"].object_list

    def test_filters_and_bad_input(self, cast, check, client_for):
        client = client_for(cast.registrar_a)
        assert len(client.get(url("roll_index"), {"status": "open"}).context["page_obj"]) == 1
        assert not client.get(url("roll_index"), {"status": "completed"}).context["page_obj"].object_list
        assert not client.get(url("roll_index"), {"month": "2020-01"}).context["page_obj"].object_list
        for bad in ({"month": "x"}, {"month": "2025-13"}, {"sort": "?"}, {"page": "z"}, {"school": "abc"}):
            assert client.get(url("roll_index"), bad).status_code == 200

    def test_query_count(self, cast, check, client_for):
        client = client_for(cast.county_approver)
        few = queries(client, url("roll_index"))
        for level in (2, 3):
            pupil(cast.registrar_a, cast.school_a, level=level)
        roll_checks_open()
        assert queries(client, url("roll_index")) == few
        # 1 session, 2 user, 3 held codenames, 4 grants (view_students), 5 count, 6 the page of checks
        # with class, grade, school and completer joined; 7-9 session save (savepoint, update, release)
        assert few == 9


class TestRollSchools:
    def test_bureau_sees_completion_and_mismatches_by_school(self, cast, follow_up, client_for):
        response = client_for(cast.county_approver).get(url("roll_schools"))
        row = response.context["page_obj"][0]
        assert (row["school__name"], row["total"], row["completed"], row["missing"]) == ("瑶海区第一小学", 1, 1, 1)

    def test_without_student_rights_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(url("roll_schools")).status_code == 403

    def test_other_province_sees_nothing(self, cast, check, client_for):
        assert not client_for(cast.other_province_registrar).get(url("roll_schools")).context["page_obj"].object_list

    def test_query_count(self, cast, check, client_for):
        client = client_for(cast.city_approver)
        few = queries(client, url("roll_schools"), {"sort": "-missing"})
        pupil(cast.registrar_b, cast.school_b, level=1)
        roll_checks_open()
        assert queries(client, url("roll_schools"), {"sort": "-missing"}) == few
        # 1 session, 2 user, 3 held codenames, 4 grants, 5 count of groups, 6 the page (GROUP BY school),
        # 7-9 session save
        assert few == 9


class TestNarrowedToARegion:
    """A bureau's overview links a region's row to its lists with ``region=<code>``: the list then
    holds that region's items only, never the bureau's whole scope."""

    @pytest.fixture
    def two_counties(self, cast):
        # 瑶海区 (school_a, one class with a missing child) and 蜀山区 (school_b, one class).
        for registrar, school in ((cast.registrar_a, cast.school_a), (cast.registrar_b, cast.school_b)):
            pupil(registrar, school, level=1)
        roll_checks_open()
        check_a = RollCheck.objects.get(school=cast.school_a)
        roll_check_mark(actor=cast.head_teacher_a, roll_check=check_a, student=cast.class_a.students.get(),
                        missing=True)
        roll_check_complete(actor=cast.head_teacher_a, roll_check=check_a)
        return cast

    def test_the_schools_overview_of_a_county(self, two_counties, client_for):
        cast = two_counties
        client = client_for(cast.city_approver)
        everything = client.get(url("roll_schools")).context["page_obj"]
        assert {r["school_id"] for r in everything} == {cast.school_a.pk, cast.school_b.pk}
        response = client.get(url("roll_schools"), {"region": "340104"})
        assert [r["school_id"] for r in response.context["page_obj"]] == [cast.school_b.pk]
        # The filter form keeps the region, so searching or changing the month stays inside it.
        assert 'name="region" value="340104"' in response.content.decode()

    def test_the_other_lists_of_a_county(self, two_counties, client_for):
        cast = two_counties
        client = client_for(cast.city_approver)
        checks = client.get(url("roll_index"), {"region": "340104"}).context["page_obj"]
        assert [c.school_id for c in checks] == [cast.school_b.pk]
        follow_ups = client.get(url("follow_up_list"), {"region": "340102"}).context["page_obj"]
        assert [f.school_id for f in follow_ups] == [cast.school_a.pk]
        assert not client.get(url("follow_up_list"), {"region": "340104"}).context["page_obj"].object_list

    def test_a_region_outside_the_scope_shows_nothing_and_bad_codes_change_nothing(self, two_counties, client_for):
        cast = two_counties
        client = client_for(cast.county_approver)  # 瑶海区
        assert not client.get(url("roll_schools"), {"region": "340104"}).context["page_obj"].object_list
        assert not client.get(url("roll_schools"), {"region": "999999"}).context["page_obj"].object_list
        for bad in ("34010", "abcdef", "3401021"):
            rows = client.get(url("roll_schools"), {"region": bad}).context["page_obj"]
            assert [r["school_id"] for r in rows] == [cast.school_a.pk]

    def test_one_more_query_for_the_region(self, two_counties, client_for):
        client = client_for(two_counties.city_approver)
        # The nine of TestRollSchools.test_query_count, and the region's path.
        assert queries(client, url("roll_schools"), {"region": "340102"}) == 10


class TestRollCheckPage:
    def test_head_teacher_gets_the_roster_with_toggles(self, cast, check, client_for):
        response = client_for(cast.head_teacher_a).get(url("roll_check", check.pk))
        assert response.status_code == 200 and response.context["can_roll"]
        assert len(response.context["roster"]) == 2 and "标记不在校" in response.content.decode()

    def test_registrar_reads_without_toggles(self, cast, check, client_for):
        response = client_for(cast.registrar_a).get(url("roll_check", check.pk))
        assert response.status_code == 200 and not response.context["can_roll"]

    def test_without_student_rights_403(self, cast, check, client_for):
        assert client_for(cast.system_admin).get(url("roll_check", check.pk)).status_code == 403

    def test_other_unit_404(self, cast, check, client_for):
        assert client_for(cast.registrar_b).get(url("roll_check", check.pk)).status_code == 404

    def test_query_count_does_not_grow_with_the_roster(self, cast, check, client_for):
        client = client_for(cast.head_teacher_a)
        few = queries(client, url("roll_check", check.pk))
        for _ in range(5):
            pupil(cast.registrar_a, cast.school_a, level=1)
        assert queries(client, url("roll_check", check.pk)) == few
        # 1 session, 2 user, 3 grants (scope), 4 the check with class, grade and school, 5 permission
        # (view_students), 6 permission (take_roll), 7 roster with each child's mark (subquery),
        # 8 present-without-record cases, 9 held codenames (nav), 10-12 session save
        assert few == 12


class TestMark:
    def test_head_teacher_toggles_by_htmx(self, cast, check, client_for):
        student = cast.class_a.students.first()
        response = client_for(cast.head_teacher_a).post(url("roll_check_mark", check.pk, student.pk), {"missing": "1"},
                                                        HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "改为在校" in response.content.decode()
        assert RollCheckEntry.objects.get().presence == "missing"
        response = client_for(cast.head_teacher_a).post(url("roll_check_mark", check.pk, student.pk), {"missing": "0"})
        assert response.status_code == 302 and RollCheckEntry.objects.get().presence == "present"

    def test_registrar_403(self, cast, check, client_for):
        student = cast.class_a.students.first()
        assert client_for(cast.registrar_a).post(url("roll_check_mark", check.pk, student.pk),
                                                 {"missing": "1"}).status_code == 403

    def test_other_unit_404(self, cast, check, client_for):
        student = cast.class_a.students.first()
        assert client_for(cast.registrar_b).post(url("roll_check_mark", check.pk, student.pk),
                                                 {"missing": "1"}).status_code == 404

    def test_a_child_not_on_the_roster_404(self, cast, check, client_for):
        other = pupil(cast.registrar_a, cast.school_a, level=2)
        assert client_for(cast.head_teacher_a).post(url("roll_check_mark", check.pk, other.pk),
                                                    {"missing": "1"}).status_code == 404


class TestUnrecordedAndComplete:
    def test_head_teacher_adds_a_child_and_a_bad_form_keeps_the_input(self, cast, check, client_for):
        client = client_for(cast.head_teacher_a)
        response = client.post(url("roll_check_unrecorded", check.pk),
                               {"name": "新来", "gender": "", "birth_date": "x"})
        assert response.status_code == 200
        form = response.context["form"]
        assert "gender" in form.errors and "birth_date" in form.errors and form["name"].value() == "新来"
        response = client.post(url("roll_check_unrecorded", check.pk),
                               {"name": "新来", "gender": "1", "birth_date": "2019-04-01", "note": "外省转来"})
        assert response.status_code == 302 and UnrecordedChild.objects.get().name == "新来"

    def test_registrar_403_and_other_unit_404(self, cast, check, client_for):
        data = {"name": "新来", "gender": "1", "birth_date": "2019-04-01"}
        assert client_for(cast.registrar_a).post(url("roll_check_unrecorded", check.pk), data).status_code == 403
        assert client_for(cast.registrar_b).post(url("roll_check_unrecorded", check.pk), data).status_code == 404

    def test_complete(self, cast, check, client_for):
        assert client_for(cast.registrar_a).post(url("roll_check_complete", check.pk)).status_code == 403
        assert client_for(cast.registrar_b).post(url("roll_check_complete", check.pk)).status_code == 404
        response = client_for(cast.head_teacher_a).post(url("roll_check_complete", check.pk))
        assert response.status_code == 302
        check.refresh_from_db()
        assert check.status == "completed" and check.present_count == 2


@pytest.fixture
def case(cast, check):
    return unrecorded_add(actor=cast.head_teacher_a, roll_check=check, name="新来", gender="1",
                          birth_date=date(2019, 4, 1))


class TestUnrecordedCases:
    def test_list_trio_and_query_count(self, cast, case, client_for):
        client = client_for(cast.registrar_a)
        assert [c.pk for c in client.get(url("unrecorded_list")).context["page_obj"]] == [case.pk]
        assert client_for(cast.system_admin).get(url("unrecorded_list")).status_code == 403
        assert not client_for(cast.registrar_b).get(url("unrecorded_list")).context["page_obj"].object_list
        few = queries(client_for(cast.registrar_a), url("unrecorded_list"))
        check = case.roll_check
        for i in range(4):
            unrecorded_add(actor=cast.head_teacher_a, roll_check=check, name=f"新{i}", gender="2",
                           birth_date=date(2019, 1, 1))
        assert queries(client_for(cast.registrar_a), url("unrecorded_list")) == few
        # 1 session, 2 user, 3 held codenames, 4 grants, 5 count, 6 page with school, class, record and
        # check joined, 7-9 session save
        assert few == 9

    def test_registrar_resolves_with_the_record_here(self, cast, case, client_for):
        record = pupil(cast.registrar_a, cast.school_a, level=1, name="新来", status=StudentStatus.PENDING)
        client = client_for(cast.registrar_a)
        response = client.post(url("unrecorded_detail", case.pk), {"status": "registered"})
        assert response.status_code == 200 and "student" in response.context["form"].errors
        response = client.post(url("unrecorded_detail", case.pk), {"status": "registered", "student": record.pk})
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == "registered" and case.student == record

    def test_head_teacher_403_other_unit_404(self, cast, case, client_for):
        data = {"status": "left", "note": "走了"}
        assert client_for(cast.head_teacher_a).get(url("unrecorded_detail", case.pk)).status_code == 200
        assert client_for(cast.head_teacher_a).post(url("unrecorded_detail", case.pk), data).status_code == 403
        assert client_for(cast.registrar_b).post(url("unrecorded_detail", case.pk), data).status_code == 404


class TestFollowUps:
    def test_list_trio_and_query_count(self, cast, follow_up, client_for):
        client = client_for(cast.head_teacher_a)
        assert [f.pk for f in client.get(url("follow_up_list")).context["page_obj"]] == [follow_up.pk]
        assert client_for(cast.system_admin).get(url("follow_up_list")).status_code == 403
        assert not client_for(cast.registrar_b).get(url("follow_up_list")).context["page_obj"].object_list
        few = queries(client_for(cast.registrar_a), url("follow_up_list"), {"status": "all"})
        new = pupil(cast.registrar_a, cast.school_a, level=1)
        roll_checks_open(month=date(2030, 1, 1))
        january = RollCheck.objects.get(month=date(2030, 1, 1))
        roll_check_mark(actor=cast.head_teacher_a, roll_check=january, student=new, missing=True)
        roll_check_complete(actor=cast.head_teacher_a, roll_check=january)
        assert queries(client_for(cast.registrar_a), url("follow_up_list"), {"status": "all"}) == few
        # 1 session, 2 user, 3 held codenames, 4 grants, 5 count, 6 page with student, school, class,
        # closer joined, 7-9 session save
        assert few == 9

    def test_head_teacher_records_with_evidence_and_a_bad_file_keeps_the_input(self, cast, follow_up, client_for):
        client = client_for(cast.head_teacher_a)
        response = client.post(url("follow_up_detail", follow_up.pk), {
            "contacts": "电话联系父亲", "reason": "随迁", "destination": "杭州",
            "evidence": SimpleUploadedFile("a.txt", b"not a scan")})
        assert response.status_code == 200 and "evidence" in response.context["form"].errors
        assert response.context["form"]["contacts"].value() == "电话联系父亲"
        response = client.post(url("follow_up_detail", follow_up.pk), {
            "contacts": "电话联系父亲", "reason": "随迁", "destination": "杭州",
            "evidence": SimpleUploadedFile("证明.png", PNG)})
        assert response.status_code == 302
        follow_up.refresh_from_db()
        assert follow_up.destination == "杭州" and follow_up.evidence_type == "image/png"
        download = client_for(cast.registrar_a).get(url("follow_up_evidence", follow_up.pk))
        assert download.status_code == 200 and b"".join(download.streaming_content) == PNG

    def test_approver_403_other_unit_404(self, cast, follow_up, client_for):
        data = {"contacts": "x", "reason": "y", "destination": ""}
        assert client_for(cast.approver_a).get(url("follow_up_detail", follow_up.pk)).status_code == 200
        assert client_for(cast.approver_a).post(url("follow_up_detail", follow_up.pk), data).status_code == 403
        assert client_for(cast.registrar_b).get(url("follow_up_detail", follow_up.pk)).status_code == 404
        assert client_for(cast.system_admin).get(url("follow_up_detail", follow_up.pk)).status_code == 403

    def test_close(self, cast, follow_up, client_for):
        absence_follow_up_update(actor=cast.head_teacher_a, follow_up=follow_up, contacts="家访", reason="病愈",
                                 destination="")
        assert client_for(cast.approver_a).post(url("follow_up_close", follow_up.pk),
                                                {"outcome": "returned"}).status_code == 403
        assert client_for(cast.registrar_b).post(url("follow_up_close", follow_up.pk),
                                                 {"outcome": "returned"}).status_code == 404
        client = client_for(cast.head_teacher_a)
        client.post(url("follow_up_close", follow_up.pk), {"outcome": "transfer_started"})
        follow_up.refresh_from_db()
        assert follow_up.status == "open"  # no transfer yet: refused with a message
        assert client.post(url("follow_up_close", follow_up.pk), {"outcome": "returned"}).status_code == 302
        follow_up.refresh_from_db()
        assert follow_up.status == "closed"

    def test_evidence_trio(self, cast, follow_up, client_for):
        absence_follow_up_update(actor=cast.head_teacher_a, follow_up=follow_up, contacts="x", reason="y",
                                 destination="", evidence=SimpleUploadedFile("p.png", PNG))
        assert client_for(cast.system_admin).get(url("follow_up_evidence", follow_up.pk)).status_code == 403
        assert client_for(cast.registrar_b).get(url("follow_up_evidence", follow_up.pk)).status_code == 404


class TestRollCall:
    def test_head_teacher_takes_the_roll(self, cast, check, client_for):
        a, b = cast.class_a.students.order_by("pk")
        client = client_for(cast.head_teacher_a)
        page = client.get(url("roll_call", cast.class_a.pk), {"date": MON.isoformat()})
        assert page.status_code == 200 and page.context["can_take"] and page.context["is_school_day"]
        response = client.post(url("roll_call", cast.class_a.pk), {"date": MON.isoformat(), f"s_{a.pk}": "absent",
                                                                   f"s_{b.pk}": "present"})
        assert response.status_code == 302
        call = DailyRollCall.objects.get()
        assert (call.present_count, call.absent_count) == (1, 1)
        page = client.get(url("roll_call", cast.class_a.pk), {"date": MON.isoformat()})
        assert page.context["form"][f"s_{a.pk}"].value() == "absent"

    def test_registrar_reads_but_may_not_take_it(self, cast, check, client_for):
        client = client_for(cast.registrar_a)
        assert client.get(url("roll_call", cast.class_a.pk)).status_code == 200
        assert client.post(url("roll_call", cast.class_a.pk), {"date": MON.isoformat()}).status_code == 403

    def test_other_unit_404(self, cast, check, client_for):
        assert client_for(cast.registrar_b).get(url("roll_call", cast.class_a.pk)).status_code == 404

    def test_a_bad_date_falls_back_to_today_and_a_sunday_is_refused(self, cast, check, client_for):
        client = client_for(cast.head_teacher_a)
        assert client.get(url("roll_call", cast.class_a.pk), {"date": "2025-02-30"}).status_code == 200
        client.post(url("roll_call", cast.class_a.pk), {"date": "2025-11-02"})
        assert not DailyRollCall.objects.exists()

    def test_query_count(self, cast, check, client_for):
        client = client_for(cast.head_teacher_a)
        queries(client, url("roll_call", cast.class_a.pk), {"date": MON.isoformat()})  # warms the calendar
        few = queries(client, url("roll_call", cast.class_a.pk), {"date": MON.isoformat()})
        for _ in range(4):
            pupil(cast.registrar_a, cast.school_a, level=1)
        assert queries(client, url("roll_call", cast.class_a.pk), {"date": MON.isoformat()}) == few
        # 1 session, 2 user, 3 grants (scope), 4 the class, 5 permission (view_students), 6 the day's roll
        # call, 7 roster, 8 permission (take_roll), 9 held codenames (nav), 10-12 session save
        assert few == 12
