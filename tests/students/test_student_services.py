"""Student services: create, update with the key-data rule, delete drafts, status, numbers, verify."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.models import AuditEvent
from students import services
from students.models import NumberKind, Student, StudentStatus

from .helpers import id_number, make_student, members_data, student_data

pytestmark = pytest.mark.django_db


class TestCreate:
    def test_registrar_creates_a_draft_with_pinyin_and_two_members(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, name="曾小明")
        assert student.status == StudentStatus.DRAFT
        assert student.name_pinyin == "zengxiaoming"
        assert student.name_initials == "zxm"
        assert [m.order for m in student.family_members.all()] == [1, 2]
        assert student.school_path == cast.school_a.path and student.province_code == "34"
        assert student.enrolled_on is not None
        assert student.history.first().history_user == cast.registrar_a

    def test_other_school_registrar_is_refused(self, cast):
        with pytest.raises(PermissionDenied):
            make_student(cast.registrar_b, cast.school_a)

    def test_grade_of_another_school_is_refused(self, cast):
        data = student_data(cast.school_a)
        data["grade"] = cast.school_b.grades.first()
        data["school_class"] = None
        with pytest.raises(ValidationError):
            services.student_create(actor=cast.registrar_a, school=cast.school_a, data=data, members=members_data())


class TestUpdate:
    def test_draft_key_data_can_change(self, cast):
        student = make_student(cast.registrar_a, cast.school_a)
        services.student_update(actor=cast.registrar_a, student=student, data={"name": "单田芳"})
        student.refresh_from_db()
        assert student.name == "单田芳" and student.name_pinyin == "shantianfang"
        assert student.history.first().history_change_reason == "修改草稿"

    def test_registered_record_refuses_key_data(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        for field, value in [("name", "李四"), ("gender", "2"), ("birth_date", date(2018, 1, 1)), ("ethnicity", "02"),
                             ("id_number", id_number())]:
            with pytest.raises(ValidationError) as exc:
                services.student_update(actor=cast.registrar_a, student=student, data={field: value}, reason="改")
            assert "关键数据" in str(exc.value)

    def test_registered_record_other_fields_need_a_reason_and_are_kept_in_history(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        with pytest.raises(ValidationError):
            services.student_update(actor=cast.registrar_a, student=student, data={"phone": "13900000000"})
        services.student_update(actor=cast.registrar_a, student=student, data={"phone": "13900000000"},
                                members=[{"phone": "13700000000"}, {}], reason="家长更换手机号")
        latest = student.history.first()
        assert latest.history_change_reason == "家长更换手机号" and latest.history_user == cast.registrar_a
        assert student.family_members.get(order=1).phone == "13700000000"

    def test_pending_records_cannot_be_edited(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.PENDING)
        with pytest.raises(ValidationError):
            services.student_update(actor=cast.registrar_a, student=student, data={"phone": "1"}, reason="x")

    def test_inspector_cannot_edit(self, cast):
        student = make_student(cast.registrar_a, cast.school_a)
        with pytest.raises(PermissionDenied):
            services.student_update(actor=cast.inspector, student=student, data={"phone": "13900000000"})


class TestDeleteDraft:
    def test_draft_is_deleted_with_history(self, cast):
        student = make_student(cast.registrar_a, cast.school_a)
        pk = student.pk
        services.student_delete_draft(actor=cast.registrar_a, student=student)
        assert not Student.objects.filter(pk=pk).exists()
        assert Student.history.filter(id=pk, history_type="-").get().history_user == cast.registrar_a

    def test_registered_record_cannot_be_deleted(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        with pytest.raises(ValidationError):
            services.student_delete_draft(actor=cast.registrar_a, student=student)


class TestOneLiveRecordPerIdNumber:
    def test_second_live_record_with_the_same_number_names_the_holding_school(self, cast):
        number = id_number()
        make_student(cast.registrar_b, cast.school_b, number=number, status=StudentStatus.ACTIVE)
        draft = make_student(cast.registrar_a, cast.school_a, number=number)
        with pytest.raises(ValidationError) as exc:
            services.student_status_set(actor=cast.approver_a, student=draft, status=StudentStatus.PENDING,
                                        reason="提交")
        assert "蜀山区实验小学" in str(exc.value)
        draft.refresh_from_db()
        assert draft.status == StudentStatus.DRAFT

    def test_registration_check_reports_holder_and_batch_duplicates(self, cast):
        number = id_number()
        make_student(cast.registrar_b, cast.school_b, number=number, status=StudentStatus.ACTIVE)
        a = make_student(cast.registrar_a, cast.school_a, number=number)
        twin = id_number()
        b = make_student(cast.registrar_a, cast.school_a, number=twin, name="王一")
        c = make_student(cast.registrar_a, cast.school_a, number=twin, name="王二")
        errors = services.registration_check([a, b, c])
        assert [(e.student, e.field) for e in errors] == [(a, "id_number"), (c, "id_number")]
        assert "蜀山区实验小学" in errors[0].message and "转学" in errors[0].message
        assert number not in errors[0].message

    def test_registration_check_is_one_query(self, cast, django_assert_num_queries):
        batch = [make_student(cast.registrar_a, cast.school_a) for _ in range(5)]
        with django_assert_num_queries(1):
            # 1. live holders of the batch's ID numbers (with their school names)
            assert services.registration_check(batch) == []


class TestNumbers:
    def test_approved_student_with_id_gets_an_l_number_then_g_on_verify_keeping_l_in_history(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, approver=cast.approver_a)
        services.student_number_assign(actor=cast.approver_a, student=student)
        assert student.number_kind == NumberKind.L and student.student_number.startswith("L340102")
        l_number = student.student_number
        services.student_verify(actor=cast.registrar_a, student=student)
        student.refresh_from_db()
        assert student.student_number == "G" + student.id_number and student.verified_at
        numbers = list(student.history.values_list("student_number", flat=True))
        assert l_number in numbers
        assert AuditEvent.objects.filter(kind="decision", target_id=str(student.pk)).exists()

    def test_student_without_id_gets_a_j_number_and_cannot_be_verified(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, number="", id_type="Z", status=StudentStatus.ACTIVE)
        services.student_number_assign(actor=cast.registrar_a, student=student)
        assert student.number_kind == NumberKind.J and len(student.student_number) == 19
        with pytest.raises(ValidationError):
            services.student_verify(actor=cast.registrar_a, student=student)

    def test_two_students_same_day_get_different_sequences(self, cast):
        a = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        b = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, name="李四")
        services.student_number_assign(actor=cast.registrar_a, student=a)
        services.student_number_assign(actor=cast.registrar_a, student=b)
        assert a.student_number != b.student_number

    def test_drafts_cannot_be_verified(self, cast):
        student = make_student(cast.registrar_a, cast.school_a)
        with pytest.raises(ValidationError):
            services.student_verify(actor=cast.registrar_a, student=student)


class TestKeyDataApply:
    def test_approved_correction_changes_key_data_and_drops_verification(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        services.student_verify(actor=cast.registrar_a, student=student)
        services.student_key_data_apply(actor=cast.county_approver, student=student,
                                        changes={"name": "解小明", "id_number": id_number()}, reason="关键数据变更#1")
        student.refresh_from_db()
        assert student.name_pinyin == "xiexiaoming" and student.verified_at is None
        assert student.history.first().history_change_reason == "关键数据变更#1"

    def test_non_key_fields_are_refused(self, cast):
        student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
        with pytest.raises(ValidationError):
            services.student_key_data_apply(actor=cast.approver_a, student=student, changes={"phone": "1"}, reason="x")


class TestAccessEvents:
    def test_reveal_is_logged_without_the_number(self, cast):
        student = make_student(cast.registrar_a, cast.school_a)
        assert services.id_number_reveal(actor=cast.approver_a, student=student) == student.id_number
        event = AuditEvent.objects.get(kind="id_reveal")
        assert event.actor == cast.approver_a and student.id_number not in event.message + str(event.extra)

    def test_inspector_may_not_reveal(self, cast):
        student = make_student(cast.registrar_a, cast.school_a)
        with pytest.raises(PermissionDenied):
            services.id_number_reveal(actor=cast.inspector, student=student)
        assert not AuditEvent.objects.filter(kind="id_reveal").exists()
