"""Roster export to .xlsx in the national columns (issue 3 §7, DESIGN.md §7).

``roster_export(actor=..., school=..., school_class=None, full=False, reason="")`` writes the
students of a school (or of one class) that the actor may see (``view_students``, through
students.selectors) with openpyxl in write-only mode to a temporary file and returns it. Columns:
the national headers of the import template, then 年级, 全国学籍号 and 学籍状态, so that an export
can be re-imported (the import ignores the last two). Options are written as names, dates as
YYYYMMDD text, ID numbers always as text.

ID numbers (student's and family members') and student numbers are masked (first 6 and last 4)
unless ``full``: a full export needs ``reveal_id_number`` on the unit and a written reason. Every
export, masked or full, appends an audit event of kind ``export`` with the reason and the row
count (no personal data). Exports are synchronous and capped at XUEJI_EXPORT_MAX_ROWS (20,000
rows, a large school): larger rosters are refused with a message asking to export by class,
which keeps the request short and avoids storing personal data in a file queue.
"""

import tempfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from audits.models import AuditEvent
from audits.services import audit_record
from schools.models import School, SchoolClass
from students import codes, selectors
from students.forms import NATIONAL_COLUMNS
from students.models import LIVE_STATUSES, FamilyMember, StudentStatus, mask_id_number
from xueji.access import require_unit_perm

from .parsing import _BOOLEANS, CODE_TABLES, GRADE_HEADER
from .template import national_headers

EXTRA_HEADERS = (GRADE_HEADER, "全国学籍号", "学籍状态")
MASKED = ("id_number",)


def max_rows() -> int:
    """The largest export served (XUEJI_EXPORT_MAX_ROWS, default 20,000)."""
    return int(getattr(settings, "XUEJI_EXPORT_MAX_ROWS", 20_000))


def roster_queryset(actor, *, school: School, school_class: SchoolClass | None = None, live_only: bool = True):
    """The students of ``school`` (or ``school_class``) that ``actor`` may see, family members
    prefetched, in class and name order. ``live_only``: pending, active and suspended records;
    otherwise every record but deleted duplicates."""
    qs = selectors.students_for(actor).filter(school=school).exclude(status=StudentStatus.DELETED)
    if school_class is not None:
        qs = qs.filter(school_class=school_class)
    if live_only:
        qs = qs.filter(status__in=LIVE_STATUSES)
    return (qs.prefetch_related(Prefetch("family_members", queryset=FamilyMember.objects.order_by("order")))
            .order_by("grade__stage", "grade__level", "school_class__number", "name_pinyin", "pk"))


def roster_export(*, actor, school: School, school_class: SchoolClass | None = None, full: bool = False,
                  reason: str = "", live_only: bool = True, ip_address: str | None = None):
    """Write the roster to a temporary .xlsx and log the export. Returns (file object at 0, rows).

    ``actor`` needs ``view_students`` on the unit; ``full`` also ``reveal_id_number`` and a
    non-blank ``reason``. Raises PermissionDenied, or ValidationError (no reason for a full
    export; more than ``max_rows()`` rows).
    """
    unit = school_class or school
    require_unit_perm(actor, "view_students", unit)
    reason = (reason or "").strip()
    if full:
        require_unit_perm(actor, "reveal_id_number", unit)
        if not reason:
            raise ValidationError({"reason": "导出完整身份证件号须填写导出原因"})
    qs = roster_queryset(actor, school=school, school_class=school_class, live_only=live_only)
    count = qs.count()
    if count > max_rows():
        raise ValidationError(f"名册共 {count} 人，超过单次导出上限 {max_rows()} 人，请按班级分别导出")
    # Returned open to the caller (a FileResponse closes it): not a context manager here.
    output = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    _write(qs, output, full=full)
    output.seek(0)
    audit_record(actor=actor, kind=AuditEvent.Kind.EXPORT, unit=unit, reason=reason, ip_address=ip_address,
                 message=f"导出学籍名册（{'完整证件号' if full else '证件号已脱敏'}）：{unit}，{count} 行",
                 extra={"rows": count, "full": full, "school": school.pk,
                        "class": school_class.pk if school_class else None})
    return output, count


def _write(qs, output, *, full: bool) -> None:
    headers = [*national_headers(), *EXTRA_HEADERS]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("学生信息")
    bold = Font(bold=True)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=header)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    names = _option_names()
    for student in qs.iterator(chunk_size=2000):
        members = {m.order: m for m in student.family_members.all()}
        ws.append([_value(student, members, header, names, full) for header in headers])
    wb.save(output)


def _option_names() -> dict[str, dict[str, str]]:
    tables = {name: {r["code"]: r["name"] for r in codes.table(table)} for name, table in CODE_TABLES.items()}
    tables["nationality"] = dict(codes.nationality_choices())
    return tables


def _value(student, members: dict, header: str, names: dict, full: bool):
    if header == GRADE_HEADER:
        return student.grade.name if student.grade_id else ""
    if header == "全国学籍号":
        return student.student_number if full else student.masked_student_number
    if header == "学籍状态":
        return student.get_status_display()
    target = NATIONAL_COLUMNS.get(header)
    if target is None:
        return ""
    if target[0] == "school_code":
        return student.school.school_code
    if target[0] == "class_number":
        return str(student.school_class.number) if student.school_class_id else ""
    if target[0] == "member":
        obj, name = members.get(target[1]), target[2]
        if obj is None:
            return ""
    else:
        obj, name = student, target[1]
    value = getattr(obj, name)
    if name in MASKED and not full:
        return mask_id_number(value)
    if name in _BOOLEANS:
        return "是" if value else "否"
    if name in names and value:
        return names[name].get(value, value)
    if name == "birth_date" and value:
        return value.strftime("%Y%m%d")
    return "" if value is None else str(value)
