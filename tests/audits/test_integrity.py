"""The nightly integrity checks: each check with a finding and a case it must leave alone, how the
findings are stored night after night, and how they are scoped and counted."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role, RoleGrant
from accounts.services import role_grant_set_active
from audits.integrity import CHECKS, counts_for, integrity_counts, integrity_scan, issues_for, usual_age
from audits.models import IntegrityIssue, IntegrityKind, RollCheck
from audits.roll_services import roll_check_complete, roll_checks_open, unrecorded_add
from audits.tasks import integrity_scan_nightly
from schools.models import SchoolClass
from schoolyear.services import promotion_school
from students.models import StudentStatus
from students.services import archive_item_types_for, archive_item_update, problem_scan, student_number_assign
from tests.schoolyear.helpers import person, pupil, queued_run
from transfers.models import StepStatus
from transfers.services import change_create_draft, change_start, change_submit, step_decide

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TODAY = timezone.localdate()


def keys(kind, today=TODAY):
    return {row["key"] for row in CHECKS[kind](today)}


def s(student):
    return f"student:{student.pk}"


@pytest.fixture
def check_b(cast):
    """An open roll check of school_b's first class (this month)."""
    pupil(cast.registrar_b, cast.school_b, level=1)
    roll_checks_open()
    return RollCheck.objects.get(school=cast.school_b)


def test_no_class(cast):
    classless = pupil(cast.registrar_a, cast.school_a, level=2, class_number=None)
    placed = pupil(cast.registrar_a, cast.school_a, level=2)
    draft = pupil(cast.registrar_a, cast.school_a, level=2, class_number=None, status=StudentStatus.DRAFT)
    found = keys(IntegrityKind.NO_CLASS)
    assert s(classless) in found and s(placed) not in found and s(draft) not in found


class TestMismatches:
    def test_a_child_recorded_here_but_present_at_another_school(self, cast, check_b):
        child = pupil(cast.registrar_a, cast.school_a, level=1, name="人籍分离")
        namesake = pupil(cast.registrar_a, cast.school_a, level=1, name="同名不同生")
        unrecorded_add(actor=cast.head_teacher_a, roll_check=_check_a(cast), name="x", gender="1",
                       birth_date=date(2019, 1, 1))  # unrelated case at school_a itself
        _add_case(cast, check_b, child)
        _add_case(cast, check_b, namesake, birth_date=date(2010, 1, 1))  # same name, other birth date
        rows = {r["key"]: r for r in CHECKS[IntegrityKind.SCHOOL_MISMATCH](TODAY)}
        assert set(rows) == {s(child)}
        assert rows[s(child)]["unit_path"] == cast.school_b.path  # the attending school acts (transfer in)
        assert "瑶海区第一小学" in rows[s(child)]["detail"] and "蜀山区实验小学" in rows[s(child)]["detail"]

    def test_a_child_present_in_another_grade_of_the_same_school(self, cast):
        child = pupil(cast.registrar_a, cast.school_a, level=3)
        right_grade = pupil(cast.registrar_a, cast.school_a, level=1)
        check = _check_a(cast)  # class_a is a first-grade class
        _add_case(cast, check, child)
        _add_case(cast, check, right_grade)
        assert keys(IntegrityKind.GRADE_MISMATCH) == {s(child)}
        assert keys(IntegrityKind.SCHOOL_MISMATCH) == set()


def _check_a(cast):
    pupil(cast.registrar_a, cast.school_a, level=1)
    roll_checks_open()
    return RollCheck.objects.get(school_class=cast.class_a)


def _add_case(cast, check, student, birth_date=None):
    teacher = cast.head_teacher_a if check.school_class_id == cast.class_a.pk else person(
        f"ht{check.pk}{student.pk}", "head_teacher", check.school_class)
    return unrecorded_add(actor=teacher, roll_check=check, name=student.name, gender=student.gender,
                          birth_date=birth_date or student.birth_date)


def test_suspension_expired(cast):
    student = pupil(cast.registrar_a, cast.school_a, level=2)
    start, end = TODAY - timedelta(days=100), TODAY - timedelta(days=10)
    change = change_start(actor=cast.registrar_a, kind="suspension", student=student, submit=True,
                          evidence_files=[SimpleUploadedFile("病历.png", PNG)], reason_category="illness",
                          reason="住院", start_date=start, end_date=end)
    for user in (cast.approver_a, cast.county_approver):
        step_decide(actor=user, step=change.steps.get(status=StepStatus.CURRENT), decision="approve")
    assert keys(IntegrityKind.SUSPENSION_EXPIRED) == {s(student)}
    assert keys(IntegrityKind.SUSPENSION_EXPIRED, today=end) == set()  # still within the suspension


def test_overdue_step(cast):
    student = pupil(cast.registrar_a, cast.school_a, level=2)
    change = change_create_draft(actor=cast.registrar_a, kind="death", student=student, reason_category="illness",
                                 reason="病故")
    change_submit(actor=cast.registrar_a, change=change)
    step = change.steps.get(status=StepStatus.CURRENT)
    rows = list(CHECKS[IntegrityKind.OVERDUE_STEP](step.due_date + timedelta(days=1)))
    assert [r["key"] for r in rows] == [f"step:{step.pk}"] and rows[0]["school_id"] == cast.school_a.pk
    assert keys(IntegrityKind.OVERDUE_STEP, today=step.due_date) == set()  # overdue after the due day


def test_suspected_duplicate(cast):
    for _ in range(2):
        pupil(cast.registrar_a, cast.school_a, level=2, name="无证重名", birth_date=date(2017, 3, 1), gender="1",
              id_type="Z", id_number="")
    pupil(cast.registrar_a, cast.school_a, level=2, name="唯一")
    problem_scan()
    rows = list(CHECKS[IntegrityKind.SUSPECTED_DUPLICATE](TODAY))
    assert len(rows) == 1 and rows[0]["key"].startswith("problem:") and rows[0]["unit_path"] == cast.school_a.path


class TestAge:
    def test_usual_ages(self):
        assert [usual_age("primary", 1), usual_age("junior", 1), usual_age("junior", 1, 4), usual_age("senior", 1)] == [
            6, 12, 11, 15]

    def test_too_old_and_too_young_are_found_and_the_usual_age_is_not(self, cast):
        sept1 = date(TODAY.year if TODAY.month >= 9 else TODAY.year - 1, 9, 1)
        usual = pupil(cast.registrar_a, cast.school_a, level=1, birth_date=sept1.replace(year=sept1.year - 6))
        young_ok = pupil(cast.registrar_a, cast.school_a, level=1, birth_date=sept1.replace(year=sept1.year - 5))
        too_young = pupil(cast.registrar_a, cast.school_a, level=1,
                          birth_date=sept1.replace(year=sept1.year - 5) + timedelta(days=1))
        old_ok = pupil(cast.registrar_a, cast.school_a, level=1,
                       birth_date=sept1.replace(year=sept1.year - 10) + timedelta(days=1))
        too_old = pupil(cast.registrar_a, cast.school_a, level=1, birth_date=sept1.replace(year=sept1.year - 10))
        found = keys(IntegrityKind.AGE_OUT_OF_RANGE)
        assert {s(too_young), s(too_old)} <= found
        assert not {s(usual), s(young_ok), s(old_ok)} & found


def test_l_number_older_than_six_months(cast):
    student = pupil(cast.registrar_a, cast.school_a, level=2)
    student_number_assign(actor=cast.registrar_a, student=student)
    assert student.number_kind == "L"
    assert keys(IntegrityKind.L_NUMBER_STALE) == set()
    assert keys(IntegrityKind.L_NUMBER_STALE, today=TODAY + timedelta(days=200)) == {s(student)}


def test_roll_check_not_done_after_its_month(cast, check_b):
    next_month = (check_b.month + timedelta(days=32)).replace(day=1)
    assert keys(IntegrityKind.ROLL_CHECK_NOT_DONE) == set()
    assert keys(IntegrityKind.ROLL_CHECK_NOT_DONE, today=next_month) == {f"rollcheck:{check_b.pk}"}
    teacher = person("ht_b", "head_teacher", check_b.school_class)
    roll_check_complete(actor=teacher, roll_check=check_b)
    assert keys(IntegrityKind.ROLL_CHECK_NOT_DONE, today=next_month) == set()


def test_archive_incomplete_a_month_after_entry(cast):
    late = pupil(cast.registrar_a, cast.school_a, level=2, enrolled_on=TODAY - timedelta(days=40))
    recent = pupil(cast.registrar_a, cast.school_a, level=2, enrolled_on=TODAY - timedelta(days=10))
    complete = pupil(cast.registrar_a, cast.school_a, level=2, enrolled_on=TODAY - timedelta(days=40))
    for item_type in archive_item_types_for(complete.province_code).filter(required=True):
        archive_item_update(actor=cast.registrar_a, student=complete, item_type=item_type, present=True)
    assert keys(IntegrityKind.ARCHIVE_INCOMPLETE) == {s(late)}
    assert s(recent) not in keys(IntegrityKind.ARCHIVE_INCOMPLETE)


class TestUnitsWithoutRegistrarOrApprover:
    def test_units_without_records_need_nobody_yet(self, cast):
        # Nobody holds records yet: the senior school has neither role, 合肥市 (its authority) and
        # 仙桃市 have an approver but no registrar, and none of them is flagged.
        assert keys(IntegrityKind.NO_REGISTRAR) == set()
        assert keys(IntegrityKind.NO_APPROVER) == set()

    def test_a_school_with_records_and_no_active_approver_is_flagged(self, cast):
        pupil(cast.registrar_b, cast.school_b, level=1)
        grant = RoleGrant.objects.get(user=cast.approver_b, role=Role.APPROVER, school=cast.school_b)
        role_grant_set_active(actor=None, grant=grant, is_active=False, reason="测试：校长调离")
        assert keys(IntegrityKind.NO_APPROVER) == {f"school:{cast.school_b.pk}"}
        # Its registrar is there; its bureau 蜀山区 has an approver but no registrar, and a transfer
        # route gives the bureau a registrar step.
        assert keys(IntegrityKind.NO_REGISTRAR) == {"region:340104"}

    def test_a_draft_is_a_record_in_use_but_a_graduate_is_not(self, cast):
        pupil(cast.registrar_a2, cast.school_a2, level=1, status=StudentStatus.DRAFT)
        pupil(cast.registrar_b, cast.school_b, level=6, status=StudentStatus.GRADUATED)
        for user, school in ((cast.registrar_a2, cast.school_a2), (cast.registrar_b, cast.school_b)):
            grant = RoleGrant.objects.get(user=user, role=Role.REGISTRAR, school=school)
            role_grant_set_active(actor=None, grant=grant, is_active=False, reason="测试：责任书未签")
        assert keys(IntegrityKind.NO_REGISTRAR) == {f"school:{cast.school_a2.pk}"}

    def test_the_authority_of_a_school_with_records_needs_its_own_approver(self, cast):
        pupil(cast.other_province_registrar, cast.other_school, level=1)
        assert keys(IntegrityKind.NO_APPROVER) == set()  # 彭场镇第二小学 and 仙桃市 both have one
        grant = RoleGrant.objects.get(user=cast.other_province_county_approver, role=Role.APPROVER)
        role_grant_set_active(actor=None, grant=grant, is_active=False, reason="测试：科长调离")
        rows = {r["key"]: r for r in CHECKS[IntegrityKind.NO_APPROVER](TODAY)}
        assert set(rows) == {"region:429004"}
        assert rows["region:429004"]["unit_path"] == cast.regions["429004"].path
        # 瑶海区 governs schools without records here: not flagged although other rows exist.
        assert "region:340102" not in keys(IntegrityKind.NO_REGISTRAR)

    def test_each_check_is_two_queries_whatever_the_number_of_units(self, cast, django_assert_num_queries):
        pupil(cast.registrar_a, cast.school_a, level=1)
        pupil(cast.registrar_b, cast.school_b, level=1)
        # 1 schools with records in use and no grant; 2 authorities of such schools with no grant.
        with django_assert_num_queries(2):
            keys(IntegrityKind.NO_REGISTRAR)


def test_new_students_not_registered_by_september_30(cast):
    draft = pupil(cast.registrar_a, cast.school_a, level=1, status=StudentStatus.DRAFT)
    pending = pupil(cast.registrar_a, cast.school_a, level=1, status=StudentStatus.PENDING)
    active = pupil(cast.registrar_a, cast.school_a, level=1)
    next_october = date(TODAY.year + 1, 10, 2)
    assert keys(IntegrityKind.ENTRY_NOT_FINISHED, today=next_october) == {s(draft), s(pending)}
    assert s(active) not in keys(IntegrityKind.ENTRY_NOT_FINISHED, today=next_october)
    assert keys(IntegrityKind.ENTRY_NOT_FINISHED, today=date(TODAY.year + 1, 9, 20)) == set()


class TestGraduationNotFinished:
    def test_in_august_every_active_student_of_a_graduating_grade(self, cast):
        sixth = pupil(cast.registrar_a, cast.school_a, level=6)
        fifth = pupil(cast.registrar_a, cast.school_a, level=5)
        assert keys(IntegrityKind.GRADUATION_NOT_FINISHED, today=date(2027, 8, 3)) == {s(sixth)}
        assert keys(IntegrityKind.GRADUATION_NOT_FINISHED, today=date(2027, 7, 20)) == set()
        assert s(fifth) not in keys(IntegrityKind.GRADUATION_NOT_FINISHED, today=date(2027, 8, 3))

    def test_after_the_promotion_those_it_skipped_for_that_reason(self, cast):
        sixth = pupil(cast.registrar_a, cast.school_a, level=6)
        run = queued_run(cast, 2027)
        promotion_school(run=run, school=cast.school_a)
        assert keys(IntegrityKind.GRADUATION_NOT_FINISHED, today=date(2027, 10, 8)) == {s(sixth)}
        assert keys(IntegrityKind.GRADUATION_NOT_FINISHED, today=date(2028, 10, 8)) == set()


class TestStoring:
    def test_findings_are_kept_seen_again_and_resolved(self, cast):
        classless = pupil(cast.registrar_a, cast.school_a, level=2, class_number=None)
        result = integrity_scan_nightly.delay().get()
        assert result[IntegrityKind.NO_CLASS] == {"found": 1, "new": 1, "resolved": 0}
        issue = IntegrityIssue.objects.get(kind=IntegrityKind.NO_CLASS)
        assert issue.student == classless and issue.school == cast.school_a and issue.province_code == "34"
        first = issue.first_seen
        assert integrity_scan(kinds=[IntegrityKind.NO_CLASS])[IntegrityKind.NO_CLASS] == {
            "found": 1, "new": 0, "resolved": 0}
        issue.refresh_from_db()
        assert issue.first_seen == first and issue.last_seen > first
        from students.services import student_update

        student_update(actor=cast.registrar_a, student=classless, reason="编班",
                       data={"school_class": SchoolClass.objects.get(grade=classless.grade, number=1)})
        assert integrity_scan(kinds=[IntegrityKind.NO_CLASS])[IntegrityKind.NO_CLASS]["resolved"] == 1
        issue.refresh_from_db()
        assert issue.resolved_at is not None
        assert not IntegrityIssue.objects.filter(resolved_at__isnull=True, kind=IntegrityKind.NO_CLASS).exists()

    def test_counts_and_lists_are_scoped_to_the_unit(self, cast):
        pupil(cast.registrar_a, cast.school_a, level=2, class_number=None)
        pupil(cast.registrar_b, cast.school_b, level=2, class_number=None)
        integrity_scan(kinds=[IntegrityKind.NO_CLASS, IntegrityKind.NO_REGISTRAR])
        assert integrity_counts(cast.school_a.path)[IntegrityKind.NO_CLASS] == 1
        assert integrity_counts(cast.regions["340100"].path)[IntegrityKind.NO_CLASS] == 2
        assert integrity_counts(cast.regions["420000"].path)[IntegrityKind.NO_CLASS] == 0
        assert counts_for(cast.registrar_a)[IntegrityKind.NO_CLASS] == 1
        assert counts_for(cast.county_approver)[IntegrityKind.NO_REGISTRAR] == 0  # 瑶海区 and its schools are staffed
        # 蜀山区, the authority of school_b (which now holds a record), has no registrar; the empty
        # senior school and 合肥市, its authority, need nobody yet.
        assert counts_for(cast.city_approver)[IntegrityKind.NO_REGISTRAR] == 1
        assert not issues_for(cast.other_province_registrar).filter(kind=IntegrityKind.NO_CLASS).exists()
        assert not issues_for(cast.system_admin).exists()  # reads no student data
