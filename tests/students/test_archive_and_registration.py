"""The archive checklist (学籍档案) and the registration page (提交注册)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audits.models import AuditEvent
from students import services
from students.models import ArchiveItemType, Student, StudentStatus

from .helpers import id_number, make_student

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n" + b"0" * 100


def complete_archive(actor, student):
    for item_type in services.archive_item_types_for(student.province_code).filter(required=True):
        services.archive_item_update(actor=actor, student=student, item_type=item_type, present=True,
                                     paper_location="档案室A柜")


@pytest.fixture
def old_student(cast):
    student = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE)
    services.student_update(actor=cast.registrar_a, student=student, reason="补录入校日期",
                            data={"enrolled_on": timezone.localdate() - timedelta(days=60)})
    return student


class TestArchiveServices:
    def test_province_lines_join_the_national_defaults(self, cast):
        ArchiveItemType.objects.create(code="ah_extra", name="安徽省补充材料", province_code="34", order=90)
        ArchiveItemType.objects.create(code="hb_extra", name="湖北省补充材料", province_code="42", order=90)
        names = set(services.archive_item_types_for("34").values_list("name", flat=True))
        assert "安徽省补充材料" in names and "湖北省补充材料" not in names and "户口簿复印件或户籍证明" in names

    def test_scan_is_checked_by_content_and_stored_privately(self, cast, settings, old_student):
        item_type = ArchiveItemType.objects.get(code="household_register", province_code="")
        item = services.archive_item_update(actor=cast.registrar_a, student=old_student, item_type=item_type,
                                            present=False, scan=SimpleUploadedFile("户口.pdf", PDF))
        assert item.present and str(settings.PRIVATE_MEDIA_ROOT) in item.scan.path
        from django.core.exceptions import ValidationError

        for bad in (SimpleUploadedFile("x.pdf", b"<html>"), SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 2_100_000)):
            with pytest.raises(ValidationError):
                services.archive_item_update(actor=cast.registrar_a, student=old_student, item_type=item_type,
                                             present=True, scan=bad)

    def test_due_one_month_after_entry(self, cast, old_student):
        assert services.archive_due_date(old_student) == services.add_months(old_student.enrolled_on, 1)
        from datetime import date

        assert services.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
        assert services.add_months(date(2025, 1, 15), -1) == date(2024, 12, 15)


class TestArchivePages:
    def test_list_shows_incomplete_and_late(self, cast, client_for, old_student):
        fresh = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, name="新生")
        done = make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, name="齐全")
        complete_archive(cast.registrar_a, done)
        client = client_for(cast.registrar_a)
        names = {s.name for s in client.get(reverse("students:archive_list")).context["page_obj"]}
        assert names == {old_student.name, fresh.name}
        late = {s.name for s in client.get(reverse("students:archive_list"), {"late": "1"}).context["page_obj"]}
        assert late == {old_student.name}

    def test_list_is_403_without_view_and_empty_for_other_school(self, cast, client_for, old_student):
        assert client_for(cast.system_admin).get(reverse("students:archive_list")).status_code == 403
        response = client_for(cast.registrar_b).get(reverse("students:archive_list"))
        assert response.status_code == 200 and response.context["page_obj"].paginator.count == 0

    def test_list_query_count(self, cast, client_for, django_assert_num_queries):
        for i in range(6):
            make_student(cast.registrar_a, cast.school_a, status=StudentStatus.ACTIVE, name=f"档案{chr(0x4e00 + i)}")
        client = client_for(cast.registrar_a)
        with django_assert_num_queries(9):
            # 1. session  2. user  3. held codenames (view check, nav)  4. view_students grants
            # 5. count  6. the page of students with required/present counts (two correlated subqueries)
            # 7-9. savepoint, session update, release
            assert client.get(reverse("students:archive_list")).status_code == 200

    def test_registrar_records_a_line_with_a_scan_and_views_it_logged(self, cast, client_for, old_student):
        item_type = ArchiveItemType.objects.get(code="household_register", province_code="")
        client = client_for(cast.registrar_a)
        url = reverse("students:archive", args=[old_student.pk])
        assert client.get(url).status_code == 200
        response = client.post(url, {"item_type": item_type.pk, "present": "on", "paper_location": "A柜",
                                     "scan": SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf")})
        assert response.status_code == 302
        item = old_student.archive_items.get()
        response = client.get(reverse("students:archive_scan", args=[old_student.pk, item.pk]))
        assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
        assert AuditEvent.objects.filter(kind="record_view", message__contains="扫描件").exists()

    def test_fake_scan_is_refused_on_the_page(self, cast, client_for, old_student):
        item_type = ArchiveItemType.objects.get(code="household_register", province_code="")
        response = client_for(cast.registrar_a).post(
            reverse("students:archive", args=[old_student.pk]),
            {"item_type": item_type.pk, "scan": SimpleUploadedFile("x.png", b"GIF89a....", content_type="image/png")})
        assert response.status_code == 200 and "JPG、PNG 或 PDF" in response.content.decode()

    def test_inspector_views_but_cannot_post(self, cast, client_for, old_student):
        client = client_for(cast.inspector)
        url = reverse("students:archive", args=[old_student.pk])
        assert client.get(url).status_code == 200
        assert client.post(url, {"item_type": "1", "present": "on"}).status_code == 403

    def test_other_school_is_404(self, cast, client_for, old_student):
        client = client_for(cast.registrar_b)
        assert client.get(reverse("students:archive", args=[old_student.pk])).status_code == 404
        assert client.get(reverse("students:archive_scan", args=[old_student.pk, 1])).status_code == 404

    @pytest.mark.parametrize("data", [{}, {"item_type": "x"}, {"item_type": "99999"}])
    def test_awkward_posts_never_500(self, cast, client_for, old_student, data):
        response = client_for(cast.registrar_a).post(reverse("students:archive", args=[old_student.pk]), data)
        assert response.status_code == 404


class TestRegistrationPage:
    def test_registrar_submits_drafts_to_the_approval_engine(self, cast, client_for):
        a = make_student(cast.registrar_a, cast.school_a)
        b = make_student(cast.registrar_a, cast.school_a, name="李四")
        client = client_for(cast.registrar_a)
        assert a.name in client.get(reverse("students:registration")).content.decode()
        response = client.post(reverse("students:registration"), {"students": [a.pk, b.pk]})
        assert response.status_code == 302
        assert set(Student.objects.values_list("status", flat=True)) == {StudentStatus.PENDING}

    def test_live_number_elsewhere_is_refused_naming_the_school_with_a_transfer_link(self, cast, client_for):
        number = id_number()
        make_student(cast.registrar_b, cast.school_b, number=number, status=StudentStatus.ACTIVE)
        draft = make_student(cast.registrar_a, cast.school_a, number=number)
        response = client_for(cast.registrar_a).post(reverse("students:registration"), {"students": [draft.pk]})
        body = response.content.decode()
        assert response.status_code == 200 and "蜀山区实验小学" in body and reverse("transfers:transfer_new") in body
        draft.refresh_from_db()
        assert draft.status == StudentStatus.DRAFT

    def test_inspector_is_403(self, cast, client_for):
        assert client_for(cast.inspector).get(reverse("students:registration")).status_code == 403

    def test_other_school_draft_is_404(self, cast, client_for):
        draft = make_student(cast.registrar_a, cast.school_a)
        response = client_for(cast.registrar_b).post(reverse("students:registration"), {"students": [draft.pk]})
        assert response.status_code == 404

    def test_query_count(self, cast, client_for, django_assert_num_queries):
        for i in range(5):
            make_student(cast.registrar_a, cast.school_a, name=f"注册{chr(0x4e00 + i)}")
        client = client_for(cast.registrar_a)
        with django_assert_num_queries(9):
            # 1. session  2. user  3. held codenames  4. edit_students grants  5. count
            # 6. the page of drafts  7-9. savepoint, session update, release
            assert client.get(reverse("students:registration")).status_code == 200
