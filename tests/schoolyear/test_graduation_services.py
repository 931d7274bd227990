"""Graduation batches: who submits and decides, open business blocks, senior high needs the bureau,
outcomes, undo with history."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.models import AuditEvent
from schoolyear.models import GraduationBatch, GraduationEntry, Outcome
from schoolyear.selectors import graduating_grades, graduation_blockers
from schoolyear.services import graduation_decide, graduation_submit, graduation_undo
from students.models import ProblemRecord, Student, StudentStatus
from students.services import problem_scan
from transfers.models import ChangeStatus
from transfers.services import change_create_draft, change_roll_back

from .helpers import pupil, senior_staff

pytestmark = pytest.mark.django_db


def top(school):
    return graduating_grades(school)[0]


@pytest.fixture
def sixth_graders(cast):
    return [pupil(cast.registrar_a, cast.school_a, level=6, class_number=n) for n in (1, 1, 2)]


class TestCompulsoryGraduation:
    def test_school_graduates_its_students_itself_with_an_outcome_each(self, cast, sixth_graders):
        a, b, c = sixth_graders
        batch = graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a),
                                  outcomes={a.pk: Outcome.GRADUATED, b.pk: Outcome.COMPLETED, c.pk: Outcome.INCOMPLETE})
        assert batch.status == GraduationBatch.Status.SUBMITTED and not batch.needs_bureau
        graduation_decide(actor=cast.approver_a, batch=batch, decision="approve")
        batch.refresh_from_db()
        assert batch.status == GraduationBatch.Status.COMPLETED and batch.completed_at
        assert set(Student.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("status", flat=True)) == {
            StudentStatus.GRADUATED}
        reasons = {Student.history.filter(id=s.pk).latest().history_change_reason for s in (a, b, c)}
        assert reasons == {f"{word}（毕业批次 #{batch.pk}）" for word in ("毕业", "结业", "肄业")}
        assert Student.history.filter(id=a.pk).latest().history_user == cast.approver_a
        assert AuditEvent.objects.filter(kind="decision", target_id=str(batch.pk)).exists()

    def test_only_the_graduating_grade(self, cast):
        fifth = pupil(cast.registrar_a, cast.school_a, level=5)
        with pytest.raises(ValidationError, match="不是毕业年级"):
            graduation_submit(actor=cast.registrar_a, grade=fifth.grade, outcomes={fifth.pk: "graduated"})

    def test_submitter_rights_and_maker_checker(self, cast, sixth_graders):
        a = sixth_graders[0]
        with pytest.raises(PermissionDenied):
            graduation_submit(actor=cast.registrar_b, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
        batch = graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
        with pytest.raises(PermissionDenied):  # the county approves nothing for the school's own step
            graduation_decide(actor=cast.county_approver, batch=batch, decision="approve")
        with pytest.raises(PermissionDenied):
            graduation_decide(actor=cast.registrar_a, batch=batch, decision="approve")

    def test_rejection_needs_a_reason_and_frees_the_students(self, cast, sixth_graders):
        a = sixth_graders[0]
        batch = graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
        with pytest.raises(ValidationError):
            graduation_decide(actor=cast.approver_a, batch=batch, decision="reject")
        graduation_decide(actor=cast.approver_a, batch=batch, decision="reject", comment="名单有误")
        assert batch.entries.get().state == GraduationEntry.State.RELEASED
        again = graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
        assert again.pk != batch.pk

    def test_a_student_is_in_one_open_batch_only(self, cast, sixth_graders):
        a = sixth_graders[0]
        graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
        with pytest.raises(ValidationError, match="已在毕业批次"):
            graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})


class TestOpenBusinessBlocks:
    def test_an_open_change_blocks_and_is_listed_with_a_link_until_a_bureau_rolls_it_back(self, cast, sixth_graders):
        a, b, _ = sixth_graders
        change = change_create_draft(actor=cast.registrar_a, kind="suspension", student=a, reason_category="illness",
                                     reason="住院")
        blockers = graduation_blockers([a, b])
        assert [x.kind for x in blockers[a.pk]] == ["change"] and not blockers[b.pk]
        assert blockers[a.pk][0].url == f"/changes/{change.pk}/"
        with pytest.raises(ValidationError, match="有在办业务"):
            graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated",
                                                                                         b.pk: "graduated"})
        change_roll_back(actor=cast.county_approver, change=change, reason="毕业前清理在办业务")
        assert change.__class__.objects.get(pk=change.pk).status == ChangeStatus.ROLLED_BACK
        batch = graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
        assert batch.entries.count() == 1

    def test_an_open_problem_record_blocks(self, cast):
        a = pupil(cast.registrar_a, cast.school_a, level=6, name="重名", birth_date=date(2014, 1, 1),
                  id_type="Z", id_number="")
        pupil(cast.registrar_a, cast.school_a, level=6, name="重名", birth_date=date(2014, 1, 1),
              gender=a.gender, id_type="Z", id_number="")
        problem_scan()
        assert ProblemRecord.objects.filter(status="open").exists()
        assert graduation_blockers([a])[a.pk][0].kind == "problem"

    def test_suspended_students_do_not_graduate(self, cast):
        s = pupil(cast.registrar_a, cast.school_a, level=6, status=StudentStatus.SUSPENDED)
        assert graduation_blockers([s])[s.pk][0].kind == "status"

    def test_business_opened_after_submission_stops_the_approval(self, cast, sixth_graders):
        a = sixth_graders[0]
        batch = graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
        change_create_draft(actor=cast.registrar_a, kind="suspension", student=a, reason_category="illness", reason="x")
        with pytest.raises(ValidationError, match="情况已变化"):
            graduation_decide(actor=cast.approver_a, batch=batch, decision="approve")
        a.refresh_from_db()
        assert a.status == StudentStatus.ACTIVE


class TestSeniorGraduation:
    def test_needs_the_authority_bureau_after_the_school(self, cast):
        registrar, approver = senior_staff(cast)
        s = pupil(registrar, cast.senior_school, level=3)
        batch = graduation_submit(actor=registrar, grade=top(cast.senior_school), outcomes={s.pk: "graduated"})
        assert batch.needs_bureau
        graduation_decide(actor=approver, batch=batch, decision="approve")
        batch.refresh_from_db()
        assert batch.status == GraduationBatch.Status.BUREAU
        s.refresh_from_db()
        assert s.status == StudentStatus.ACTIVE
        with pytest.raises(PermissionDenied):  # 瑶海区 is not the senior school's authority (合肥市)
            graduation_decide(actor=cast.county_approver, batch=batch, decision="approve")
        graduation_decide(actor=cast.city_approver, batch=batch, decision="approve")
        s.refresh_from_db()
        assert s.status == StudentStatus.GRADUATED

    def test_the_province_above_the_authority_may_decide_too(self, cast):
        registrar, approver = senior_staff(cast)
        s = pupil(registrar, cast.senior_school, level=3)
        batch = graduation_submit(actor=registrar, grade=top(cast.senior_school), outcomes={s.pk: "graduated"})
        graduation_decide(actor=approver, batch=batch, decision="approve")
        graduation_decide(actor=cast.province_approver, batch=batch, decision="reject", comment="材料不全")
        batch.refresh_from_db()
        assert batch.status == GraduationBatch.Status.REJECTED


class TestUndo:
    def test_a_bureau_undoes_one_graduation_with_history(self, cast, sixth_graders):
        a, b, _ = sixth_graders
        batch = graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a),
                                  outcomes={a.pk: "graduated", b.pk: "graduated"})
        graduation_decide(actor=cast.approver_a, batch=batch, decision="approve")
        entry = batch.entries.get(student=a)
        with pytest.raises(PermissionDenied):  # the school itself cannot undo
            graduation_undo(actor=cast.approver_a, entry=entry, reason="误操作")
        with pytest.raises(PermissionDenied):
            graduation_undo(actor=cast.other_county_approver, entry=entry, reason="误操作")
        with pytest.raises(ValidationError):
            graduation_undo(actor=cast.county_approver, entry=entry, reason=" ")
        graduation_undo(actor=cast.county_approver, entry=entry, reason="该生需补考")
        a.refresh_from_db()
        b.refresh_from_db()
        assert a.status == StudentStatus.ACTIVE and b.status == StudentStatus.GRADUATED
        entry.refresh_from_db()
        assert entry.state == "undone" and entry.undone_by == cast.county_approver
        statuses = list(Student.history.filter(id=a.pk).order_by("history_id").values_list("status", flat=True))
        assert statuses[-3:] == ["active", "graduated", "active"]
        with pytest.raises(ValidationError):
            graduation_undo(actor=cast.county_approver, entry=entry, reason="再来")
        # Undone, the student may graduate again later.
        graduation_submit(actor=cast.registrar_a, grade=top(cast.school_a), outcomes={a.pk: "graduated"})
