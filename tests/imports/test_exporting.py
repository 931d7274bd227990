"""imports.exporting: rosters to .xlsx, masked by default, full export with a reason, audited."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from audits.models import AuditEvent
from imports.exporting import roster_export
from imports.parsing import validate_file
from imports.services import batch_start, batch_upload
from students.models import Student
from tests.imports.helpers import student_rows, upload, xlsx_bytes


@pytest.fixture
def imported(cast):
    rows = student_rows(3)
    batch = batch_upload(actor=cast.registrar_a, school=cast.school_a, upload=upload(xlsx_bytes(rows)))
    assert batch_start(actor=cast.registrar_a, batch=batch).status == "imported"
    return rows


def sheet(output):
    ws = load_workbook(io.BytesIO(output.read()), read_only=True).worksheets[0]
    header, *rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.django_db
class TestRosterExport:
    def test_id_numbers_are_masked_by_default_and_the_export_is_logged(self, cast, imported):
        output, count = roster_export(actor=cast.registrar_a, school=cast.school_a)
        rows = sheet(output)
        assert count == 3 and len(rows) == 3
        numbers = {r["身份证件号"] for r in imported}
        assert all(r["身份证件号"].count("*") == 8 and r["身份证件号"] not in numbers for r in rows)
        assert {r["民族"] for r in rows} == {"汉族"} and {r["成员1关系"] for r in rows} == {"父亲"}
        event = AuditEvent.objects.get(kind="export")
        assert event.extra["rows"] == 3 and event.extra["full"] is False and event.actor == cast.registrar_a
        assert not any(n in str(event.extra) + event.message for n in numbers)

    def test_a_full_export_needs_a_reason_and_logs_it(self, cast, imported):
        with pytest.raises(ValidationError):
            roster_export(actor=cast.registrar_a, school=cast.school_a, full=True, reason="  ")
        output, count = roster_export(actor=cast.registrar_a, school=cast.school_a, full=True, reason="上报教育局核对")
        rows = sheet(output)
        assert {r["身份证件号"] for r in rows} == {r["身份证件号"] for r in imported}
        assert all(isinstance(r["身份证件号"], str) for r in rows)
        event = AuditEvent.objects.get(kind="export")
        assert event.reason == "上报教育局核对" and event.extra["full"] is True

    def test_a_full_export_needs_the_reveal_right(self, cast, imported):
        with pytest.raises(PermissionDenied):
            roster_export(actor=cast.inspector, school=cast.school_a, full=True, reason="抽查")
        output, count = roster_export(actor=cast.inspector, school=cast.school_a)
        assert count == 3

    def test_one_class_only(self, cast, imported):
        school_class = Student.objects.first().school_class
        other = cast.school_a.classes.exclude(pk=school_class.pk).first()
        assert roster_export(actor=cast.registrar_a, school=cast.school_a, school_class=school_class)[1] == 3
        assert roster_export(actor=cast.registrar_a, school=cast.school_a, school_class=other)[1] == 0

    def test_too_large_an_export_is_refused_with_a_message(self, cast, imported, settings):
        settings.XUEJI_EXPORT_MAX_ROWS = 2
        with pytest.raises(ValidationError, match="请按班级分别导出"):
            roster_export(actor=cast.registrar_a, school=cast.school_a)

    def test_an_export_reads_back_as_an_import_file(self, cast, imported):
        output, _ = roster_export(actor=cast.registrar_a, school=cast.school_a, full=True, reason="核对")
        result = validate_file(output, school=cast.school_a)
        # Every row passes the form rules; only 一人一籍 stops them: they are live at school A itself.
        assert [(e.column, e.message.startswith("本校已有该身份证件号的学籍（状态：")) for e in result.errors] == [
            ("身份证件号", True)] * 3
