"""Presenting a quarterly report's figures: labelled sections for the page and an Excel workbook
(openpyxl). The figures' shape is documented in ``oversight.figures.report_figures``."""

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from students.codes import ETHNICITY_CHOICES, GENDER_CHOICES
from students.filters import GRADE_CODES
from transfers.models import ChangeKind

from .figures import FLAG_COUNTS
from .models import InspectionItem

NO_DATA = "暂无数据"
STAGES = {"primary": "小学", "junior": "初中", "senior": "高中"}


def _label(choices, value) -> str:
    return str(dict(choices).get(value, value))


def report_sections(figures: dict) -> list[dict]:
    """[{"title": str, "rows": [(label, value)], "empty": str}] in reading order. Values are
    numbers, percentages as text, or ``NO_DATA`` for a section without its source."""
    students = figures.get("students", {})
    changes = figures.get("changes", {})
    steps = figures.get("steps", {})
    roll = figures.get("roll_checks")
    inspections = figures.get("inspections", {})
    notices = figures.get("rectifications", {})
    kinds = [k for k, _ in ChangeKind.choices if k in changes.get("submitted", {}) or k in changes.get("completed", {})]
    # PostgreSQL's jsonb does not keep key order: every table is put in its code order here.
    by_stage = students.get("by_stage", {})
    flags = students.get("flags", {})
    sections = [
        {"title": "在籍学生总数", "rows": [("在籍学生", students.get("total", 0))]},
        {"title": "按学段", "rows": [(label, by_stage[k]) for k, label in STAGES.items() if k in by_stage]},
        {"title": "按年级", "rows": [(_label(GRADE_CODES, k), v)
                                   for k, v in sorted(students.get("by_grade", {}).items())]},
        {"title": "按性别", "rows": [(_label(GENDER_CHOICES, k), v)
                                   for k, v in sorted(students.get("by_gender", {}).items())]},
        {"title": "按民族", "rows": [(_label(ETHNICITY_CHOICES, k), v)
                                   for k, v in sorted(students.get("by_ethnicity", {}).items())]},
        {"title": "特殊群体", "rows": [(label, flags[k]) for k, (label, _) in FLAG_COUNTS.items() if k in flags]},
        {"title": "本季度学籍异动（提交 / 办结）",
         "rows": [(_label(ChangeKind.choices, k),
                   f"{changes['submitted'].get(k, 0)} / {changes['completed'].get(k, 0)}") for k in kinds]
         or [("合计", "0 / 0")]},
        {"title": "审核时效（本季度到期的审核步骤）", "rows": [
            ("到期步骤", steps.get("due", 0)), ("按期办理", steps.get("on_time", 0)),
            ("逾期（含仍未办理）", steps.get("late", 0)), ("至今逾期未办", steps.get("open_overdue", 0)),
            ("逾期率", f"{100 * steps.get('overdue_rate', 0):.1f}%")]},
        {"title": "按月核对", "rows": [] if roll is None else [
            ("应核对班次", roll["total"]), ("已完成", roll["done"]), ("有籍无人", roll["missing"]),
            ("有人无籍", roll["unrecorded"])]},
        {"title": "抽查结果（本季度下发）", "rows": [
            ("抽查记录", inspections.get("items", 0)), ("学校已核实", inspections.get("answered", 0)),
            *[(label, inspections.get("verdicts", {}).get(v, 0)) for v, label in InspectionItem.Verdict.choices]]},
        {"title": "整改通知", "rows": [
            ("本季度签发", notices.get("issued", 0)), ("本季度关闭", notices.get("closed", 0)),
            ("未关闭", notices.get("open", 0)), ("逾期未整改", notices.get("overdue", 0))]},
    ]
    for section in sections:
        section["empty"] = NO_DATA if not section["rows"] else ""
    return sections


def as_of_label(figures: dict) -> str:
    """The report's "data as of" time as "YYYY-MM-DD HH:MM" (stored as ISO 8601 with offset)."""
    return figures.get("as_of", "")[:16].replace("T", " ")


def report_workbook(report) -> bytes:
    """The report as .xlsx bytes: one sheet, a title line, then each section with its rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{report.year}年第{report.quarter}季度"
    sheet.append([str(report)])
    sheet["A1"].font = Font(bold=True, size=14)
    period = report.figures.get("period", {})
    sheet.append([f"统计期间：{period.get('first', '')} 至 {period.get('last', '')}",
                  f"数据截至：{as_of_label(report.figures)}"])
    for section in report_sections(report.figures):
        sheet.append([])
        sheet.append([section["title"]])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
        if section["empty"]:
            sheet.append([section["empty"]])
        for label, value in section["rows"]:
            sheet.append([label, value])
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 24
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
