"""Pages of status changes: the trio (allowed / in scope without the right → 403 / other unit → 404)
for every view, forms with Chinese errors, and query counts of the lists."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from audits.models import AuditEvent
from students.models import StudentStatus
from transfers.models import ChangeStatus, Notification, StatusChange, StepStatus
from transfers.services import change_create_draft, evidence_add, step_decide

from .conftest import make_student
from .test_decisions import current, start_transfer
from .test_rules import PNG, png


@pytest.fixture
def transfer(cast, today):
    """A pending same-county transfer of a student from school_a into school_a2."""
    return start_transfer(cast, make_student(cast.school_a))


def url(name, *args):
    return reverse(f"transfers:{name}", args=args)


@pytest.mark.django_db
class TestQueue:
    def test_approver_sees_the_step_waiting_for_the_school(self, cast, transfer, client_for):
        response = client_for(cast.approver_a2).get(url("queue"))
        assert response.status_code == 200
        assert transfer.student.name in response.content.decode()

    def test_inspector_without_rights_gets_403(self, cast, transfer, client_for):
        assert client_for(cast.inspector).get(url("queue")).status_code == 403

    def test_other_units_do_not_see_the_step(self, cast, transfer, client_for):
        response = client_for(cast.other_province_approver).get(url("queue"))
        assert response.status_code == 200 and not response.context["rows"]

    def test_a_county_approver_does_not_see_school_steps(self, cast, transfer, client_for):
        assert not client_for(cast.county_approver).get(url("queue")).context["rows"]

    def test_county_step_is_in_the_county_and_city_queues(self, cast, transfer, client_for):
        for user in (cast.approver_a2, cast.registrar_a, cast.approver_a, cast.county_registrar):
            step_decide(actor=user, step=current(transfer), decision="approve")
        assert len(client_for(cast.county_approver).get(url("queue")).context["rows"]) == 1
        assert len(client_for(cast.city_approver).get(url("queue")).context["rows"]) == 1
        assert not client_for(cast.other_county_approver).get(url("queue")).context["rows"]

    def test_registrar_sees_registrar_steps(self, cast, transfer, client_for):
        step_decide(actor=cast.approver_a2, step=current(transfer), decision="approve")
        rows = client_for(cast.registrar_a).get(url("queue")).context["rows"]
        assert [r["step"].role for r in rows] == ["registrar"]

    def test_filters_by_kind_and_overdue(self, cast, transfer, client_for):
        client = client_for(cast.approver_a2)
        assert len(client.get(url("queue"), {"kind": "transfer"}).context["rows"]) == 1
        assert not client.get(url("queue"), {"kind": "suspension"}).context["rows"]
        assert not client.get(url("queue"), {"overdue": "1"}).context["rows"]
        assert len(client.get(url("queue"), {"school": "瑶海区第一"}).context["rows"]) == 1
        assert client.get(url("queue"), {"sort": "nonsense", "page": "x"}).status_code == 200

    def test_escalations_show_overdue_school_steps_to_the_county(self, cast, transfer, client_for):
        step = current(transfer)
        step.due_date = date(2020, 1, 2)
        step.save(update_fields=["due_date"])
        response = client_for(cast.county_approver).get(url("queue"), {"view": "escalations"})
        assert [r["step"].pk for r in response.context["rows"]] == [step.pk]
        assert "逾期" in response.content.decode()
        assert client_for(cast.county_approver).get(url("queue")).context["escalation_count"] == 1
        # The school approver sees it in the queue, marked overdue; other counties see nothing.
        assert client_for(cast.approver_a2).get(url("queue")).context["rows"][0]["overdue"]
        assert not client_for(cast.other_county_approver).get(url("queue"), {"view": "escalations"}).context["rows"]

    def test_a_due_date_in_an_unknown_year_shows_a_warning(self, cast, transfer, client_for):
        client = client_for(cast.approver_a2)
        step = current(transfer)
        step.due_date = date(2031, 1, 10)
        step.save(update_fields=["due_date"])
        assert "2031年节假日安排尚未录入" in client.get(url("queue")).content.decode()

    def test_rows_keep_the_chosen_order_after_the_page_is_joined(self, cast, today, client_for):
        # The page is chosen on the bare steps, then its rows fetched again (selectors.queue_rows_of).
        names = ["甲", "乙", "丙"]
        for name in names:
            start_transfer(cast, make_student(cast.school_a, name=name))
        client = client_for(cast.approver_a2)

        def shown(sort):
            rows = client.get(url("queue"), {"sort": sort}).context["rows"]
            return [row["change"].student.name for row in rows]

        assert shown("arrived") == names
        assert shown("-arrived") == names[::-1]

    def test_query_count_is_constant_whatever_the_number_of_rows(self, cast, today, client_for,
                                                                  django_assert_num_queries):
        client = client_for(cast.approver_a2)

        def count_queries():
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url("queue")).status_code == 200
            return len(ctx.captured_queries)

        start_transfer(cast, make_student(cast.school_a, name="一"))
        count_queries()  # warms the per-process working-day table (one query, then cached)
        few = count_queries()
        for i in range(6):
            start_transfer(cast, make_student(cast.school_a, name=f"多{i}"))
        assert count_queries() == few
        # 1 session, 2 user, 3 held codenames (nav), 4-5 grants for approve_changes and edit_students,
        # 6 count, 7 the page of steps alone, 8 those steps with change, student, schools, submitter
        # and unit in one JOIN, 9-11 session save (savepoint, update, release).
        assert few == 11


@pytest.mark.django_db
class TestQueueDecide:
    def test_batch_approve(self, cast, transfer, client_for):
        step = current(transfer)
        response = client_for(cast.approver_a2).post(url("queue_decide"), {"steps": [step.pk], "decision": "approve",
                                                                          "comment": "同意"})
        assert response.status_code == 302
        step.refresh_from_db()
        assert step.status == StepStatus.APPROVED and step.comment == "同意"

    def test_htmx_gets_a_redirect_header(self, cast, transfer, client_for):
        response = client_for(cast.approver_a2).post(url("queue_decide"), {
            "steps": [current(transfer).pk], "decision": "approve", "querystring": "kind=transfer"},
            HTTP_HX_REQUEST="true")
        # 200, not 302: a redirect would be followed inside htmx's request and the header lost.
        assert response.status_code == 200
        assert response["HX-Redirect"].endswith("?kind=transfer")

    def test_reject_without_reason_is_refused(self, cast, transfer, client_for):
        client = client_for(cast.approver_a2)
        response = client.post(url("queue_decide"), {"steps": [current(transfer).pk], "decision": "reject"},
                               follow=True)
        assert "退回必须填写理由" in response.content.decode()
        assert current(transfer).status == StepStatus.CURRENT

    def test_in_scope_without_the_right_is_403(self, cast, transfer, client_for):
        response = client_for(cast.registrar_a2).post(url("queue_decide"), {"steps": [current(transfer).pk],
                                                                           "decision": "approve"})
        assert response.status_code == 403

    def test_other_unit_is_404(self, cast, transfer, client_for):
        response = client_for(cast.other_province_approver).post(url("queue_decide"), {
            "steps": [current(transfer).pk], "decision": "approve"})
        assert response.status_code == 404

    def test_garbage_is_not_a_500(self, cast, transfer, client_for):
        client = client_for(cast.approver_a2)
        assert client.post(url("queue_decide"), {"steps": ["x", "'"], "decision": "maybe"}).status_code == 302
        assert client.post(url("queue_decide"), {"steps": ["999999"], "decision": "approve"}).status_code == 404


@pytest.mark.django_db
class TestChangeDetail:
    def test_initiator_sees_the_route_as_a_timeline(self, cast, transfer, client_for):
        response = client_for(cast.registrar_a2).get(url("change_detail", transfer.pk))
        body = response.content.decode()
        assert response.status_code == 200
        assert "审核流程" in body and "瑶海区第二小学 · 主管领导审核" in body and "下一步" in body
        assert transfer.student.id_number not in body  # masked

    def test_the_steps_approver_sees_the_action_buttons(self, cast, transfer, client_for):
        assert client_for(cast.approver_a2).get(url("change_detail", transfer.pk)).context["can_decide"]
        assert not client_for(cast.approver_a).get(url("change_detail", transfer.pk)).context["can_decide"]

    def test_sending_school_and_county_see_it(self, cast, transfer, client_for):
        for user in (cast.registrar_a, cast.county_approver, cast.province_approver):
            assert client_for(user).get(url("change_detail", transfer.pk)).status_code == 200

    def test_in_scope_without_the_right_is_403(self, cast, transfer, client_for):
        assert client_for(cast.system_admin).get(url("change_detail", transfer.pk)).status_code == 403

    def test_other_unit_is_404(self, cast, transfer, client_for):
        assert client_for(cast.other_province_registrar).get(url("change_detail", transfer.pk)).status_code == 404
        assert client_for(cast.approver_b).get(url("change_detail", transfer.pk)).status_code == 404

    def test_after_the_transfer_the_sending_school_still_sees_it(self, cast, transfer, client_for):
        for user in (cast.approver_a2, cast.registrar_a, cast.approver_a, cast.county_registrar, cast.county_approver):
            step_decide(actor=user, step=current(transfer), decision="approve")
        assert client_for(cast.registrar_a).get(url("change_detail", transfer.pk)).status_code == 200


@pytest.mark.django_db
class TestStepDecide:
    def test_allowed(self, cast, transfer, client_for):
        step = current(transfer)
        response = client_for(cast.approver_a2).post(url("step_decide", step.pk), {"decision": "approve"})
        assert response.status_code == 302
        step.refresh_from_db()
        assert step.status == StepStatus.APPROVED

    def test_second_decision_shows_who_decided(self, cast, transfer, client_for):
        step = current(transfer)
        step_decide(actor=cast.approver_a2, step=step, decision="approve")
        # registrar_a now holds the current step; deciding the old one again tells who did it.
        response = client_for(cast.approver_a2).post(url("step_decide", step.pk), {"decision": "approve"},
                                                     follow=True)
        assert "该步骤已由" in response.content.decode()

    def test_in_scope_without_the_right_is_403(self, cast, transfer, client_for):
        assert client_for(cast.registrar_a2).post(url("step_decide", current(transfer).pk),
                                                  {"decision": "approve"}).status_code == 403

    def test_other_unit_is_404(self, cast, transfer, client_for):
        assert client_for(cast.approver_b).post(url("step_decide", current(transfer).pk),
                                                {"decision": "approve"}).status_code == 404


@pytest.fixture
def returned(cast, transfer):
    step_decide(actor=cast.approver_a2, step=current(transfer), decision="reject", comment="请补充材料")
    transfer.refresh_from_db()
    return transfer


@pytest.mark.django_db
class TestDraftActions:
    def test_initiator_resubmits(self, cast, returned, client_for):
        assert client_for(cast.registrar_a2).post(url("change_submit", returned.pk)).status_code == 302
        returned.refresh_from_db()
        assert returned.status == ChangeStatus.PENDING and returned.round == 2

    def test_submit_wrong_role_403_other_unit_404(self, cast, returned, client_for):
        assert client_for(cast.approver_a2).post(url("change_submit", returned.pk)).status_code == 403
        assert client_for(cast.registrar_b).post(url("change_submit", returned.pk)).status_code == 404

    def test_edit_draft(self, cast, returned, client_for):
        client = client_for(cast.registrar_a2)
        assert client.get(url("change_edit", returned.pk)).status_code == 200
        other = cast.school_a2.classes.get(grade__level=3, number=2)
        response = client.post(url("change_edit", returned.pk), {"target_class": other.pk,
                                                                  "reason_category": "hukou", "reason": "户口迁入"})
        assert response.status_code == 302
        returned.refresh_from_db()
        assert returned.target_class == other and returned.reason == "户口迁入"

    def test_edit_keeps_input_and_shows_errors(self, cast, returned, client_for):
        response = client_for(cast.registrar_a2).post(url("change_edit", returned.pk), {"reason": "只写了说明"})
        assert response.status_code == 200 and "只写了说明" in response.content.decode()

    def test_edit_wrong_role_403_other_unit_404(self, cast, returned, client_for):
        assert client_for(cast.approver_a2).get(url("change_edit", returned.pk)).status_code == 403
        assert client_for(cast.registrar_b).get(url("change_edit", returned.pk)).status_code == 404

    def test_withdraw(self, cast, transfer, client_for):
        assert client_for(cast.approver_a2).post(url("change_withdraw", transfer.pk)).status_code == 403
        assert client_for(cast.registrar_b).post(url("change_withdraw", transfer.pk)).status_code == 404
        assert client_for(cast.registrar_a2).post(url("change_withdraw", transfer.pk)).status_code == 302
        transfer.refresh_from_db()
        assert transfer.status == ChangeStatus.WITHDRAWN

    def test_roll_back(self, cast, transfer, client_for):
        assert client_for(cast.registrar_a).post(url("change_roll_back", transfer.pk),
                                                 {"reason": "x"}).status_code == 403
        assert client_for(cast.other_county_approver).post(url("change_roll_back", transfer.pk),
                                                           {"reason": "x"}).status_code == 404
        assert client_for(cast.county_approver).post(url("change_roll_back", transfer.pk),
                                                     {"reason": "长期滞留"}).status_code == 302
        transfer.refresh_from_db()
        assert transfer.status == ChangeStatus.ROLLED_BACK


@pytest.fixture
def suspension_draft(cast, today):
    return change_create_draft(actor=cast.registrar_a, kind="suspension", student=make_student(cast.school_a),
                               reason_category="illness", reason="住院", start_date=date(2026, 11, 1),
                               end_date=date(2027, 6, 30))


@pytest.mark.django_db
class TestEvidence:
    def test_upload(self, cast, suspension_draft, client_for):
        response = client_for(cast.registrar_a).post(url("evidence_upload", suspension_draft.pk),
                                                     {"file": png()})
        assert response.status_code == 302 and suspension_draft.evidence.count() == 1

    def test_upload_of_a_disguised_file_is_refused(self, cast, suspension_draft, client_for):
        fake = SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
        response = client_for(cast.registrar_a).post(url("evidence_upload", suspension_draft.pk), {"file": fake},
                                                     follow=True)
        assert "只能上传 JPG、PNG 或 PDF" in response.content.decode()
        assert not suspension_draft.evidence.exists()

    def test_upload_wrong_role_403_other_unit_404(self, cast, suspension_draft, client_for):
        assert client_for(cast.approver_a).post(url("evidence_upload", suspension_draft.pk),
                                                {"file": png()}).status_code == 403
        assert client_for(cast.registrar_b).post(url("evidence_upload", suspension_draft.pk),
                                                 {"file": png()}).status_code == 404

    def test_download_through_the_access_layer_only(self, cast, suspension_draft, client_for):
        evidence = evidence_add(actor=cast.registrar_a, change=suspension_draft, upload=png())
        response = client_for(cast.approver_a).get(url("evidence_download", evidence.pk))
        assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
        assert response["Content-Type"] == "image/png" and "attachment" in response["Content-Disposition"]
        assert AuditEvent.objects.filter(kind="record_view", message__contains="佐证材料").exists()
        assert client_for(cast.system_admin).get(url("evidence_download", evidence.pk)).status_code == 403
        assert client_for(cast.other_province_registrar).get(url("evidence_download", evidence.pk)).status_code == 404
        assert client_for(cast.approver_a).get(url("evidence_download", 999999)).status_code == 404


@pytest.mark.django_db
class TestFollowUp:
    def test_trio(self, cast, today, client_for):
        change = change_create_draft(actor=cast.registrar_a, kind="dropout", student=make_student(cast.school_a),
                                     reason_category="study", reason="厌学")
        assert client_for(cast.approver_a).post(url("follow_up_new", change.pk), {"note": "x"}).status_code == 403
        assert client_for(cast.registrar_b).post(url("follow_up_new", change.pk), {"note": "x"}).status_code == 404
        assert client_for(cast.registrar_a).post(url("follow_up_new", change.pk),
                                                 {"note": "电话随访"}).status_code == 302
        assert change.follow_ups.get().note == "电话随访"


@pytest.mark.django_db
class TestTransferNew:
    def test_lookup_shows_only_name_gender_school_and_grade(self, cast, today, client_for):
        student = make_student(cast.school_a, name="李小花", gender="2")
        client = client_for(cast.registrar_a2)
        assert client.get(url("transfer_new")).status_code == 200
        response = client.post(url("transfer_new"), {"query": student.id_number.lower()})
        body = response.content.decode()
        assert response.status_code == 200
        assert "李小花" in body and "女" in body and "瑶海区第一小学" in body and "三年级" in body
        assert student.student_number not in body
        assert AuditEvent.objects.filter(kind="record_view", message__contains="转学查询").exists()

    def test_lookup_is_exact_only(self, cast, today, client_for):
        student = make_student(cast.school_a, name="李小花")
        response = client_for(cast.registrar_a2).post(url("transfer_new"), {"query": student.id_number[:-1]})
        assert "未找到在籍学生" in response.content.decode()
        response = client_for(cast.registrar_a2).post(url("transfer_new"), {"query": "李小花"})
        assert "未找到在籍学生" in response.content.decode()

    def test_confirm_creates_and_submits_the_transfer(self, cast, today, client_for):
        student = make_student(cast.school_a)
        target = cast.school_a2.classes.get(grade__level=3, number=2)
        response = client_for(cast.registrar_a2).post(url("transfer_new"), {
            "confirm": "1", "query": student.student_number, "target_class": target.pk,
            "reason_category": "relocation", "reason": "搬家"})
        change = StatusChange.objects.get(student=student)
        assert response.status_code == 302 and change.status == ChangeStatus.PENDING
        assert change.school == cast.school_a2 and change.target_class == target

    def test_a_class_of_another_grade_or_school_is_refused(self, cast, today, client_for):
        student = make_student(cast.school_a)
        for target in (cast.school_a2.classes.get(grade__level=4, number=1),
                       cast.school_b.classes.get(grade__level=3, number=1)):
            response = client_for(cast.registrar_a2).post(url("transfer_new"), {
                "confirm": "1", "query": student.student_number, "target_class": target.pk,
                "reason_category": "relocation", "reason": "搬家"})
            assert response.status_code == 200 and "请选择本校同年级的班级" in response.content.decode()
        assert not StatusChange.objects.exists()

    def test_rule_errors_show_on_the_form(self, cast, today, client_for):
        today(date(2026, 7, 20))
        student = make_student(cast.school_a)
        target = cast.school_a2.classes.get(grade__level=3, number=1)
        response = client_for(cast.registrar_a2).post(url("transfer_new"), {
            "confirm": "1", "query": student.student_number, "target_class": target.pk,
            "reason_category": "relocation", "reason": "搬家"})
        assert "禁止转学时段" in response.content.decode() and not StatusChange.objects.exists()

    def test_approver_cannot_start_a_transfer(self, cast, client_for):
        assert client_for(cast.approver_a2).get(url("transfer_new")).status_code == 403


@pytest.mark.django_db
class TestChangeNew:
    def test_suspension_with_evidence_is_submitted(self, cast, today, client_for):
        student = make_student(cast.school_a)
        response = client_for(cast.registrar_a).post(url("change_new", "suspension", student.pk), {
            "reason_category": "illness", "reason": "住院治疗", "start_date": "2026-11-01",
            "end_date": "2027-06-30", "evidence": png()})
        change = StatusChange.objects.get(student=student)
        assert response.status_code == 302 and change.status == ChangeStatus.PENDING
        assert change.evidence.count() == 1

    def test_rule_errors_keep_the_input_and_save_nothing(self, cast, today, client_for):
        student = make_student(cast.school_a)
        response = client_for(cast.registrar_a).post(url("change_new", "withdrawal", student.pk), {
            "reason_category": "abroad", "reason": "随父母出国"})
        body = response.content.decode()
        assert response.status_code == 200 and "义务教育阶段学生不能办理退学" in body and "随父母出国" in body
        assert not StatusChange.objects.exists()

    def test_save_as_draft(self, cast, today, client_for):
        student = make_student(cast.school_a)
        client_for(cast.registrar_a).post(url("change_new", "death", student.pk), {
            "reason_category": "illness", "reason": "病故", "draft": "1"})
        assert StatusChange.objects.get(student=student).status == ChangeStatus.DRAFT

    def test_key_data_correction_form(self, cast, today, client_for):
        student = make_student(cast.school_a, name="王小明")
        client = client_for(cast.registrar_a)
        assert client.get(url("change_new", "key_data_correction", student.pk)).status_code == 200
        response = client.post(url("change_new", "key_data_correction", student.pk), {
            "reason_category": "entry_error", "reason": "录错", "name": "王晓明", "gender": "1",
            "birth_date": student.birth_date.isoformat(), "id_type": "1", "id_number": "", "ethnicity": "01",
            "evidence": png()})
        change = StatusChange.objects.get(student=student)
        assert response.status_code == 302 and change.payload == {"name": {"old": "王小明", "new": "王晓明"}}

    def test_wrong_role_403_other_unit_404_unknown_kind_404(self, cast, today, client_for):
        student = make_student(cast.school_a)
        assert client_for(cast.approver_a).get(url("change_new", "suspension", student.pk)).status_code == 403
        assert client_for(cast.registrar_b).get(url("change_new", "suspension", student.pk)).status_code == 404
        assert client_for(cast.registrar_a).get(url("change_new", "transfer", student.pk)).status_code == 404
        assert client_for(cast.registrar_a).get(url("change_new", "suspension", student.pk)).status_code == 200


@pytest.mark.django_db
class TestLists:
    def test_change_list_trio(self, cast, transfer, client_for):
        assert transfer in client_for(cast.registrar_a2).get(url("change_list")).context["page_obj"]
        assert client_for(cast.system_admin).get(url("change_list")).status_code == 403
        assert not client_for(cast.other_province_registrar).get(url("change_list")).context["page_obj"]

    def test_change_list_filters(self, cast, transfer, client_for):
        client = client_for(cast.registrar_a2)
        assert len(client.get(url("change_list"), {"mine": "1", "kind": "transfer", "status": "pending"})
                   .context["page_obj"]) == 1
        assert not client.get(url("change_list"), {"q": "不存在的名字"}).context["page_obj"]

    def test_change_list_query_count_is_constant(self, cast, today, client_for):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        client = client_for(cast.registrar_a2)

        def count():
            with CaptureQueriesContext(connection) as ctx:
                client.get(url("change_list"))
            return len(ctx.captured_queries)

        start_transfer(cast, make_student(cast.school_a, name="一"))
        few = count()
        for i in range(5):
            start_transfer(cast, make_student(cast.school_a, name=f"多{i}"))
        assert count() == few

    def test_expired_suspensions(self, cast, today, client_for):
        from .test_rules import suspend

        student = make_student(cast.school_a)
        suspend(cast, student, start=date(2025, 9, 1), end=date(2026, 6, 30))
        response = client_for(cast.approver_a).get(url("expired_suspensions"))
        assert [s.pk for s in response.context["page_obj"]] == [student.pk]
        assert not client_for(cast.approver_b).get(url("expired_suspensions")).context["page_obj"]
        assert client_for(cast.system_admin).get(url("expired_suspensions")).status_code == 403


@pytest.mark.django_db
class TestInbox:
    def test_shows_my_notifications_and_marks_them_read(self, cast, transfer, client_for):
        client = client_for(cast.approver_a2)
        response = client.get(url("inbox"))
        assert len(response.context["page_obj"]) == 1
        assert client.post(url("inbox_read")).status_code == 302
        assert not Notification.objects.filter(user=cast.approver_a2, read_at__isnull=True).exists()

    def test_others_notifications_stay_unread(self, cast, transfer, client_for):
        client_for(cast.registrar_b).post(url("inbox_read"), {"ids": [n.pk for n in Notification.objects.all()]})
        assert Notification.objects.filter(read_at__isnull=True).count() == 1

    def test_login_required(self, client):
        assert client.get(url("inbox")).status_code == 302


@pytest.mark.django_db
def test_student_changes_panel(cast, transfer):
    request = RequestFactory().get("/")
    request.user = cast.registrar_a
    html = Template("{% load transfers_tags %}{% student_changes_panel student %}").render(
        Context({"request": request, "student": transfer.student}))
    assert "转学（编号" in html and "有在办业务" in html and "瑶海区第二小学 · 主管领导审核" in html
    request.user = cast.approver_a
    html = Template("{% load transfers_tags %}{% student_changes_panel student %}").render(
        Context({"request": request, "student": transfer.student}))
    assert "有在办业务" not in html  # approvers get no start links


@pytest.mark.django_db
def test_pending_registration_students_are_not_transfer_candidates(cast, today, client_for):
    student = make_student(cast.school_a, status=StudentStatus.PENDING)
    response = client_for(cast.registrar_a2).post(url("transfer_new"), {"query": student.id_number})
    assert "未找到在籍学生" in response.content.decode()


@pytest.mark.django_db
def test_editing_a_returned_registration_batch_says_what_to_edit_instead(cast, today, client_for):
    from django.contrib.messages import get_messages

    from transfers.services import registration_submit

    student = make_student(cast.school_a, level=1, status=StudentStatus.DRAFT, number=False)
    change = registration_submit(actor=cast.registrar_a, students=[student])
    step_decide(actor=cast.approver_a, step=current(change), decision="reject", comment="照片缺失")
    change.refresh_from_db()
    assert change.status == ChangeStatus.DRAFT and change.get_status_display() == "草稿（待提交）"
    response = client_for(cast.registrar_a).get(url("change_edit", change.pk))
    assert response.status_code == 302 and response["Location"] == url("change_detail", change.pk)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "注册批次本身没有可修改的内容：请修改批次中学生的学籍后重新提交"]
