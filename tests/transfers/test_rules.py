"""Every rule of issue 4 refused with a clear Chinese message, and what each kind does on approval."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from students.models import StudentStatus
from students.validators import validate_student_number
from transfers.models import ChangeKind, ChangeStatus, ProvincePolicy, StatusChange, StepStatus
from transfers.services import (
    change_create_draft,
    change_submit,
    evidence_add,
    follow_up_add,
    registration_submit,
    step_decide,
)

from .conftest import make_student
from .test_decisions import current, start_transfer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def png(name="proof.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def draft(cast, kind, student, **fields):
    fields.setdefault("reason_category", "other")
    fields.setdefault("reason", "说明")
    return change_create_draft(actor=cast.registrar_a, kind=kind, student=student, **fields)


def submit(cast, change):
    return change_submit(actor=cast.registrar_a, change=change)


def approve_all(cast, change):
    for user in (cast.approver_a, cast.county_approver):
        step_decide(actor=user, step=current(change), decision="approve")
    change.refresh_from_db()
    change.student.refresh_from_db()
    return change


def suspend(cast, student, start=date(2026, 9, 1), end=date(2027, 6, 30)):
    change = draft(cast, ChangeKind.SUSPENSION, student, start_date=start, end_date=end, reason_category="illness")
    evidence_add(actor=cast.registrar_a, change=change, upload=png())
    return approve_all(cast, submit(cast, change))


@pytest.mark.django_db
class TestTransferRules:
    def test_no_grade_change(self, cast, today):
        student = make_student(cast.school_a, level=3)
        target = cast.school_a2.classes.get(grade__level=4, number=1)
        change = change_create_draft(actor=cast.registrar_a2, kind="transfer", student=student, target_class=target,
                                     reason_category="relocation", reason="搬家")
        with pytest.raises(ValidationError, match="转学不得变更年级"):
            change_submit(actor=cast.registrar_a2, change=change)

    def test_no_transfer_while_suspended(self, cast, today):
        student = make_student(cast.school_a, status=StudentStatus.SUSPENDED)
        with pytest.raises(ValidationError, match="休学期间不能转学"):
            start_transfer(cast, student)

    def test_no_transfer_in_the_national_blackout_window(self, cast, today):
        today(date(2026, 7, 20))
        with pytest.raises(ValidationError, match="7月15日至8月14日为禁止转学时段"):
            start_transfer(cast, make_student(cast.school_a))

    def test_blackout_window_is_configurable_per_province(self, cast, today):
        ProvincePolicy.objects.create(province=cast.regions["340000"], blackout_windows=[["10-01", "10-31"]])
        today(date(2026, 7, 20))
        start_transfer(cast, make_student(cast.school_a, name="甲"))
        today(date(2026, 10, 20))
        with pytest.raises(ValidationError, match="10月1日至10月31日"):
            start_transfer(cast, make_student(cast.school_a, name="乙"))

    def test_the_sending_provinces_window_counts_too(self, cast, today):
        ProvincePolicy.objects.create(province=cast.regions["340000"], blackout_windows=[["10-01", "10-31"]])
        with pytest.raises(ValidationError, match="禁止转学时段"):
            start_transfer(cast, make_student(cast.school_a), receiving=cast.other_school,
                           actor=cast.other_province_registrar)

    def test_none_from_a_graduating_grades_last_term(self, cast, today):
        today(date(2026, 3, 10))
        with pytest.raises(ValidationError, match="六年级是毕业年级，最后一学期"):
            start_transfer(cast, make_student(cast.school_a, level=6))

    def test_a_graduating_grade_may_transfer_in_the_autumn_term(self, cast, today):
        today(date(2026, 10, 10))
        assert start_transfer(cast, make_student(cast.school_a, level=6)).status == ChangeStatus.PENDING

    def test_only_one_open_change_per_student(self, cast, today):
        student = make_student(cast.school_a)
        start_transfer(cast, student)
        with pytest.raises(ValidationError, match="已有在办的转学业务"):
            start_transfer(cast, student, receiving=cast.school_b)

    def test_the_database_refuses_a_second_open_change(self, cast, today):
        student = make_student(cast.school_a)
        start_transfer(cast, student)
        with pytest.raises(IntegrityError), transaction.atomic():
            StatusChange.objects.create(kind="suspension", student=student, school=cast.school_a,
                                        initiated_by=cast.registrar_a, school_path=cast.school_a.path)

    def test_no_transfer_without_a_student_number(self, cast, today):
        with pytest.raises(ValidationError, match="尚无全国学籍号"):
            start_transfer(cast, make_student(cast.school_a, number=False))

    def test_grade_changed_while_pending_is_refused_at_final_approval(self, cast, today):
        from xueji.history import save_with_history

        student = make_student(cast.school_a, level=3)
        change = start_transfer(cast, student)
        for user in (cast.approver_a2, cast.registrar_a, cast.approver_a, cast.county_registrar):
            step_decide(actor=user, step=current(change), decision="approve")
        student.grade = cast.school_a.grades.get(level=4)
        save_with_history(student, actor=None, reason="测试：年级被改", update_fields=["grade"])
        with pytest.raises(ValidationError, match="转学不得变更年级"):
            step_decide(actor=cast.county_approver, step=current(change), decision="approve")


@pytest.mark.django_db
class TestSuspension:
    def test_needs_a_reason_category_and_explanation(self, cast, today):
        change = draft(cast, ChangeKind.SUSPENSION, make_student(cast.school_a), reason_category="",
                       start_date=date(2026, 9, 1), end_date=date(2027, 1, 31))
        with pytest.raises(ValidationError, match="请选择原因类别"):
            submit(cast, change)

    def test_needs_evidence(self, cast, today):
        change = draft(cast, ChangeKind.SUSPENSION, make_student(cast.school_a), reason_category="illness",
                       start_date=date(2026, 9, 1), end_date=date(2027, 1, 31))
        with pytest.raises(ValidationError, match="休学须上传佐证材料"):
            submit(cast, change)

    def test_lasts_at_most_one_school_year(self, cast, today):
        change = draft(cast, ChangeKind.SUSPENSION, make_student(cast.school_a), reason_category="illness",
                       start_date=date(2026, 9, 1), end_date=date(2027, 9, 1))
        evidence_add(actor=cast.registrar_a, change=change, upload=png())
        with pytest.raises(ValidationError, match="休学期限最长一学年"):
            submit(cast, change)

    def test_approval_suspends_the_student(self, cast, today):
        change = suspend(cast, make_student(cast.school_a))
        assert change.status == ChangeStatus.APPROVED
        assert change.student.status == StudentStatus.SUSPENDED

    def test_extension_is_a_new_change_on_a_suspended_student(self, cast, today):
        student = make_student(cast.school_a)
        suspend(cast, student)
        change = suspend(cast, student, start=date(2027, 7, 1), end=date(2028, 1, 31))
        assert change.student.status == StudentStatus.SUSPENDED

    def test_evidence_type_is_checked_from_content(self, cast, today):
        change = draft(cast, ChangeKind.SUSPENSION, make_student(cast.school_a), reason_category="illness")
        fake = SimpleUploadedFile("scan.png", b"MZ\x90\x00 not an image", content_type="image/png")
        with pytest.raises(ValidationError, match="只能上传 JPG、PNG 或 PDF"):
            evidence_add(actor=cast.registrar_a, change=change, upload=fake)

    def test_evidence_over_2_mb_is_refused(self, cast, today):
        change = draft(cast, ChangeKind.SUSPENSION, make_student(cast.school_a), reason_category="illness")
        big = SimpleUploadedFile("scan.pdf", b"%PDF-1.4" + b"0" * (2 * 1024 * 1024), content_type="application/pdf")
        with pytest.raises(ValidationError, match="2 MB"):
            evidence_add(actor=cast.registrar_a, change=change, upload=big)

    def test_evidence_is_stored_outside_public_paths(self, cast, today, settings):
        change = draft(cast, ChangeKind.SUSPENSION, make_student(cast.school_a), reason_category="illness")
        evidence = evidence_add(actor=cast.registrar_a, change=change, upload=png())
        assert evidence.file.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
        assert evidence.content_type == "image/png" and evidence.file.name.endswith(".png")


@pytest.mark.django_db
class TestResumption:
    def test_only_a_suspended_student_resumes(self, cast, today):
        student = make_student(cast.school_a)
        change = draft(cast, ChangeKind.RESUMPTION, student, target_class=student.school_class)
        with pytest.raises(ValidationError, match="只有休学学生可以办理复学"):
            submit(cast, change)

    def test_places_the_student_in_the_same_or_next_grade(self, cast, today):
        student = make_student(cast.school_a, level=3)
        suspend(cast, student)
        too_far = cast.school_a.classes.get(grade__level=5, number=1)
        change = draft(cast, ChangeKind.RESUMPTION, student, target_class=too_far)
        with pytest.raises(ValidationError, match="复学只能编入原年级"):
            submit(cast, change)

    def test_records_the_suspension_period_and_activates_in_the_class(self, cast, today):
        student = make_student(cast.school_a, level=3)
        suspend(cast, student)
        next_grade = cast.school_a.classes.get(grade__level=4, number=2)
        change = approve_all(cast, submit(cast, draft(cast, ChangeKind.RESUMPTION, student, target_class=next_grade)))
        assert change.payload["suspension"] == {"start": "2026-09-01", "end": "2027-06-30"}
        assert change.student.status == StudentStatus.ACTIVE and change.student.school_class == next_grade
        assert "休学期间 2026-09-01 至 2027-06-30" in change.student.history.first().history_change_reason


@pytest.mark.django_db
class TestLeavingAndGrades:
    def test_compulsory_stage_students_cannot_withdraw(self, cast, today):
        change = draft(cast, ChangeKind.WITHDRAWAL, make_student(cast.school_a))
        with pytest.raises(ValidationError, match="义务教育阶段学生不能办理退学"):
            submit(cast, change)

    def test_senior_students_may_withdraw(self, cast, today):
        from accounts.models import Role
        from accounts.services import role_grant

        role_grant(actor=None, user=cast.registrar_a, role=Role.REGISTRAR, unit=cast.senior_school)
        role_grant(actor=None, user=cast.approver_a, role=Role.APPROVER, unit=cast.senior_school)
        student = make_student(cast.senior_school, level=2)
        change = approve_all_senior(cast, submit(cast, draft(cast, ChangeKind.WITHDRAWAL, student)))
        assert change.student.status == StudentStatus.WITHDRAWN

    def test_compulsory_stage_students_are_not_retained(self, cast, today):
        student = make_student(cast.school_a, level=3)
        lower = cast.school_a.classes.get(grade__level=2, number=1)
        with pytest.raises(ValidationError, match="义务教育阶段不实行留级"):
            submit(cast, draft(cast, ChangeKind.RETENTION, student, target_class=lower))

    def test_senior_retention_moves_to_a_lower_grade(self, cast, today):
        from accounts.models import Role
        from accounts.services import role_grant

        role_grant(actor=None, user=cast.registrar_a, role=Role.REGISTRAR, unit=cast.senior_school)
        role_grant(actor=None, user=cast.approver_a, role=Role.APPROVER, unit=cast.senior_school)
        student = make_student(cast.senior_school, level=2)
        lower = cast.senior_school.classes.get(grade__level=1, number=1)
        change = approve_all_senior(cast, submit(cast, draft(cast, ChangeKind.RETENTION, student,
                                                              target_class=lower)))
        assert change.student.grade.level == 1

    def test_acceleration_moves_to_a_higher_grade(self, cast, today):
        student = make_student(cast.school_a, level=3)
        higher = cast.school_a.classes.get(grade__level=5, number=1)
        change = approve_all(cast, submit(cast, draft(cast, ChangeKind.ACCELERATION, student, target_class=higher)))
        assert change.student.grade.level == 5 and change.student.school_class == higher

    def test_acceleration_to_a_lower_grade_is_refused(self, cast, today):
        student = make_student(cast.school_a, level=3)
        lower = cast.school_a.classes.get(grade__level=2, number=1)
        with pytest.raises(ValidationError, match="跳级应编入高年级"):
            submit(cast, draft(cast, ChangeKind.ACCELERATION, student, target_class=lower))

    def test_dropout_needs_a_follow_up_and_keeps_the_record(self, cast, today):
        student = make_student(cast.school_a)
        change = draft(cast, ChangeKind.DROPOUT, student, reason_category="study")
        with pytest.raises(ValidationError, match="辍学须先填写随访记录"):
            submit(cast, change)
        follow_up_add(actor=cast.registrar_a, change=change, note="已家访，家长表示将劝返")
        change = approve_all(cast, submit(cast, change))
        assert change.student.status == StudentStatus.DROPPED_OUT
        assert change.student.school == cast.school_a  # the record stays where it was

    def test_death_deregisters(self, cast, today):
        change = approve_all(cast, submit(cast, draft(cast, ChangeKind.DEATH, make_student(cast.school_a),
                                                      reason_category="illness")))
        assert change.student.status == StudentStatus.DECEASED


def approve_all_senior(cast, change):
    for user in (cast.approver_a, cast.city_approver):
        step_decide(actor=user, step=current(change), decision="approve")
    change.refresh_from_db()
    change.student.refresh_from_db()
    return change


@pytest.mark.django_db
class TestKeyDataCorrection:
    def test_needs_evidence_and_applies_the_new_values(self, cast, today):
        student = make_student(cast.school_a, name="王小明")
        change = draft(cast, ChangeKind.KEY_DATA_CORRECTION, student, reason_category="entry_error",
                       key_data={"name": "王晓明", "ethnicity": "02"})
        assert change.payload == {"name": {"old": "王小明", "new": "王晓明"}, "ethnicity": {"old": "01", "new": "02"}}
        with pytest.raises(ValidationError, match="关键数据变更须上传佐证材料"):
            submit(cast, change)
        evidence_add(actor=cast.registrar_a, change=change, upload=png())
        change = approve_all(cast, submit(cast, change))
        assert (change.student.name, change.student.ethnicity) == ("王晓明", "02")

    def test_invalid_id_number_is_a_field_error(self, cast, today):
        with pytest.raises(ValidationError) as exc:
            draft(cast, ChangeKind.KEY_DATA_CORRECTION, make_student(cast.school_a),
                  key_data={"id_number": "340102201703011234"})
        assert "id_number" in exc.value.message_dict

    def test_only_key_fields(self, cast, today):
        with pytest.raises(ValidationError, match="不是关键数据"):
            draft(cast, ChangeKind.KEY_DATA_CORRECTION, make_student(cast.school_a), key_data={"phone": "1"})

    def test_a_value_changed_meanwhile_is_refused_at_approval(self, cast, today):
        from xueji.history import save_with_history

        student = make_student(cast.school_a, name="王小明")
        change = draft(cast, ChangeKind.KEY_DATA_CORRECTION, student, key_data={"name": "王晓明"})
        evidence_add(actor=cast.registrar_a, change=change, upload=png())
        submit(cast, change)
        step_decide(actor=cast.approver_a, step=current(change), decision="approve")
        student.name = "王大明"
        save_with_history(student, actor=None, reason="测试", update_fields=["name"])
        with pytest.raises(ValidationError, match="已被修改"):
            step_decide(actor=cast.county_approver, step=current(change), decision="approve")


@pytest.mark.django_db
class TestRegistration:
    def test_batch_becomes_active_with_l_numbers(self, cast, today):
        students = [make_student(cast.school_a, level=1, status=StudentStatus.DRAFT, number=False, name=f"新生{i}")
                    for i in range(3)]
        change = registration_submit(actor=cast.registrar_a, students=students)
        assert change.kind == "registration" and change.student is None
        assert {s.status for s in change.students.all()} == {StudentStatus.PENDING}
        bureau = change.steps.get(order=2)
        for user in (cast.approver_a, cast.county_approver):
            step_decide(actor=user, step=current(change), decision="approve")
        bureau.refresh_from_db()
        assert bureau.due_date  # 15 working days: see test_deadlines
        numbers = set()
        for student in change.students.all():
            # L + the school's area code + birth date + a sequence unique within the batch + check digit.
            assert student.status == StudentStatus.ACTIVE and student.number_kind == "L"
            assert student.student_number.startswith(f"L{cast.school_a.region_id}{student.birth_date:%Y%m%d}")
            assert validate_student_number(student.student_number)[0] == "L"
            numbers.add(student.student_number)
        assert len(numbers) == 3

    def test_student_without_an_id_gets_a_j_number(self, cast, today):
        student = make_student(cast.school_a, level=1, status=StudentStatus.DRAFT, number=False)
        student.id_type, student.id_number = "Z", ""
        student.save()
        change = registration_submit(actor=cast.registrar_a, students=[student])
        for user in (cast.approver_a, cast.county_approver):
            step_decide(actor=user, step=current(change), decision="approve")
        student.refresh_from_db()
        assert student.student_number.startswith("J340102") and student.number_kind == "J"

    def test_rejection_returns_the_batch_students_to_draft(self, cast, today):
        students = [make_student(cast.school_a, level=1, status=StudentStatus.DRAFT, number=False)]
        change = registration_submit(actor=cast.registrar_a, students=students)
        step_decide(actor=cast.approver_a, step=current(change), decision="reject", comment="照片缺失")
        change.refresh_from_db()
        assert change.status == ChangeStatus.DRAFT
        assert change.students.get().status == StudentStatus.DRAFT
        change = change_submit(actor=cast.registrar_a, change=change)
        assert change.students.get().status == StudentStatus.PENDING and change.round == 2

    def test_only_drafts_of_one_school(self, cast, today):
        a = make_student(cast.school_a, level=1, status=StudentStatus.DRAFT, number=False)
        b = make_student(cast.school_a2, level=1, status=StudentStatus.DRAFT, number=False)
        with pytest.raises(ValidationError, match="同一所学校"):
            registration_submit(actor=cast.registrar_a, students=[a, b])
        with pytest.raises(ValidationError, match="只有草稿"):
            registration_submit(actor=cast.registrar_a, students=[make_student(cast.school_a)])


def new_entry(school, *, level: int = 1, birth: date = date(2019, 3, 1), gender: str = "1", name: str = "新生",
              id_number: str | None = None, entry_month: str = "") -> tuple[dict, list[dict]]:
    """(student values, [member1, member2]) as the Excel import hands them to registration_submit_new."""
    from .conftest import id_number_for

    grade = school.grades.get(stage="primary", level=level)
    data = {"name": name, "gender": gender, "birth_date": birth, "id_type": "1", "ethnicity": "01",
            "id_number": id_number or id_number_for("340102", birth, gender), "grade": grade,
            "school_class": grade.classes.get(number=1), "entry_month": entry_month}
    members = [{"name": "王建国", "relation": "11", "is_guardian": True},
               {"name": "李秀英", "relation": "12", "is_guardian": False}]
    return data, members


@pytest.mark.django_db
class TestRegistrationOfNewStudents:
    """registration_submit_new: the import's batch, created pending, with the rules of registration_submit."""

    def submit_new(self, cast, entries, actor=None):
        from transfers.services import registration_submit_new

        return registration_submit_new(actor=actor or cast.registrar_a, school=cast.school_a, entries=entries,
                                       reason="Excel导入新生（测试）")

    def test_students_are_created_pending_with_one_history_row_and_the_usual_steps(self, cast, today):
        from audits.models import AuditEvent
        from students.models import FamilyMember

        change = self.submit_new(cast, [new_entry(cast.school_a, name=f"新生{i}") for i in range(3)])
        students = list(change.students.all())
        assert len(students) == 3 and {s.status for s in students} == {StudentStatus.PENDING}
        for student in students:
            row = student.history.get()
            assert (row.history_type, row.status, row.history_user, row.history_change_reason) == (
                "+", "pending", cast.registrar_a, "Excel导入新生（测试）")
            assert student.name_pinyin.startswith("xinsheng") and student.school_path == cast.school_a.path
        members = FamilyMember.objects.filter(student__in=students)
        assert members.count() == 6 and {m.history.get().history_user for m in members} == {cast.registrar_a}
        assert (change.status, change.round, change.initiated_by) == (ChangeStatus.PENDING, 1, cast.registrar_a)
        first, bureau = change.steps.order_by("order")
        assert (first.status, first.school, first.due_date is not None) == (StepStatus.CURRENT, cast.school_a, True)
        assert (bureau.status, bureau.region_id) == (StepStatus.WAITING, cast.school_a.authority_id)
        assert AuditEvent.objects.filter(kind="submission", target_id=str(change.pk)).count() == 1
        for user in (cast.approver_a, cast.county_approver):
            step_decide(actor=user, step=current(change), decision="approve")
        assert {(s.status, s.number_kind) for s in change.students.all()} == {(StudentStatus.ACTIVE, "L")}

    def test_a_number_live_elsewhere_refuses_the_batch_and_writes_nothing(self, cast, today):
        holder = make_student(cast.school_b)
        entries = [new_entry(cast.school_a, name="甲"), new_entry(cast.school_a, id_number=holder.id_number)]
        with pytest.raises(ValidationError, match=f"已在{cast.school_b.name}有在籍学籍"):
            self.submit_new(cast, entries)
        assert not StatusChange.objects.exists() and not cast.school_a.students.exists()

    def test_a_number_twice_in_the_batch_is_refused(self, cast, today):
        entry = new_entry(cast.school_a)
        with pytest.raises(ValidationError, match="身份证件号相同"):
            self.submit_new(cast, [entry, new_entry(cast.school_a, id_number=entry[0]["id_number"])])

    def test_an_underage_first_grader_needs_a_signed_liability_form(self, cast, today):
        with pytest.raises(ValidationError, match="责任书尚未签订"):
            self.submit_new(cast, [new_entry(cast.school_a, birth=date(2019, 10, 1), entry_month="202509")])
        assert not cast.school_a.students.exists()

    def test_only_a_registrar_of_the_school(self, cast, today):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            self.submit_new(cast, [new_entry(cast.school_a)], actor=cast.registrar_b)

    def test_queries_do_not_grow_with_the_batch(self, cast, today, django_assert_max_num_queries):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        small, large = ([new_entry(cast.school_a, name=f"新生{i}", level=level) for i in range(size)]
                        for level, size in ((1, 2), (2, 12)))
        with CaptureQueriesContext(connection) as two:
            self.submit_new(cast, small)
        # The same statements for 12 students: every write is a bulk one (1,000 rows a statement;
        # SQLite's 999-parameter limit makes that ~14 students).
        with django_assert_max_num_queries(len(two)):
            self.submit_new(cast, large)


@pytest.mark.django_db
def test_a_senior_school_under_a_city_goes_to_the_city(cast, today):
    from accounts.models import Role
    from accounts.services import role_grant

    role_grant(actor=None, user=cast.registrar_a, role=Role.REGISTRAR, unit=cast.senior_school)
    change = submit(cast, draft(cast, ChangeKind.DEATH, make_student(cast.senior_school)))
    assert [str(s.unit) for s in change.steps.all()] == ["合肥市第一中学", "合肥市"]
    assert change.steps.get(order=1).status == StepStatus.CURRENT


@pytest.mark.django_db
def test_kinds_available_follow_status_and_stage(cast):
    from transfers.rules import kinds_available

    primary = make_student(cast.school_a)
    assert "withdrawal" not in kinds_available(primary) and "retention" not in kinds_available(primary)
    assert "resumption" not in kinds_available(primary) and "suspension" in kinds_available(primary)
    senior = make_student(cast.senior_school, level=2)
    assert {"withdrawal", "retention"} <= set(kinds_available(senior))
    suspended = make_student(cast.school_a, status=StudentStatus.SUSPENDED)
    assert "resumption" in kinds_available(suspended) and "acceleration" not in kinds_available(suspended)
