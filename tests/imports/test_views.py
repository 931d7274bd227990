"""Import and export pages: the trio (allowed, wrong role 403, other unit 404), errors without a
500, and query counts of the list pages."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from audits.models import AuditEvent
from imports.models import ImportBatch
from imports.services import batch_start, batch_upload
from imports.template import national_headers
from students.models import Student
from tests.imports.helpers import student_rows, upload, xlsx_bytes


def make_batch(cast, rows, *, commit=True, user=None, school=None):
    user, school = user or cast.registrar_a, school or cast.school_a
    batch = batch_upload(actor=user, school=school, upload=upload(xlsx_bytes(rows)), commit=commit)
    return batch_start(actor=user, batch=batch)


def bad_rows(count, bad_every=2):
    rows = student_rows(count)
    for row in rows[::bad_every]:
        row["民族"] = "未知族"
    return rows


@pytest.mark.django_db
class TestUpload:
    url = reverse("imports:batch_list")

    def test_registrar_uploads_and_the_file_imports(self, cast, client_for):
        response = client_for(cast.registrar_a).post(self.url, {
            "school": cast.school_a.pk, "file": upload(xlsx_bytes(student_rows(3))), "commit": "on"})
        batch = ImportBatch.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("imports:batch_detail", args=[batch.pk])
        assert batch.status == "imported" and Student.objects.filter(school=cast.school_a).count() == 3

    @pytest.mark.parametrize("content", [b"", b"plain text", b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
    def test_bad_files_show_a_message_not_a_500(self, cast, client_for, content):
        response = client_for(cast.registrar_a).post(self.url, {"school": cast.school_a.pk,
                                                                  "file": upload(content, "x.xlsx")})
        assert response.status_code == 200 and not ImportBatch.objects.exists()
        assert response.context["form"].errors["file"]

    def test_a_county_registrar_chooses_among_its_schools(self, cast, client_for):
        response = client_for(cast.county_registrar).get(self.url)
        offered = set(response.context["form"].fields["school"].queryset)
        assert offered == {cast.school_a, cast.school_a2}

    def test_inspector_gets_403(self, cast, client_for):
        assert client_for(cast.inspector).get(self.url).status_code == 403

    def test_registrar_of_another_school_cannot_upload_into_school_a(self, cast, client_for):
        response = client_for(cast.registrar_b).post(self.url, {
            "school": cast.school_a.pk, "file": upload(xlsx_bytes(student_rows(1)))})
        assert response.status_code == 200 and "school" in response.context["form"].errors
        assert not ImportBatch.objects.exists()

    def test_the_list_shows_only_batches_in_scope_in_constant_queries(self, cast, client_for,
                                                                       django_assert_num_queries):
        for _ in range(3):
            make_batch(cast, student_rows(1), commit=False)
        make_batch(cast, student_rows(1, seed=9), commit=False, user=cast.registrar_b, school=cast.school_b)
        client = client_for(cast.registrar_a)
        client.get(self.url)
        # session, user, held codenames (also serves the navigation), edit_students grants (1 UNION),
        # the user's first two schools, batch count, batch page (school and uploader joined), and the
        # session save (savepoint, update, release).
        with django_assert_num_queries(10):
            response = client.get(self.url)
        assert len(response.context["page_obj"]) == 3


@pytest.mark.django_db
class TestBatchDetail:
    def url(self, batch):
        return reverse("imports:batch_detail", args=[batch.pk])

    def test_registrar_sees_every_error_by_row_and_column(self, cast, client_for):
        batch = make_batch(cast, bad_rows(4))
        body = client_for(cast.registrar_a).get(self.url(batch)).content.decode()
        assert "第 2 行" in body and "第 4 行" in body and "民族" in body and "没有导入任何学生" in body

    def test_errors_are_paginated_in_constant_queries(self, cast, client_for, django_assert_num_queries):
        batch = make_batch(cast, bad_rows(30, bad_every=1))
        assert batch.error_count == 30
        client = client_for(cast.registrar_a)
        client.get(self.url(batch))
        # session, user, grants (1 UNION), the batch in scope (school and uploader joined), the
        # edit_students check (1 EXISTS), error count, navigation codenames, the error page, and the
        # session save (savepoint, update, release). 30 errors or 3: the same.
        with django_assert_num_queries(11):
            response = client.get(self.url(batch), {"page": 1})
        assert len(response.context["page_obj"]) == 30

    def test_each_state_renders(self, cast, client_for):
        client = client_for(cast.registrar_a)
        imported = make_batch(cast, student_rows(2))
        body = client.get(self.url(imported)).content.decode()
        assert "已导入 2 名学生" in body and reverse("transfers:change_detail", args=[imported.registration_id]) in body
        valid = make_batch(cast, student_rows(1, seed=5), commit=False)
        assert "确认导入并提交注册" in client.get(self.url(valid)).content.decode()
        ImportBatch.objects.filter(pk=valid.pk).update(status="queued")
        assert 'hx-trigger="every 1s"' in client.get(self.url(valid)).content.decode()
        broken = batch_upload(actor=cast.registrar_a, school=cast.school_a, upload=upload(xlsx_bytes([])))
        body = client.get(self.url(batch_start(actor=cast.registrar_a, batch=broken))).content.decode()
        assert "文件中只有表头，没有学生数据" in body

    def test_inspector_gets_403(self, cast, client_for):
        batch = make_batch(cast, bad_rows(2))
        assert client_for(cast.inspector).get(self.url(batch)).status_code == 403

    def test_registrar_of_another_school_gets_404(self, cast, client_for):
        batch = make_batch(cast, bad_rows(2))
        assert client_for(cast.registrar_b).get(self.url(batch)).status_code == 404


@pytest.mark.django_db
class TestProgress:
    def url(self, batch):
        return reverse("imports:batch_progress", args=[batch.pk])

    def test_running_batches_poll_and_finished_ones_refresh_the_page(self, cast, client_for):
        batch = make_batch(cast, student_rows(1), commit=False)
        client = client_for(cast.registrar_a)
        ImportBatch.objects.filter(pk=batch.pk).update(status="validating", progress_done=1, progress_total=2)
        running = client.get(self.url(batch))
        assert "50%" in running.content.decode() and "HX-Refresh" not in running
        ImportBatch.objects.filter(pk=batch.pk).update(status="valid")
        assert client.get(self.url(batch))["HX-Refresh"] == "true"

    def test_inspector_gets_403(self, cast, client_for):
        batch = make_batch(cast, student_rows(1), commit=False)
        assert client_for(cast.inspector).get(self.url(batch)).status_code == 403

    def test_registrar_of_another_school_gets_404(self, cast, client_for):
        batch = make_batch(cast, student_rows(1), commit=False)
        assert client_for(cast.registrar_b).get(self.url(batch)).status_code == 404


@pytest.mark.django_db
class TestBatchImport:
    def url(self, batch):
        return reverse("imports:batch_import", args=[batch.pk])

    def test_registrar_imports_a_validated_batch(self, cast, client_for):
        batch = make_batch(cast, student_rows(2), commit=False)
        response = client_for(cast.registrar_a).post(self.url(batch))
        assert response.status_code == 302
        batch.refresh_from_db()
        assert batch.status == "imported" and Student.objects.count() == 2

    def test_a_second_click_is_refused_politely(self, cast, client_for):
        batch = make_batch(cast, student_rows(2), commit=False)
        client = client_for(cast.registrar_a)
        client.post(self.url(batch))
        response = client.post(self.url(batch), follow=True)
        assert "不能重复导入" in response.content.decode() and Student.objects.count() == 2

    def test_get_is_not_allowed(self, cast, client_for):
        batch = make_batch(cast, student_rows(1), commit=False)
        assert client_for(cast.registrar_a).get(self.url(batch)).status_code == 405

    def test_inspector_gets_403(self, cast, client_for):
        batch = make_batch(cast, student_rows(1), commit=False)
        assert client_for(cast.inspector).post(self.url(batch)).status_code == 403
        assert not Student.objects.exists()

    def test_registrar_of_another_school_gets_404(self, cast, client_for):
        batch = make_batch(cast, student_rows(1), commit=False)
        assert client_for(cast.registrar_b).post(self.url(batch)).status_code == 404
        assert not Student.objects.exists()


@pytest.mark.django_db
class TestTemplate:
    url = reverse("imports:template")

    def test_registrar_downloads_the_template(self, cast, client_for):
        response = client_for(cast.registrar_a).get(self.url, {"school": cast.school_a.pk})
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        wb = load_workbook(io.BytesIO(response.content))
        ws = wb["学生信息"]
        headers = [c.value for c in ws[1]]
        assert headers[:3] == ["学校标识码", "姓名", "性别"] and headers == national_headers()
        column = {h: i for i, h in enumerate(headers)}
        assert ws.cell(row=2, column=column["身份证件号"] + 1).number_format == "@"
        assert ws.cell(row=2, column=column["学校标识码"] + 1).value == cast.school_a.school_code
        lists = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
        assert any("选项" in f for f in lists.values()) and len(lists) >= 20
        assert wb["选项"].sheet_state == "hidden" and "填写说明" in wb.sheetnames

    def test_the_example_row_is_valid_and_skipped_on_import(self, cast, client_for):
        from imports.parsing import RowValidator, validate_file

        content = client_for(cast.registrar_a).get(self.url).content
        result = validate_file(io.BytesIO(content), school=cast.school_a)
        assert result.skipped_examples == 1 and result.file_errors == ["文件中只有表头，没有学生数据"]
        ws = load_workbook(io.BytesIO(content), read_only=True)["学生信息"]
        header, example = list(ws.iter_rows(max_row=2, values_only=True))
        validator = RowValidator(cast.school_a, {h: i for i, h in enumerate(header)})
        values = tuple(v.removeprefix("【示例】") if isinstance(v, str) else v for v in example)
        valid, errors = validator.validate(2, values)
        assert errors == [] and valid is not None

    def test_inspector_gets_403(self, cast, client_for):
        assert client_for(cast.inspector).get(self.url).status_code == 403

    def test_registrar_of_another_school_gets_404_for_that_school(self, cast, client_for):
        assert client_for(cast.registrar_b).get(self.url, {"school": cast.school_a.pk}).status_code == 404


@pytest.mark.django_db
class TestExport:
    def url(self, school):
        return reverse("imports:export", args=[school.pk])

    def test_registrar_exports_masked_by_default(self, cast, client_for):
        make_batch(cast, student_rows(2))
        client = client_for(cast.registrar_a)
        assert client.get(self.url(cast.school_a)).status_code == 200
        response = client.post(self.url(cast.school_a), {"live_only": "on"})
        assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        assert len(rows) == 2 and all("*" in r[12] for r in rows)
        assert AuditEvent.objects.filter(kind="export").count() == 1

    def test_full_export_without_reason_shows_the_error(self, cast, client_for):
        response = client_for(cast.registrar_a).post(self.url(cast.school_a), {"full": "on", "reason": ""})
        assert response.status_code == 200 and response.context["form"].errors["reason"]
        assert not AuditEvent.objects.filter(kind="export").exists()

    def test_inspector_exports_masked_only(self, cast, client_for):
        client = client_for(cast.inspector)
        assert "full" not in client.get(self.url(cast.school_a)).context["form"].fields
        response = client.post(self.url(cast.school_a), {"full": "on", "reason": "抽查"})
        assert response.status_code == 200 and AuditEvent.objects.get(kind="export").extra["full"] is False

    def test_system_admin_gets_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(self.url(cast.school_a)).status_code == 403
        assert client_for(cast.system_admin).get(reverse("imports:export_schools")).status_code == 403

    def test_registrar_of_another_school_gets_404(self, cast, client_for):
        assert client_for(cast.registrar_b).get(self.url(cast.school_a)).status_code == 404
        assert client_for(cast.registrar_b).post(self.url(cast.school_a), {}).status_code == 404

    def test_the_school_list_shows_the_users_schools(self, cast, client_for):
        response = client_for(cast.registrar_a).get(reverse("imports:export_schools"))
        assert list(response.context["page_obj"]) == [cast.school_a]


@pytest.mark.django_db
class TestClassExport:
    """A head teacher (view_students on one class) exports that class from its roster (review of
    issue 3, finding 11): the class is resolved through the access layer at class level."""

    def url(self, school, school_class):
        return f"{reverse('imports:export', args=[school.pk])}?class={school_class.pk}"

    def other_class(self, cast):
        return cast.class_a.grade.classes.exclude(pk=cast.class_a.pk).first()

    def test_head_teacher_exports_own_class_masked_and_the_export_is_logged(self, cast, client_for):
        make_batch(cast, student_rows(2, class_number=1))  # grade 1 class 1: class_a
        make_batch(cast, student_rows(1, seed=7, class_number=2))
        client = client_for(cast.head_teacher_a)
        page = client.get(self.url(cast.school_a, cast.class_a))
        assert page.status_code == 200
        form = page.context["form"]
        assert list(form.fields["school_class"].queryset) == [cast.class_a] and "full" not in form.fields

        response = client.post(self.url(cast.school_a, cast.class_a),
                               {"school_class": cast.class_a.pk, "live_only": "on"})
        assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
        ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        ids = set(Student.objects.filter(school_class=cast.class_a).values_list("id_number", flat=True))
        assert len(rows) == 2 and all("*" in r[12] for r in rows)  # only class_a's two, masked
        assert not ids & {r[12] for r in rows}
        event = AuditEvent.objects.get(kind="export")
        assert event.actor == cast.head_teacher_a
        assert event.extra == {"rows": 2, "full": False, "school": cast.school_a.pk, "class": cast.class_a.pk}

    def test_a_full_export_is_refused_to_a_head_teacher(self, cast, client_for):
        make_batch(cast, student_rows(1, class_number=1))
        response = client_for(cast.head_teacher_a).post(
            self.url(cast.school_a, cast.class_a), {"school_class": cast.class_a.pk, "full": "on", "reason": "家访"})
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
                    .worksheets[0].iter_rows(min_row=2, values_only=True))
        assert "*" in rows[0][12] and AuditEvent.objects.get(kind="export").extra["full"] is False

    def test_head_teacher_cannot_choose_the_whole_school_or_another_class(self, cast, client_for):
        client = client_for(cast.head_teacher_a)
        for data in ({"school_class": ""}, {"school_class": self.other_class(cast).pk}):
            response = client.post(self.url(cast.school_a, cast.class_a), data)
            assert response.status_code == 200 and response.context["form"].errors["school_class"]
        assert not AuditEvent.objects.filter(kind="export").exists()

    def test_head_teacher_gets_404_for_another_class_or_the_whole_school(self, cast, client_for):
        client = client_for(cast.head_teacher_a)
        other_school_class = cast.school_b.classes.first()
        assert client.get(self.url(cast.school_a, self.other_class(cast))).status_code == 404
        assert client.get(self.url(cast.school_b, other_school_class)).status_code == 404
        assert client.get(self.url(cast.school_b, cast.class_a)).status_code == 404  # class not of that school
        assert client.get(reverse("imports:export", args=[cast.school_a.pk])).status_code == 404
        assert client.get(f"{reverse('imports:export', args=[cast.school_a.pk])}?class=x").status_code == 404

    def test_a_user_with_the_class_in_scope_but_without_the_right_gets_403(self, cast, client_for):
        assert client_for(cast.system_admin).get(self.url(cast.school_a, cast.class_a)).status_code == 403

    def test_registrar_may_still_choose_the_whole_school_from_a_class_link(self, cast, client_for):
        form = client_for(cast.registrar_a).get(self.url(cast.school_a, cast.class_a)).context["form"]
        assert not form.fields["school_class"].required and "full" in form.fields
        assert form.fields["school_class"].queryset.count() == cast.school_a.classes.count()

    def test_the_roster_page_links_to_the_export_and_the_export_page_lists_the_class(self, cast, client_for):
        client = client_for(cast.head_teacher_a)
        roster = client.get(reverse("students:roster", args=[cast.class_a.pk])).content.decode()
        assert self.url(cast.school_a, cast.class_a) in roster
        listing = client.get(reverse("imports:export_schools"))
        assert list(listing.context["classes"]) == [cast.class_a]
        assert self.url(cast.school_a, cast.class_a) in listing.content.decode()
