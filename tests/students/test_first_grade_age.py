"""The student form applies the first-grade age rule (agreements.rules) at entry: a child too young
for first grade is refused next to 出生日期 and nothing is written; a child born inside the
province's window is saved with a notice that the liability form (未满六周岁入学责任书) is needed
before registration, repeated on the record page until the form is signed; an older child gets no
notice."""

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from agreements.services import agreement_sign, liability_form_issue, liability_form_paper_record
from students.models import Student
from students.views import LIABILITY_NOTICE

from .helpers import id_number, make_student
from .test_student_views import form_post

pytestmark = pytest.mark.django_db

URL = reverse("students:create")


def first_grader_post(cast, birth: date):
    """The new-student form for a primary first-grader entering in September 2026 (default window
    2020-09-01 – 2020-10-31 for province 34, which has no rule of its own in the cast)."""
    return form_post(cast, birth_date=birth.isoformat(), id_number=id_number(birth=birth), entry_month="202609")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


class TestCreate:
    def test_a_child_too_young_is_refused_next_to_the_birth_date_and_nothing_is_written(self, cast, client_for):
        response = client_for(cast.registrar_a).post(URL, first_grader_post(cast, date(2020, 11, 1)))
        assert response.status_code == 200
        errors = response.context["entry"].form.errors
        assert list(errors) == ["birth_date"] and "未达到2026年秋季一年级入学年龄" in errors["birth_date"][0]
        assert "未达到2026年秋季一年级入学年龄" in response.content.decode()
        assert not Student.objects.exists()

    def test_a_child_in_the_window_is_saved_with_the_liability_notice(self, cast, client_for):
        response = client_for(cast.registrar_a).post(URL, first_grader_post(cast, date(2020, 9, 15)))
        student = Student.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("students:detail", args=[student.pk])
        assert LIABILITY_NOTICE in messages_of(response)

    def test_an_older_child_is_saved_without_notice(self, cast, client_for):
        response = client_for(cast.registrar_a).post(URL, first_grader_post(cast, date(2020, 8, 31)))
        assert response.status_code == 302 and Student.objects.count() == 1
        assert LIABILITY_NOTICE not in messages_of(response)


class TestEdit:
    def edit_post(self, cast, student, birth: date):
        data = first_grader_post(cast, birth)
        data["family-INITIAL_FORMS"] = "2"
        for i, m in enumerate(student.family_members.order_by("order")):
            data[f"family-{i}-id"] = m.pk
        return data

    def test_a_draft_moved_to_a_too_young_birth_date_is_refused(self, cast, client_for):
        student = make_student(cast.registrar_a, cast.school_a, birth=date(2020, 3, 5), entry_month="202609")
        url = reverse("students:edit", args=[student.pk])
        response = client_for(cast.registrar_a).post(url, self.edit_post(cast, student, date(2020, 11, 1)))
        assert response.status_code == 200 and "birth_date" in response.context["entry"].form.errors
        student.refresh_from_db()
        assert student.birth_date == date(2020, 3, 5)

    def test_a_draft_moved_into_the_window_is_saved_with_the_notice(self, cast, client_for):
        student = make_student(cast.registrar_a, cast.school_a, birth=date(2020, 3, 5), entry_month="202609")
        url = reverse("students:edit", args=[student.pk])
        response = client_for(cast.registrar_a).post(url, self.edit_post(cast, student, date(2020, 10, 31)))
        assert response.status_code == 302 and LIABILITY_NOTICE in messages_of(response)
        student.refresh_from_db()
        assert student.birth_date == date(2020, 10, 31)


class TestRecordPage:
    def test_a_draft_in_the_window_shows_the_notice_and_the_issue_button(self, cast, client_for):
        student = make_student(cast.registrar_a, cast.school_a, birth=date(2020, 9, 15), entry_month="202609")
        body = client_for(cast.registrar_a).get(reverse("students:detail", args=[student.pk])).content.decode()
        assert LIABILITY_NOTICE in body
        assert reverse("agreements:liability_issue", args=[student.pk]) in body

    def test_once_issued_the_notice_links_to_the_form_and_its_status(self, cast, client_for):
        student = make_student(cast.registrar_a, cast.school_a, birth=date(2020, 9, 15), entry_month="202609")
        agreement = liability_form_issue(actor=cast.registrar_a, student=student)
        body = client_for(cast.registrar_a).get(reverse("students:detail", args=[student.pk])).content.decode()
        assert LIABILITY_NOTICE in body and reverse("agreements:detail", args=[agreement.pk]) in body
        assert "待签署" in body

    def test_once_signed_by_guardian_and_school_the_notice_goes(self, cast, client_for):
        from tests.agreements.test_services import png_upload

        student = make_student(cast.registrar_a, cast.school_a, birth=date(2020, 9, 15), entry_month="202609")
        agreement = liability_form_issue(actor=cast.registrar_a, student=student)
        liability_form_paper_record(actor=cast.registrar_a, agreement=agreement, signer_name="张大山",
                                    scan=png_upload())
        agreement_sign(actor=cast.approver_a, agreement=agreement, confirmed=True)
        body = client_for(cast.registrar_a).get(reverse("students:detail", args=[student.pk])).content.decode()
        assert LIABILITY_NOTICE not in body

    def test_a_reader_without_edit_right_sees_the_notice_without_the_button(self, cast, client_for):
        student = make_student(cast.registrar_a, cast.school_a, birth=date(2020, 9, 15), entry_month="202609")
        body = client_for(cast.inspector).get(reverse("students:detail", args=[student.pk])).content.decode()
        assert LIABILITY_NOTICE in body and "责任书尚未发放" in body
        assert reverse("agreements:liability_issue", args=[student.pk]) not in body

    def test_an_older_child_shows_no_notice(self, cast, client_for):
        student = make_student(cast.registrar_a, cast.school_a, birth=date(2020, 8, 31), entry_month="202609")
        body = client_for(cast.registrar_a).get(reverse("students:detail", args=[student.pk])).content.decode()
        assert LIABILITY_NOTICE not in body
