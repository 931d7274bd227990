"""The yearly promotion: who starts it and when, who moves and who stays (with the reason), classes
of the same number (created when missing), history rows, run twice, resume, retention, queries."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from schools.models import SchoolClass
from schools.services import class_create
from schoolyear.models import PromotionRun, PromotionSchoolResult, PromotionSkip, SkipReason
from schoolyear.services import (
    promotion_catch_up,
    promotion_execute,
    promotion_resume,
    promotion_school,
    promotion_start,
)
from students.models import Student, StudentStatus
from transfers.models import StepStatus
from transfers.services import change_create_draft, change_start, change_withdraw, step_decide

from .helpers import pupil, queued_run, senior_staff

pytestmark = pytest.mark.django_db
AUG_10 = date(2026, 8, 10)


def start(cast, run_tasks, today=AUG_10, actor=None):
    with run_tasks(execute=True):
        run = promotion_start(actor=actor or cast.province_approver, province=cast.regions["340000"], today=today)
    run.refresh_from_db()
    return run


def placed(student):
    student.refresh_from_db()
    return student.grade.stage, student.grade.level, student.school_class.number if student.school_class else None


class TestWhoMoves:
    def test_active_students_move_up_one_grade_into_the_class_of_the_same_number(
            self, cast, django_capture_on_commit_callbacks):
        first = pupil(cast.registrar_a, cast.school_a, level=1, class_number=2)
        fifth = pupil(cast.registrar_a, cast.school_a, level=5)
        other_school = pupil(cast.registrar_b, cast.school_b, level=3)
        run = start(cast, django_capture_on_commit_callbacks)
        assert run.status == PromotionRun.Status.DONE
        assert placed(first) == ("primary", 2, 2)
        assert placed(fifth) == ("primary", 6, 1)
        assert placed(other_school) == ("primary", 4, 1)
        assert first.school_class.grade_id == first.grade_id
        result = PromotionSchoolResult.objects.get(run=run, school=cast.school_a)
        assert (result.promoted, result.skipped) == (2, 0)
        assert run.promoted_count == 3 and run.schools_done == 4  # 安徽省's schools only

    def test_everyone_who_stays_is_listed_with_the_reason(self, cast, django_capture_on_commit_callbacks):
        graduating = pupil(cast.registrar_a, cast.school_a, level=6)
        suspended = pupil(cast.registrar_a, cast.school_a, level=3, status=StudentStatus.SUSPENDED)
        classless = pupil(cast.registrar_a, cast.school_a, level=2, class_number=None)
        busy = pupil(cast.registrar_a, cast.school_a, level=4)
        change = change_create_draft(actor=cast.registrar_a, kind="death", student=busy, reason_category="illness",
                                     reason="x")
        newcomer = pupil(cast.registrar_a, cast.school_a, level=1, entry_month="202609")
        draft = pupil(cast.registrar_a, cast.school_a, level=2, status=StudentStatus.DRAFT)
        run = start(cast, django_capture_on_commit_callbacks)
        skips = dict(PromotionSkip.objects.filter(run=run).values_list("student_id", "reason"))
        assert skips == {graduating.pk: SkipReason.GRADUATING, suspended.pk: SkipReason.SUSPENDED,
                         classless.pk: SkipReason.NO_CLASS, busy.pk: SkipReason.OPEN_BUSINESS,
                         newcomer.pk: SkipReason.NEW_ENTRANT}
        assert PromotionSkip.objects.get(student=busy).detail == f"学籍异动编号 {change.pk}"
        for student, level in ((graduating, 6), (suspended, 3), (classless, 2), (busy, 4), (newcomer, 1), (draft, 2)):
            student.refresh_from_db()
            assert student.grade.level == level
        assert PromotionSchoolResult.objects.get(run=run, school=cast.school_a).skipped == 5

    def test_a_missing_class_of_the_same_number_is_created(self, cast, django_capture_on_commit_callbacks):
        third = cast.school_a.grades.get(level=3)
        class_create(actor=None, grade=third, number=5)
        student = pupil(cast.registrar_a, cast.school_a, level=3, class_number=5)
        run = start(cast, django_capture_on_commit_callbacks)
        assert placed(student) == ("primary", 4, 5)
        assert SchoolClass.objects.filter(grade__school=cast.school_a, grade__level=4, number=5).count() == 1
        assert PromotionSchoolResult.objects.get(run=run, school=cast.school_a).classes_created == 1

    def test_each_move_has_one_history_row_with_the_actor_and_the_reason(
            self, cast, django_capture_on_commit_callbacks):
        student = pupil(cast.registrar_a, cast.school_a, level=2, class_number=2)
        before = student.history.count()
        start(cast, django_capture_on_commit_callbacks)
        rows = list(Student.history.filter(id=student.pk).order_by("history_id"))
        assert len(rows) == before + 1
        last = rows[-1]
        assert last.history_type == "~" and last.history_user == cast.province_approver
        assert last.history_change_reason == "2026-2027学年升级：二年级→三年级"
        assert last.grade.level == 3 and last.school_class.number == 2 and last.name == student.name
        changed = {c.field for c in last.diff_against(rows[-2]).changes}
        assert {"grade", "school_class"} <= changed


class TestRetention:
    def test_a_retained_student_moves_on_with_the_new_cohort_and_so_repeats_the_year(
            self, cast, django_capture_on_commit_callbacks):
        registrar, approver = senior_staff(cast)
        student = pupil(registrar, cast.senior_school, level=2, status=StudentStatus.ACTIVE,
                        student_number="", number_kind="")
        lower = cast.senior_school.classes.get(grade__level=1, number=1)
        change = change_start(actor=registrar, kind="retention", student=student, submit=True, target_class=lower,
                              reason_category="illness", reason="因病缺课一学期")
        for user in (approver, cast.city_approver):
            step_decide(actor=user, step=change.steps.get(status=StepStatus.CURRENT), decision="approve")
        assert placed(student) == ("senior", 1, 1)  # the retention applied once, on approval
        start(cast, django_capture_on_commit_callbacks)
        assert placed(student) == ("senior", 2, 1)  # back in 高二 for the new year: the year is repeated


class TestOncePerYear:
    def test_running_twice_moves_nobody_twice(self, cast, django_capture_on_commit_callbacks):
        student = pupil(cast.registrar_a, cast.school_a, level=1)
        run = start(cast, django_capture_on_commit_callbacks)
        with pytest.raises(ValidationError, match="已经执行过"):
            start(cast, django_capture_on_commit_callbacks, today=date(2026, 8, 20))
        assert promotion_execute(run.pk).status == PromotionRun.Status.DONE  # a doubled task does nothing
        assert placed(student) == ("primary", 2, 1)
        assert PromotionRun.objects.count() == 1
        assert Student.history.filter(id=student.pk, history_change_reason__contains="升级").count() == 1

    def test_a_school_is_never_done_twice(self, cast, django_capture_on_commit_callbacks):
        run = start(cast, django_capture_on_commit_callbacks)
        with pytest.raises(IntegrityError):  # the unique (run, school) result row refuses a second pass
            promotion_school(run=run, school=cast.school_a)

    def test_a_failed_run_resumes_where_it_stopped(self, cast, django_capture_on_commit_callbacks, monkeypatch):
        a = pupil(cast.registrar_a, cast.school_a, level=1)
        b = pupil(cast.registrar_b, cast.school_b, level=1)
        from schoolyear import services

        real = services.promotion_school

        def fail_at_b(*, run, school):
            if school.pk == cast.school_b.pk:
                raise RuntimeError("数据库连接中断")
            return real(run=run, school=school)

        monkeypatch.setattr(services, "promotion_school", fail_at_b)
        run = start(cast, django_capture_on_commit_callbacks)
        assert run.status == PromotionRun.Status.FAILED and "数据库连接中断" in run.error
        assert placed(a)[1] == 2 and placed(b)[1] == 1
        monkeypatch.setattr(services, "promotion_school", real)
        with django_capture_on_commit_callbacks(execute=True):
            promotion_resume(actor=cast.province_approver, run=run)
        run.refresh_from_db()
        assert run.status == PromotionRun.Status.DONE
        assert placed(a)[1] == 2 and placed(b)[1] == 2


class TestWhoAndWhen:
    def test_only_a_province_level_approver(self, cast, django_capture_on_commit_callbacks):
        for user in (cast.city_approver, cast.system_admin, cast.other_province_approver):
            with pytest.raises(PermissionDenied):
                start(cast, django_capture_on_commit_callbacks, actor=user)

    def test_not_before_august_10(self, cast, django_capture_on_commit_callbacks):
        with pytest.raises(ValidationError, match="8月10日"):
            start(cast, django_capture_on_commit_callbacks, today=date(2026, 8, 9))

    def test_the_run_is_queued_after_commit_with_its_id_only(self, cast, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = promotion_start(actor=cast.province_approver, province=cast.regions["340000"], today=AUG_10)
        assert len(callbacks) == 1 and run.status == PromotionRun.Status.QUEUED


class TestSetBased:
    def test_queries_do_not_grow_with_the_number_of_students(self, cast, django_assert_max_num_queries):
        run = queued_run(cast, 2026)
        for level in (1, 2, 3, 4):
            for n in range(6):
                pupil(cast.registrar_a, cast.school_a, level=level, class_number=1 + n % 2)
        # 1 savepoint, 2 result row, 3 grades, 4 classes, 5 open changes, then per grade (6 of them)
        # 1 read; per grade with movers (4) 1 UPDATE + 1 history INSERT; skips (none); result save;
        # savepoint release — 6 + 6 + 8 + 2 = 22, the same for 24 or 24,000 students.
        with django_assert_max_num_queries(22):
            result = promotion_school(run=run, school=cast.school_a)
        assert result.promoted == 24


class TestCatchUp:
    def test_students_whose_business_is_done_are_promoted_once(self, cast, django_capture_on_commit_callbacks):
        busy = pupil(cast.registrar_a, cast.school_a, level=2)
        change = change_create_draft(actor=cast.registrar_a, kind="death", student=busy, reason_category="illness",
                                     reason="误报")
        classless = pupil(cast.registrar_a, cast.school_a, level=3, class_number=None)
        suspended = pupil(cast.registrar_a, cast.school_a, level=3, status=StudentStatus.SUSPENDED)
        run = start(cast, django_capture_on_commit_callbacks)
        with pytest.raises(PermissionDenied):
            promotion_catch_up(actor=cast.city_approver, run=run)
        assert promotion_catch_up(actor=cast.province_approver, run=run) == 0  # nothing resolved yet
        change_withdraw(actor=cast.registrar_a, change=change, reason="误报")
        assert promotion_catch_up(actor=cast.province_approver, run=run) == 1
        assert placed(busy) == ("primary", 3, 1) and placed(classless)[1] == 3 and placed(suspended)[1] == 3
        assert promotion_catch_up(actor=cast.province_approver, run=run) == 0  # never twice
        assert placed(busy) == ("primary", 3, 1)
        last = Student.history.filter(id=busy.pk).latest()
        assert last.history_change_reason == "2026-2027学年升级（补升）：二年级→三年级"
        assert PromotionSkip.objects.get(student=busy).promoted_at is not None

    def test_only_after_the_run_is_done(self, cast):
        run = queued_run(cast, 2026)
        with pytest.raises(ValidationError, match="完成后"):
            promotion_catch_up(actor=cast.province_approver, run=run)
