"""Building import files for the tests: rows as header → value dicts, written with openpyxl."""

import io
import random
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from imports.template import national_headers
from students.synthetic import IdNumberAllocator, school_year_of, synthetic_student


def student_rows(count: int, *, seed: int = 1, county: str = "340102", class_number: int = 1,
                 today: date | None = None) -> list[dict]:
    """``count`` valid first-graders of a school in ``county`` (names for options, text cells)."""
    rng = random.Random(seed)
    allocator = IdNumberAllocator()
    year = school_year_of(today or timezone.localdate())
    rows = []
    for _ in range(count):
        s = synthetic_student(rng, allocator=allocator, home_county=county, grade_number=1, school_year=year)
        rows.append({
            "姓名": s.name, "性别": "男" if s.gender == "1" else "女", "出生日期": f"{s.birth_date:%Y%m%d}",
            "出生地行政区划代码": f"{county}000000", "民族": "汉族", "国籍/地区": "中国", "身份证件类型": "居民身份证",
            "身份证件号": s.id_number, "户口所在地行政区划": county, "班号": str(class_number),
            "入学年月": f"{year}09", "就读方式": "走读", "联系电话": "13912345678", "是否独生子女": "否",
            "成员1姓名": "王大明", "成员1关系": "父亲", "成员1是否监护人": "是", "成员1联系电话": "13912345670",
            "成员2姓名": "李小红", "成员2关系": "母亲", "成员2是否监护人": "否",
        })
    return rows


def xlsx_bytes(rows: list[dict], *, headers: list[str] | None = None, header_rows: int = 0) -> bytes:
    """An .xlsx with ``headers`` (default: the national order) and ``rows``; values are written as
    given (str stays text, int becomes a number cell, date a date cell)."""
    headers = headers or national_headers()
    wb = Workbook()
    ws = wb.active
    for _ in range(header_rows):
        ws.append(["学生基本信息"])
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str = "新生.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content,
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
