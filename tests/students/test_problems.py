"""Problem records: the nightly scan (SQL grouping), resolution rules, scoping, pages."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from students import services
from students.models import ProblemRecord, Student, StudentStatus
from students.tasks import scan_problem_records

from .helpers import id_number, make_student

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def nameless(actor, school, **kw):
    return make_student(actor, school, number="", id_type="Z", name="李无号", birth=date(2018, 5, 5), **kw)


@pytest.fixture
def cross_school_duplicate(cast):
    """The same child without an ID number at school_a (瑶海区) and school_b (蜀山区)."""
    a = nameless(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
    b = nameless(cast.registrar_b, cast.school_b)
    return a, b


@pytest.fixture
def same_school_duplicate(cast):
    number = id_number()
    a = make_student(cast.registrar_a, cast.school_a, number=number, status=StudentStatus.ACTIVE)
    b = make_student(cast.registrar_a, cast.school_a, number=number)  # a draft with a live number
    return a, b


def bad_id_student(cast):
    student = make_student(cast.registrar_a, cast.school_a)
    # A record imported before validation existed: wrong check digit, written as legacy data would be.
    bad = student.id_number[:-1] + ("0" if student.id_number[-1] != "0" else "1")
    Student.objects.filter(pk=student.pk).update(id_number=bad)  # simulating legacy data
    return student


class TestScan:
    def test_finds_each_kind_and_assigns_the_right_unit(self, cast, cross_school_duplicate, same_school_duplicate):
        bad = bad_id_student(cast)
        counts = scan_problem_records.delay().get()
        assert counts == {"opened": 3, "open": 3, "closed": 0, "failed": 0}
        dup = ProblemRecord.objects.get(kind="duplicate_without_id")
        assert dup.assigned_region == cast.regions["340100"] and dup.assigned_school is None  # lowest common bureau
        assert set(dup.students.all()) == set(cross_school_duplicate)
        with_id = ProblemRecord.objects.get(kind="duplicate_with_id")
        assert with_id.assigned_school == cast.school_a
        assert ProblemRecord.objects.get(kind="bad_id").students.get() == bad
        for p in ProblemRecord.objects.all():
            assert len(p.key) <= 80 and not any(s.id_number and s.id_number in p.key for s in p.students.all())

    def test_rescan_updates_instead_of_duplicating_and_closes_what_is_gone(self, cast, same_school_duplicate):
        services.problem_scan()
        assert services.problem_scan() == {"opened": 0, "open": 1, "closed": 0, "failed": 0}
        draft = same_school_duplicate[1]
        services.student_delete_draft(actor=cast.registrar_a, student=draft)
        assert services.problem_scan() == {"opened": 0, "open": 0, "closed": 1, "failed": 0}
        assert ProblemRecord.objects.get().resolution == "correction"

    def test_valid_records_raise_nothing(self, cast):
        make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        make_student(cast.registrar_a, cast.school_a, name="李四", gender="2")
        assert services.problem_scan()["open"] == 0

    def test_unknown_area_code_is_a_bad_id(self, cast):
        from stdnum.iso7064 import mod_11_2

        student = make_student(cast.registrar_a, cast.school_a)
        body = "999999" + student.id_number[6:17]
        Student.objects.filter(pk=student.pk).update(id_number=body + mod_11_2.calc_check_digit(body))  # legacy
        services.problem_scan()
        assert ProblemRecord.objects.get(kind="bad_id").students.get() == student

    def test_gender_and_birth_date_disagreeing_with_the_number_are_bad_ids(self, cast):
        student = make_student(cast.registrar_a, cast.school_a)
        Student.objects.filter(pk=student.pk).update(gender="2")  # legacy data
        other = make_student(cast.registrar_a, cast.school_a, name="王五")
        Student.objects.filter(pk=other.pk).update(birth_date=date(2018, 3, 6))  # legacy data
        services.problem_scan()
        assert set(ProblemRecord.objects.filter(kind="bad_id").values_list("members__student", flat=True)) == {
            student.pk, other.pk}

    def test_scan_query_count_does_not_grow_with_clean_rows(self, cast, django_assert_max_num_queries):
        for i in range(30):
            make_student(cast.registrar_a, cast.school_a, name=f"学生{chr(0x4e00 + i)}")
        with django_assert_max_num_queries(8):
            # 1-2. savepoint/release of the atomic block  3. duplicate ID numbers (GROUP BY)
            # 4. name+gender+birth groups with a record lacking an ID (GROUP BY)
            # 5. distinct ID area prefixes (checked against GB/T 2260 in Python)
            # 6. bad ID candidates (layout, check digit, area, gender, birth date: a UNION of three scans)
            # 7. open problems not seen this time
            services.problem_scan()


class TestResolve:
    def test_cross_school_case_is_resolved_by_the_common_bureau_not_the_school(self, cast, cross_school_duplicate):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        with pytest.raises(PermissionDenied):
            services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="evidence", note="x")
        keep, drop = cross_school_duplicate
        # The city bureau's registrar would do; the cast has a county registrar for 瑶海区 only,
        # so the county cannot decide a case that spans two counties either.
        with pytest.raises(PermissionDenied):
            services.problem_resolve(actor=cast.county_registrar, problem=problem, resolution="deletion", keep=keep)

    def test_deletion_keeps_the_attending_school_and_deletes_the_other(self, cast, same_school_duplicate):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        keep, drop = same_school_duplicate
        services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="deletion", keep=keep)
        problem.refresh_from_db()
        assert problem.status == "resolved" and problem.resolution == "deletion"
        assert not Student.objects.filter(pk=drop.pk).exists()  # a draft is deleted outright
        keep.refresh_from_db()
        assert keep.status == StudentStatus.ACTIVE

    def test_deletion_of_a_registered_duplicate_marks_it_deleted_and_frees_nothing_else(self, cast):
        a = nameless(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        b = nameless(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="deletion", keep=a)
        b.refresh_from_db()
        assert b.status == StudentStatus.DELETED and "问题学籍" in b.history.first().history_change_reason

    def test_evidence_needs_a_note_and_a_real_scan(self, cast, same_school_duplicate):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        with pytest.raises(ValidationError):
            services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="evidence")
        fake = SimpleUploadedFile("proof.png", b"MZ\x90\x00 not an image", content_type="image/png")
        with pytest.raises(ValidationError):
            services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="evidence", note="双胞胎",
                                     evidence=fake)
        services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="evidence", note="经核实",
                                 evidence=SimpleUploadedFile("p.png", PNG, content_type="image/png"))
        problem.refresh_from_db()
        assert problem.evidence and problem.resolved_by == cast.registrar_a

    def test_evidence_resolution_is_not_reopened_by_the_next_scan(self, cast):
        nameless(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        nameless(cast.registrar_a, cast.school_a)
        services.problem_scan()
        services.problem_resolve(actor=cast.registrar_a, problem=ProblemRecord.objects.get(), resolution="evidence",
                                 note="同名同生日的两个孩子，已核实")
        assert services.problem_scan()["opened"] == 0
        assert ProblemRecord.objects.filter(status="open").count() == 0

    def test_correction_is_refused_while_the_problem_persists(self, cast):
        bad = bad_id_student(cast)
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        with pytest.raises(ValidationError):
            services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="correction")
        bad.refresh_from_db()
        services.student_update(actor=cast.registrar_a, student=bad, data={"id_number": id_number()})
        services.problem_resolve(actor=cast.registrar_a, problem=problem, resolution="correction", note="已更正")
        assert ProblemRecord.objects.get().status == "resolved"


class TestPages:
    def test_school_sees_its_own_and_bureau_its_subtree(self, cast, client_for, cross_school_duplicate,
                                                       same_school_duplicate):
        services.problem_scan()
        url = reverse("students:problem_list")
        assert client_for(cast.registrar_a).get(url).context["page_obj"].paginator.count == 2
        assert client_for(cast.registrar_b).get(url).context["page_obj"].paginator.count == 1
        assert client_for(cast.registrar_a2).get(url).context["page_obj"].paginator.count == 0
        assert client_for(cast.inspector).get(url).context["page_obj"].paginator.count == 2
        assert client_for(cast.other_province_registrar).get(url).context["page_obj"].paginator.count == 0

    def test_list_without_view_right_is_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(reverse("students:problem_list")).status_code == 403

    def test_list_query_count(self, cast, client_for, django_assert_num_queries):
        for i in range(4):
            nameless(cast.registrar_a, cast.school_a)
            make_student(cast.registrar_a, cast.school_a, number="", id_type="Z", name=f"重名{i}")
            make_student(cast.registrar_a, cast.school_a, number="", id_type="Z", name=f"重名{i}")
        services.problem_scan()
        client = client_for(cast.registrar_a)
        with django_assert_num_queries(9):
            # 1. session  2. user  3. held codenames (view check, nav)  4. view_students grants
            # 5. count  6. the page of problems (assigned school/region joined, member count)
            # 7-9. savepoint, session update, release
            response = client.get(reverse("students:problem_list"))
        assert response.context["page_obj"].paginator.count == 5

    def test_registrar_resolves_on_the_page(self, cast, client_for, same_school_duplicate):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        keep = same_school_duplicate[0]
        client = client_for(cast.registrar_a)
        assert client.get(reverse("students:problem_detail", args=[problem.pk])).status_code == 200
        response = client.post(reverse("students:problem_detail", args=[problem.pk]),
                               {"resolution": "deletion", "keep": keep.pk})
        assert response.status_code == 302
        assert ProblemRecord.objects.get().status == "resolved"

    def test_inspector_sees_but_cannot_resolve(self, cast, client_for, same_school_duplicate):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        client = client_for(cast.inspector)
        assert client.get(reverse("students:problem_detail", args=[problem.pk])).status_code == 200
        response = client.post(reverse("students:problem_detail", args=[problem.pk]), {"resolution": "evidence",
                                                                                         "note": "x"})
        assert response.status_code == 403

    def test_a_cross_school_case_shows_the_other_schools_record_by_its_school_only(self, cast, client_for,
                                                                                   cross_school_duplicate):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        mine, theirs = cross_school_duplicate
        response = client_for(cast.registrar_b).get(reverse("students:problem_detail", args=[problem.pk]))
        body = response.content.decode()
        assert response.status_code == 200
        assert reverse("students:detail", args=[theirs.pk]) in body and cast.school_b.name in body
        assert reverse("students:detail", args=[mine.pk]) not in body  # a link that would be 404
        table = body.split("<tbody>")[1].split("</tbody>")[0]
        assert cast.school_a.name in table and "其他学校的学籍" in table
        # Neither the other record's status (在籍) nor its class: only the viewer's own draft's.
        assert "在籍" not in table and table.count(mine.school_class.name) == 1
        bureau = client_for(cast.city_approver).get(reverse("students:problem_detail", args=[problem.pk]))
        assert reverse("students:detail", args=[mine.pk]) in bureau.content.decode()

    def test_other_school_is_404(self, cast, client_for, same_school_duplicate):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        client = client_for(cast.registrar_b)
        assert client.get(reverse("students:problem_detail", args=[problem.pk])).status_code == 404

    @pytest.mark.parametrize("data", [{}, {"resolution": "nuke"}, {"resolution": "deletion", "keep": "x"},
                                      {"resolution": "deletion", "keep": "999999"}, {"resolution": "evidence"}])
    def test_awkward_posts_never_500(self, cast, client_for, same_school_duplicate, data):
        services.problem_scan()
        problem = ProblemRecord.objects.get()
        response = client_for(cast.registrar_a).post(reverse("students:problem_detail", args=[problem.pk]), data)
        assert response.status_code == 200 and ProblemRecord.objects.get().status == "open"


# The reviewer's reproduction: one ID number at a school in Anhui (draft) and in Hubei (active).
CROSS_PROVINCE_NUMBER = "429004201910090248"


@pytest.fixture
def cross_province_duplicate(cast):
    """The same ID number live at 彭场镇第二小学 (湖北) and as a draft at 瑶海区第一小学 (安徽)."""
    held = make_student(cast.other_province_registrar, cast.other_school, number=CROSS_PROVINCE_NUMBER,
                        birth=date(2019, 10, 9), gender="2", name="刘跨省", status=StudentStatus.ACTIVE)
    draft = make_student(cast.registrar_a, cast.school_a, number=CROSS_PROVINCE_NUMBER,
                         birth=date(2019, 10, 9), gender="2", name="刘跨省")
    return draft, held


class TestCrossProvince:
    """No bureau is common to two provinces: each province's schools resolve their own side."""

    def test_an_id_number_in_two_provinces_gives_each_school_its_own_problem(self, cast, cross_province_duplicate):
        draft, held = cross_province_duplicate
        assert services.problem_scan()["open"] == 2
        problems = {p.province_code: p for p in ProblemRecord.objects.filter(kind="duplicate_with_id")}
        assert set(problems) == {"34", "42"}
        assert problems["34"].assigned_school == cast.school_a and problems["34"].assigned_path == cast.school_a.path
        assert problems["42"].assigned_school == cast.other_school
        for problem in problems.values():  # each side sees the whole case
            assert set(problem.students.all()) == {draft, held}
            assert len(problem.key) <= 80 and CROSS_PROVINCE_NUMBER not in problem.key

    def test_two_drafts_without_id_in_two_provinces_are_found_on_both_sides(self, cast):
        a = make_student(cast.registrar_a, cast.school_a, number="", id_type="Z", name="王无证",
                         birth=date(2018, 5, 5))
        b = make_student(cast.other_province_registrar, cast.other_school, number="", id_type="Z", name="王无证",
                         birth=date(2018, 5, 5))
        assert services.problem_scan() == {"opened": 2, "open": 2, "closed": 0, "failed": 0}
        problems = ProblemRecord.objects.filter(kind="duplicate_without_id")
        assert {p.assigned_school for p in problems} == {cast.school_a, cast.other_school}
        assert all(set(p.students.all()) == {a, b} for p in problems)

    def test_each_school_resolves_only_its_own_side(self, cast, cross_province_duplicate):
        draft, held = cross_province_duplicate
        services.problem_scan()
        anhui = ProblemRecord.objects.get(province_code="34")
        hubei = ProblemRecord.objects.get(province_code="42")
        with pytest.raises(PermissionDenied):
            services.problem_resolve(actor=cast.registrar_a, problem=hubei, resolution="evidence", note="x")
        # Anhui cannot delete Hubei's record by keeping its own draft ...
        with pytest.raises(ValidationError, match="其他省份"):
            services.problem_resolve(actor=cast.registrar_a, problem=anhui, resolution="deletion", keep=draft)
        held.refresh_from_db()
        assert held.status == StudentStatus.ACTIVE
        # ... but deletes its own draft when the child attends in Hubei; the next scan closes Hubei's side.
        services.problem_resolve(actor=cast.registrar_a, problem=anhui, resolution="deletion", keep=held)
        assert not Student.objects.filter(pk=draft.pk).exists()
        assert services.problem_scan() == {"opened": 0, "open": 0, "closed": 1, "failed": 0}
        hubei.refresh_from_db()
        assert hubei.status == "resolved" and hubei.resolution == "correction"

    def test_neither_side_can_leave_the_child_without_a_record(self, cast, cross_province_duplicate):
        # Review: Hubei kept Anhui's draft (deleting its own active record), then Anhui kept Hubei's
        # record (deleting its draft): nothing current was left.
        draft, held = cross_province_duplicate
        services.problem_scan()
        anhui = ProblemRecord.objects.get(province_code="34")
        hubei = ProblemRecord.objects.get(province_code="42")
        with pytest.raises(ValidationError, match="不能为保留草稿而删除已注册的学籍"):
            services.problem_resolve(actor=cast.other_province_registrar, problem=hubei, resolution="deletion",
                                     keep=draft)
        held.refresh_from_db()
        assert held.status == StudentStatus.ACTIVE
        services.student_status_set(actor=cast.other_province_registrar, student=held,
                                    status=StudentStatus.DELETED, reason="测试：另一处已删除")
        with pytest.raises(ValidationError, match="不能保留"):
            services.problem_resolve(actor=cast.registrar_a, problem=anhui, resolution="deletion", keep=held)
        assert Student.objects.filter(pk=draft.pk).exists()

    def test_each_school_lists_its_own_side(self, cast, client_for, cross_province_duplicate):
        services.problem_scan()
        url = reverse("students:problem_list")
        for user, province in ((cast.registrar_a, "34"), (cast.other_province_registrar, "42")):
            listed = client_for(user).get(url).context["page_obj"].object_list
            own = ProblemRecord.objects.get(province_code=province)
            assert own in listed
            response = client_for(user).get(reverse("students:problem_detail", args=[own.pk]))
            assert response.context["can_resolve"]


class TestScanRobustness:
    def test_one_failing_group_neither_aborts_the_scan_nor_closes_its_open_problem(self, cast, monkeypatch,
                                                                                   same_school_duplicate):
        services.problem_scan()
        existing = ProblemRecord.objects.get()
        bad = bad_id_student(cast)
        original = services._open_or_update

        def flaky(kind, key, students, now, **kw):
            if kind == ProblemRecord.Kind.DUPLICATE_WITH_ID:
                from django.db import IntegrityError

                ProblemRecord.objects.filter(pk=existing.pk).update(last_seen_at=now)  # undone by the savepoint
                raise IntegrityError("simulated")
            return original(kind, key, students, now, **kw)

        monkeypatch.setattr(services, "_open_or_update", flaky)
        assert services.problem_scan() == {"opened": 1, "open": 1, "closed": 0, "failed": 1}
        existing.refresh_from_db()
        assert existing.status == "open"
        assert ProblemRecord.objects.get(kind="bad_id").students.get() == bad
