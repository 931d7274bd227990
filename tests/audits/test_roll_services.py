"""Roll checks, "present without record" cases, follow-ups of absent children and the daily roll
call: rules, rights, history, and the figures dashboards read."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import AbsenceFollowUp, DailyAttendance, RollCheck, RollCheckEntry, UnrecordedChild
from audits.roll_selectors import mismatch_counts, roll_check_completion, roll_check_roster
from audits.roll_services import (
    absence_follow_up_close,
    absence_follow_up_update,
    roll_call_take,
    roll_check_complete,
    roll_check_mark,
    roll_checks_open,
    unrecorded_add,
    unrecorded_resolve,
)
from audits.tasks import roll_checks_open_monthly
from students.models import StudentStatus
from students.services import student_verify
from tests.schoolyear.helpers import pupil
from transfers.services import change_create_draft

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOV = date(2025, 11, 1)
MON, TUE, WED, THU = date(2025, 11, 3), date(2025, 11, 4), date(2025, 11, 5), date(2025, 11, 6)


@pytest.fixture
def klass(cast):
    """class_a (head teacher: head_teacher_a) with three pupils, and its November check."""
    pupils = [pupil(cast.registrar_a, cast.school_a, level=1) for _ in range(3)]
    roll_checks_open(month=NOV)
    return pupils, RollCheck.objects.get(school_class=cast.class_a, month=NOV)


class TestOpening:
    def test_every_class_with_pupils_gets_one_check_per_month(self, cast, klass):
        pupil(cast.registrar_b, cast.school_b, level=2)
        assert roll_checks_open(month=date(2025, 11, 20)) == 1  # only school_b's class is new
        assert roll_checks_open(month=NOV) == 0
        assert RollCheck.objects.filter(month=NOV).count() == 2
        check = RollCheck.objects.get(school_class=cast.class_a, month=NOV)
        assert check.school_path == cast.school_a.path and check.status == "open"
        assert check.history.count() == 1

    def test_the_monthly_task_opens_this_months_checks(self, cast, klass):
        assert roll_checks_open_monthly.delay().get() == 1
        assert RollCheck.objects.exclude(month=NOV).get().month.day == 1


class TestMarkingAndCompleting:
    def test_missing_children_get_a_follow_up_and_the_counts_are_kept(self, cast, klass):
        (a, b, c), check = klass
        roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=a, missing=True)
        roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=b, missing=True)
        roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=b, missing=False)  # toggled back
        unrecorded_add(actor=cast.head_teacher_a, roll_check=check, name="李来", gender="2",
                       birth_date=date(2019, 5, 1))
        assert dict(roll_check_roster(check).values_list("pk", "presence")) == {a.pk: "missing", b.pk: "present",
                                                                                c.pk: ""}
        assert roll_check_completion(cast.school_a.path, NOV)["completed"] == 0
        roll_check_complete(actor=cast.head_teacher_a, roll_check=check)
        check.refresh_from_db()
        assert (check.recorded_count, check.present_count, check.missing_count, check.unrecorded_count) == (3, 2, 1, 1)
        assert check.completed_by == cast.head_teacher_a
        follow_up = AbsenceFollowUp.objects.get()
        assert follow_up.student == a and follow_up.origin == "roll_check" and follow_up.roll_check == check
        assert roll_check_completion(cast.regions["340100"].path, NOV) == {
            "total": 1, "completed": 1, "missing": 1, "unrecorded": 1, "rate": 100.0}
        assert mismatch_counts(cast.regions["340102"].path) == {"missing": 1, "unrecorded": 1, "total": 2}
        assert mismatch_counts(cast.regions["340104"].path)["total"] == 0
        with pytest.raises(ValidationError, match="已完成"):
            roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=c, missing=True)

    def test_only_the_head_teacher_of_the_class(self, cast, klass):
        (a, _, _), check = klass
        for user in (cast.registrar_a, cast.approver_a, cast.county_approver):
            with pytest.raises(PermissionDenied):
                roll_check_mark(actor=user, roll_check=check, student=a, missing=True)
            with pytest.raises(PermissionDenied):
                roll_check_complete(actor=user, roll_check=check)

    def test_only_children_on_the_roster(self, cast, klass):
        _, check = klass
        elsewhere = pupil(cast.registrar_a, cast.school_a, level=1, class_number=2)
        suspended = pupil(cast.registrar_a, cast.school_a, level=1, status=StudentStatus.SUSPENDED)
        for student in (elsewhere, suspended):
            with pytest.raises(ValidationError, match="花名册"):
                roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=student, missing=True)

    def test_marks_keep_history(self, cast, klass):
        (a, _, _), check = klass
        roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=a, missing=True)
        roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=a, missing=False)
        entry = RollCheckEntry.objects.get()
        assert list(entry.history.values_list("presence", flat=True)) == ["present", "missing"]


class TestPresentWithoutRecord:
    def test_the_case_stays_open_until_the_registrar_resolves_it(self, cast, klass):
        _, check = klass
        with pytest.raises(ValidationError):
            unrecorded_add(actor=cast.head_teacher_a, roll_check=check, name=" ", gender="1",
                           birth_date=date(2019, 1, 1))
        case = unrecorded_add(actor=cast.head_teacher_a, roll_check=check, name="王来", gender="1",
                              birth_date=date(2019, 1, 1), note="随父母从外省来")
        with pytest.raises(PermissionDenied):  # registering is the registrar's work
            unrecorded_resolve(actor=cast.head_teacher_a, case=case, status="left", note="走了")
        with pytest.raises(ValidationError):
            unrecorded_resolve(actor=cast.registrar_a, case=case, status="registered")
        draft = pupil(cast.registrar_a, cast.school_a, level=1, status=StudentStatus.DRAFT, name="王来")
        with pytest.raises(ValidationError):  # a draft is not registered yet
            unrecorded_resolve(actor=cast.registrar_a, case=case, status="registered", student=draft)
        other = pupil(cast.registrar_b, cast.school_b, level=1, name="王来")
        with pytest.raises(ValidationError):  # a record at another school does not resolve it
            unrecorded_resolve(actor=cast.registrar_a, case=case, status="transferred_in", student=other)
        registered = pupil(cast.registrar_a, cast.school_a, level=1, status=StudentStatus.PENDING, name="王来")
        unrecorded_resolve(actor=cast.registrar_a, case=case, status="registered", student=registered)
        case.refresh_from_db()
        assert case.status == UnrecordedChild.Status.REGISTERED and case.student == registered
        with pytest.raises(ValidationError, match="已处理"):
            unrecorded_resolve(actor=cast.registrar_a, case=case, status="left", note="x")

    def test_left_needs_a_note(self, cast, klass):
        _, check = klass
        case = unrecorded_add(actor=cast.head_teacher_a, roll_check=check, name="赵", gender="1",
                              birth_date=date(2019, 1, 1))
        with pytest.raises(ValidationError):
            unrecorded_resolve(actor=cast.registrar_a, case=case, status="left")
        unrecorded_resolve(actor=cast.registrar_a, case=case, status="left", note="家长接回原籍")
        assert mismatch_counts(cast.school_a.path)["unrecorded"] == 0


@pytest.fixture
def follow_up(cast, klass):
    (a, _, _), check = klass
    roll_check_mark(actor=cast.head_teacher_a, roll_check=check, student=a, missing=True)
    roll_check_complete(actor=cast.head_teacher_a, roll_check=check)
    return AbsenceFollowUp.objects.get(student=a)


class TestFollowUp:
    def test_records_contacts_reason_destination_and_evidence(self, cast, follow_up):
        absence_follow_up_update(actor=cast.head_teacher_a, follow_up=follow_up, contacts="11月3日电话联系母亲",
                                 reason="随父母外出务工", destination="浙江省杭州市",
                                 evidence=SimpleUploadedFile("说明.png", PNG))
        follow_up.refresh_from_db()
        assert follow_up.evidence_type == "image/png" and follow_up.evidence_name == "说明.png"
        assert follow_up.evidence.name.startswith("followups/")
        with pytest.raises(ValidationError) as err:
            absence_follow_up_update(actor=cast.head_teacher_a, follow_up=follow_up, contacts="x", reason="y",
                                     destination="z", evidence=SimpleUploadedFile("a.txt", b"hello"))
        assert "evidence" in err.value.message_dict
        big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024))
        with pytest.raises(ValidationError, match="2 MB"):
            absence_follow_up_update(actor=cast.registrar_a, follow_up=follow_up, contacts="x", reason="y",
                                     destination="z", evidence=big)

    def test_others_may_not_follow_up(self, cast, follow_up):
        for user in (cast.approver_a, cast.registrar_b, cast.county_approver):
            with pytest.raises(PermissionDenied):
                absence_follow_up_update(actor=user, follow_up=follow_up, contacts="x", reason="y", destination="")

    def test_closing_needs_contacts_and_the_outcome_backed_by_a_change(self, cast, follow_up):
        with pytest.raises(ValidationError, match="联系情况"):
            absence_follow_up_close(actor=cast.head_teacher_a, follow_up=follow_up, outcome="returned")
        absence_follow_up_update(actor=cast.head_teacher_a, follow_up=follow_up, contacts="家访", reason="转学",
                                 destination="蜀山区实验小学")
        with pytest.raises(ValidationError, match="尚未发起转学"):
            absence_follow_up_close(actor=cast.head_teacher_a, follow_up=follow_up, outcome="transfer_started")
        student = student_verify(actor=cast.registrar_a, student=follow_up.student)  # transfers need a number
        target = cast.school_b.classes.get(grade__level=1, number=1)
        change = change_create_draft(actor=cast.registrar_b, kind="transfer", student=student, target_class=target,
                                     reason_category="relocation", reason="随迁")
        absence_follow_up_close(actor=cast.head_teacher_a, follow_up=follow_up, outcome="transfer_started")
        follow_up.refresh_from_db()
        assert follow_up.status == "closed" and follow_up.change == change
        assert follow_up.closed_by == cast.head_teacher_a
        assert mismatch_counts(cast.school_a.path)["missing"] == 0
        with pytest.raises(ValidationError, match="已结案"):
            absence_follow_up_close(actor=cast.head_teacher_a, follow_up=follow_up, outcome="returned")

    def test_returned_needs_no_change(self, cast, follow_up):
        absence_follow_up_update(actor=cast.registrar_a, follow_up=follow_up, contacts="电话", reason="生病",
                                 destination="")
        absence_follow_up_close(actor=cast.registrar_a, follow_up=follow_up, outcome="returned")
        assert AbsenceFollowUp.objects.get().outcome == "returned"


class TestDailyRollCall:
    def absent(self, cast, day, *students, status="absent"):
        return roll_call_take(actor=cast.head_teacher_a, school_class=cast.class_a, day=day,
                              absences={s.pk: status for s in students})

    def test_three_school_days_absent_without_leave_opens_a_follow_up(self, cast, klass):
        (a, b, _), _ = klass
        self.absent(cast, MON, a, b)
        self.absent(cast, TUE, a, b)
        call = self.absent(cast, WED, a)
        assert (call.present_count, call.absent_count, call.leave_count) == (2, 1, 0)
        follow_up = AbsenceFollowUp.objects.get()
        assert follow_up.student == a and follow_up.origin == "daily_absence"
        self.absent(cast, THU, a)
        assert AbsenceFollowUp.objects.count() == 1  # one open follow-up per child

    def test_leave_breaks_the_run_and_weekends_do_not(self, cast, klass):
        (a, b, _), _ = klass
        fri, next_mon = date(2025, 10, 31), MON
        self.absent(cast, date(2025, 10, 30), a, b)
        roll_call_take(actor=cast.head_teacher_a, school_class=cast.class_a, day=fri,
                       absences={a.pk: "absent", b.pk: "leave"})
        roll_call_take(actor=cast.head_teacher_a, school_class=cast.class_a, day=next_mon,
                       absences={a.pk: "absent", b.pk: "absent"})
        assert list(AbsenceFollowUp.objects.values_list("student_id", flat=True)) == [a.pk]

    def test_a_correction_filling_the_gap_counts(self, cast, klass):
        (a, _, _), _ = klass
        self.absent(cast, MON, a)
        self.absent(cast, WED, a)
        self.absent(cast, TUE)  # everyone present on Tuesday
        assert not AbsenceFollowUp.objects.exists()
        self.absent(cast, TUE, a)  # corrected: absent on Tuesday too
        assert AbsenceFollowUp.objects.get().student == a
        assert DailyAttendance.objects.filter(student=a).count() == 3

    def test_only_school_days_not_in_the_future_and_only_the_head_teacher(self, cast, klass):
        (a, _, _), _ = klass
        with pytest.raises(ValidationError, match="上课日"):
            self.absent(cast, date(2025, 11, 2), a)  # a Sunday
        with pytest.raises(ValidationError, match="将来"):
            self.absent(cast, date(2099, 1, 5), a)
        with pytest.raises(PermissionDenied):
            roll_call_take(actor=cast.registrar_a, school_class=cast.class_a, day=MON, absences={})
        stranger = pupil(cast.registrar_a, cast.school_a, level=2)
        with pytest.raises(ValidationError, match="花名册"):
            self.absent(cast, MON, stranger)
