"""The import template (导入模板): the national columns with drop-down lists and an example row.

``template_workbook(school=...)`` returns the .xlsx bytes: sheet "学生信息" with the headers of
students/codes/national_import_columns.txt in the file's order, every column formatted as text
("@": ID numbers, phones, dates and region codes keep their digits), drop-down lists of the
option names from the national code tables (kept on a hidden sheet "选项" because Excel limits a
list typed into the rule to 255 characters), one example row marked ``EXAMPLE_MARK`` that the
import skips, and a sheet "填写说明" with the rules.
"""

import io
import random
from datetime import date
from pathlib import Path

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from schools.models import School
from students import codes
from students.forms import NATIONAL_COLUMNS
from students.synthetic import IdNumberAllocator, school_year_of, synthetic_student

from .parsing import _BOOLEANS, CODE_TABLES, EXAMPLE_MARK, GRADE_HEADER, REQUIRED_HEADERS

COLUMNS_FILE = Path(codes.CODES_DIR) / "national_import_columns.txt"
DATA_SHEET, OPTIONS_SHEET, HELP_SHEET = "学生信息", "选项", "填写说明"
# Rows that carry the drop-down lists and the text format (the import accepts up to 20,000).
TEMPLATE_ROWS = 20_001


def national_headers() -> list[str]:
    """The national sheet's headers in the order of national_import_columns.txt."""
    lines = COLUMNS_FILE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def option_names(header: str) -> list[str] | None:
    """The drop-down names for ``header`` (None for a free-text column)."""
    target = NATIONAL_COLUMNS.get(header)
    if not target or target[0] not in ("student", "member"):
        return None
    name = target[-1]
    if name in _BOOLEANS:
        return ["是", "否"]
    if name == "nationality":
        return [n for _, n in codes.nationality_choices()]
    if name == "gender":
        return [n for _, n in codes.GENDER_CHOICES]
    if name in CODE_TABLES:
        return [row["name"] for row in codes.table(CODE_TABLES[name])]
    return None


COLUMN_NOTES = {
    "学校标识码": "10位学校标识码；可留空（导入到上传时选择的学校）",
    "出生日期": "YYYYMMDD，如 20190315；也可填 2019-03-15 或日期格式单元格",
    "入学年月": "YYYYMM，当前学段一年级的入学年月，如 202509；用于确定年级",
    "身份证件号": "文本格式；18位居民身份证号末位X大写；不要存成数字",
    "班号": "学生所在年级的班级序号，如 1 或 01；也可填本校班级名称，如 一年级(1)班",
    "出生地行政区划代码": "6位或12位行政区划代码（12位时取前6位）",
    "籍贯": "6位或12位行政区划代码",
    "户口所在地行政区划": "6位或12位行政区划代码",
    "联系电话": "文本格式；手机号或带区号的固定电话",
    "上下学距离": "公里，数字，如 1.5",
}


def template_workbook(*, school: School | None = None, today: date | None = None) -> bytes:
    """Build the template; ``school`` fills the example row's 学校标识码 and birthplace.
    Returns the .xlsx file as bytes."""
    today = today or timezone.localdate()
    headers = national_headers()
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    options = wb.create_sheet(OPTIONS_SHEET)
    options.sheet_state = "hidden"
    _help_sheet(wb.create_sheet(HELP_SHEET), headers)

    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    ws.append(headers)
    for index, header in enumerate(headers, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
        if header in REQUIRED_HEADERS:
            cell.fill = required_fill
        ws.column_dimensions[letter].width = max(10, min(28, len(header) * 2 + 4))
        ws.column_dimensions[letter].number_format = "@"
    example = example_row(school=school, today=today)
    for index, header in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=index, value=example.get(header, ""))
        cell.number_format = "@"
        cell.font = Font(color="808080")
    ws.freeze_panes = "C2"

    option_column = 0
    for index, header in enumerate(headers, start=1):
        names = option_names(header)
        if not names:
            continue
        option_column += 1
        opt_letter = get_column_letter(option_column)
        options.cell(row=1, column=option_column, value=header)
        for r, name in enumerate(names, start=2):
            options.cell(row=r, column=option_column, value=name)
        source = f"{quote_sheetname(OPTIONS_SHEET)}!${opt_letter}$2:${opt_letter}${len(names) + 1}"
        rule = DataValidation(type="list", formula1=f"={source}", allow_blank=True, showErrorMessage=False,
                              showInputMessage=True, promptTitle=header, prompt="请从下拉列表中选择")
        letter = get_column_letter(index)
        rule.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
        ws.add_data_validation(rule)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def example_row(*, school: School | None = None, today: date | None = None) -> dict[str, str]:
    """A synthetic valid first-grader as header → cell text, named "【示例】…" so the import skips
    it if the user forgets to delete it. Deterministic for a given school and day."""
    today = today or timezone.localdate()
    year = school_year_of(today)
    county = school.region_id if school is not None else "110101"
    rng = random.Random(f"{county}{today:%Y%m%d}")
    try:
        person = synthetic_student(rng, allocator=IdNumberAllocator(), home_county=county, grade_number=1,
                                   school_year=year, other_counties=["110101"])
    except ValueError:
        person = synthetic_student(rng, allocator=IdNumberAllocator(), home_county="110101", grade_number=1,
                                   school_year=year)
    birthplace = person.id_number[:6]
    return {
        "学校标识码": school.school_code if school is not None else "",
        "姓名": f"{EXAMPLE_MARK}{person.name}", "性别": codes.name_of("gender_gbt2261_1", person.gender),
        "出生日期": f"{person.birth_date:%Y%m%d}", "出生地行政区划代码": f"{birthplace}000000",
        "籍贯": birthplace, "民族": codes.name_of("ethnicity_gbt3304", person.ethnicity), "国籍/地区": "中国",
        "身份证件类型": "居民身份证", "港澳台侨外": "否", "健康状况": "健康或良好", "政治面貌": "群众",
        "身份证件号": person.id_number, "户口性质": "非农业户口", "户口所在地行政区划": birthplace,
        "班号": "1", "入学年月": f"{year}09", "入学方式": "就近入学", "就读方式": "走读",
        "现住址": "示例路1号", "联系电话": "13800000000", "是否独生子女": "否", "是否受过学前教育": "是",
        "是否留守儿童": "非留守儿童", "是否进城务工人员随迁子女": "否", "学生来源": "正常入学",
        "残疾类型": "无残疾", "随班就读": "非随班就读",
        "成员1姓名": "示例父亲", "成员1关系": "父亲", "成员1是否监护人": "是", "成员1联系电话": "13800000001",
        "成员2姓名": "示例母亲", "成员2关系": "母亲", "成员2是否监护人": "是", "成员2联系电话": "13800000002",
    }


HELP_LINES = [
    "填写说明",
    "1. 请在“学生信息”工作表中每行填写一名学生；第2行是示例（姓名以“【示例】”开头），导入时自动跳过，可删除。",
    "2. 列按表头名称识别，可调整列的顺序、可删除非必填列；不要修改表头文字，不要合并单元格，不要使用公式。",
    "3. 黄色表头为必填列；是否类列留空视为“否”；"
    "国籍、证件类型、健康状况、政治面貌等留空时取默认值（中国、居民身份证、健康或良好、群众）。",
    "4. 身份证件号、联系电话、日期、行政区划代码请保持“文本”格式；身份证件号存成数字会丢失末位，系统将拒绝导入。",
    "5. 日期填 YYYYMMDD（如 20190315），入学年月填 YYYYMM（如 202509）；行政区划代码可填6位或12位。",
    "6. 下拉列表中的选项填名称即可，也接受国家标准代码（如 民族 填“汉族”或“01”）。",
    "7. 班号为学生所在年级的班级序号；年级由入学年月推算（一贯制学校结合出生日期判断学段），"
    "也可增加一列“年级”（如 一年级、初一，或年级代码 11、21）。",
    "8. 每名学生须填写两名家庭成员；学生没有身份证件号时，须填写至少一名监护人的身份证件号。",
    f"9. 每个文件最多 20000 名学生、10 MB；{'5000'} 名及以上在后台导入，页面显示进度。",
    "10. 全部行校验通过后才会导入：只要有一行有错，整个文件都不写入，错误按行号和列名列出，修改后重新上传即可。",
    "11. 导入的学生作为一个新生注册批次提交学校审核，同一身份证件号在全国只能有一个在籍学籍。",
]


def _help_sheet(ws, headers: list[str]) -> None:
    for line in HELP_LINES:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    ws.append(["列名", "必填", "填写要求"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for header in [*headers, GRADE_HEADER]:
        names = option_names(header)
        note = COLUMN_NOTES.get(header) or ("从下拉列表选择：" + "、".join(names[:8]) + ("等" if len(names) > 8 else "")
                                            if names else "")
        if header == GRADE_HEADER:
            note = "可选的附加列（模板中没有）：年级名称或年级代码，填写后优先于入学年月推算"
        ws.append([header, "是" if header in REQUIRED_HEADERS else "", note])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 6
    ws.column_dimensions["C"].width = 90
