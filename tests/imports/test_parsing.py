"""imports.parsing: reading and validating a file, writing nothing. Row numbers are Excel's."""

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from imports.parsing import ID_AS_NUMBER, validate_file
from imports.template import national_headers
from students.services import student_create, student_status_set
from tests.imports.helpers import student_rows, xlsx_bytes


def check(cast, content: bytes, school=None):
    return validate_file(io.BytesIO(content), school=school or cast.school_a)


def messages(result):
    return [(e.row, e.column, e.message) for e in result.errors]


@pytest.mark.django_db
class TestGoodFiles:
    def test_good_rows_validate_into_grade_one_class_one(self, cast):
        result = check(cast, xlsx_bytes(student_rows(5)))
        assert result.ok and result.errors == [] and result.file_errors == []
        assert len(result.rows) == 5
        assert {r.student["grade"].level for r in result.rows} == {1}
        assert {r.student["school_class"].number for r in result.rows} == {1}
        assert [m["relation"] for m in result.rows[0].members] == ["51", "52"]

    def test_headers_in_another_order_with_spaces_marks_and_notes_and_unknown_columns(self, cast):
        headers = list(reversed(national_headers()))
        rows = student_rows(2)
        renamed = {"姓名": " *姓 名 ", "出生日期": "出生日期（YYYYMMDD）", "身份证件号": "身份证件号\n"}
        headers = [renamed.get(h, h) for h in headers] + ["备注"]
        rows = [{renamed.get(k, k): v for k, v in r.items()} | {"备注": "随便写"} for r in rows]
        result = check(cast, xlsx_bytes(rows, headers=headers))
        assert result.ok, messages(result)

    def test_missing_optional_columns_take_defaults(self, cast):
        headers = ["姓名", "性别", "出生日期", "民族", "身份证件号", "班号", "入学年月",
                   "成员1姓名", "成员1关系", "成员1是否监护人", "成员2姓名", "成员2关系"]
        result = check(cast, xlsx_bytes(student_rows(1), headers=headers))
        assert result.ok, messages(result)
        student = result.rows[0].student
        assert (student["nationality"], student["id_type"], student["health"]) == ("CHN", "1", "10")

    def test_a_title_row_above_the_headers_is_allowed(self, cast):
        result = check(cast, xlsx_bytes(student_rows(2), header_rows=1))
        assert result.ok, messages(result)

    def test_options_by_name_and_by_code(self, cast):
        rows = student_rows(2)
        rows[0] |= {"民族": "01", "性别": "1" if rows[0]["性别"] == "男" else "2", "成员1关系": "51",
                    "身份证件类型": "1", "就读方式": "1"}
        rows[1] |= {"民族": "汉族", "成员1关系": "父亲", "身份证件类型": "居民身份证"}
        result = check(cast, xlsx_bytes(rows))
        assert result.ok, messages(result)
        assert [r.student["ethnicity"] for r in result.rows] == ["01", "01"]

    def test_twelve_digit_region_codes_become_six(self, cast):
        rows = student_rows(1)
        rows[0] |= {"出生地行政区划代码": "340102000000", "户口所在地行政区划": 340102000000, "籍贯": "340102"}
        result = check(cast, xlsx_bytes(rows))
        assert result.ok, messages(result)
        student = result.rows[0].student
        assert (student["birthplace_code"], student["hukou_region_code"]) == ("340102", "340102")

    def test_excel_date_cells_and_text_dates(self, cast):
        rows = student_rows(4)
        born = [datetime.strptime(r["出生日期"], "%Y%m%d") for r in rows]
        rows[0]["出生日期"] = born[0]
        rows[1]["出生日期"] = f"{born[1]:%Y-%m-%d}"
        rows[2]["出生日期"] = f"{born[2]:%Y/%m/%d}"
        rows[3]["出生日期"] = int(f"{born[3]:%Y%m%d}")
        result = check(cast, xlsx_bytes(rows))
        assert result.ok, messages(result)
        assert [r.student["birth_date"] for r in result.rows] == [b.date() for b in born]

    def test_blank_rows_are_skipped_and_row_numbers_stay_excels(self, cast):
        rows = student_rows(3)
        rows[2]["性别"] = "未知"
        rows = [rows[0], {}, {"姓名": "  "}, rows[1], {}, rows[2]]
        result = check(cast, xlsx_bytes(rows))
        assert result.total_rows == 3
        assert [(e.row, e.column) for e in result.errors] == [(7, "性别")]

    def test_the_templates_example_row_is_skipped(self, cast):
        rows = [{"姓名": "【示例】张三", "性别": "男"}, *student_rows(1)]
        result = check(cast, xlsx_bytes(rows))
        assert result.ok and result.skipped_examples == 1 and result.total_rows == 1

    def test_an_optional_grade_column_places_the_student(self, cast):
        rows = student_rows(1)
        rows[0] |= {"年级": "二年级", "班号": "02"}
        result = check(cast, xlsx_bytes(rows, headers=[*national_headers(), "年级"]))
        assert result.ok, messages(result)
        assert result.rows[0].student["school_class"].name == "二年级(2)班"

    def test_a_class_name_in_the_class_column(self, cast):
        rows = student_rows(1)
        rows[0]["班号"] = "一年级(2)班"
        result = check(cast, xlsx_bytes(rows))
        assert result.ok, messages(result)
        assert result.rows[0].student["school_class"].number == 2


@pytest.mark.django_db
class TestRowErrors:
    def test_an_id_number_stored_as_a_number_is_refused(self, cast):
        rows = student_rows(2)
        rows[1]["身份证件号"] = int(rows[1]["身份证件号"][:17])
        result = check(cast, xlsx_bytes(rows))
        assert (3, "身份证件号", ID_AS_NUMBER) in messages(result)
        assert ID_AS_NUMBER == "身份证件号以数字格式存储，已丢失精度，请设置为文本格式后重新填写"
        assert not result.ok

    def test_each_error_names_its_row_and_column_in_chinese(self, cast):
        rows = student_rows(3)
        rows[1] |= {"出生日期": "20230230", "民族": "火星族", "成员2关系": "", "是否独生子女": "也许"}
        result = check(cast, xlsx_bytes(rows))
        columns = {c for r, c, m in messages(result) if r == 3}
        assert {"出生日期", "民族", "成员2关系", "是否独生子女"} <= columns
        assert all(r == 3 for r, c, m in messages(result))
        assert "“火星族”不是有效的民族" in " ".join(m for r, c, m in messages(result))

    def test_a_first_grader_too_young_is_refused_at_the_birth_date(self, cast):
        from datetime import date

        from django.utils import timezone

        from agreements.rules import school_year_of
        from tests.students.helpers import id_number

        birth = date(school_year_of(timezone.localdate()) - 6, 11, 15)  # after the default window
        rows = student_rows(2)
        rows[1] |= {"出生日期": f"{birth:%Y%m%d}", "性别": "男", "身份证件号": id_number(birth=birth, gender="1")}
        result = check(cast, xlsx_bytes(rows))
        [(row, column, message)] = messages(result)
        assert (row, column) == (3, "出生日期") and "一年级入学年龄" in message

    def test_an_id_number_that_disagrees_with_the_birth_date(self, cast):
        rows = student_rows(1)
        rows[0]["出生日期"] = "20000101"
        result = check(cast, xlsx_bytes(rows))
        [(row, column, message)] = messages(result)
        assert (row, column) == (2, "身份证件号") and "不一致" in message

    def test_formula_cells_are_refused(self, cast):
        rows = student_rows(1)
        rows[0]["姓名"] = '=CONCAT("张","三")'
        result = check(cast, xlsx_bytes(rows))
        assert [(c, "公式" in m) for r, c, m in messages(result)] == [("姓名", True)]

    def test_unknown_class_and_wrong_school_code(self, cast):
        rows = student_rows(1)
        rows[0] |= {"班号": "9", "学校标识码": "3401040001"}
        result = check(cast, xlsx_bytes(rows))
        found = {c: m for r, c, m in messages(result)}
        assert "没有9班" in found["班号"] and "不一致" in found["学校标识码"]

    def test_a_student_without_id_needs_a_guardian_id(self, cast):
        rows = student_rows(1)
        rows[0] |= {"身份证件类型": "其他", "身份证件号": ""}
        result = check(cast, xlsx_bytes(rows))
        expected = ("", "学生没有身份证件号时，须填写至少一位监护人的身份证件号")
        assert [(c, m) for r, c, m in messages(result)] == [expected]


@pytest.mark.django_db
class TestDuplicates:
    def test_the_same_id_number_twice_in_the_file(self, cast):
        rows = student_rows(3)
        rows[2] = dict(rows[0])
        result = check(cast, xlsx_bytes(rows))
        assert sorted((r, c) for r, c, m in messages(result)) == [(2, "身份证件号"), (4, "身份证件号")]
        assert "与本文件第4行的身份证件号重复" in [m for r, c, m in messages(result) if r == 2]
        assert len(result.rows) == 1

    def test_a_live_record_elsewhere_is_named_by_school_only(self, cast):
        rows = student_rows(2)
        holder = _existing(cast, rows[0], school=cast.school_b, user=cast.registrar_b, live=True)
        result = check(cast, xlsx_bytes(rows))
        [(row, column, message)] = messages(result)
        assert (row, column) == (2, "身份证件号") and cast.school_b.name in message
        assert holder.id_number not in message

    def test_a_draft_of_the_same_school_is_a_duplicate_but_a_draft_elsewhere_is_not(self, cast):
        rows = student_rows(2)
        _existing(cast, rows[0], school=cast.school_a, user=cast.registrar_a)
        _existing(cast, rows[1], school=cast.school_b, user=cast.registrar_b)
        result = check(cast, xlsx_bytes(rows))
        assert [(r, c) for r, c, m in messages(result)] == [(2, "身份证件号")]


    def test_a_live_record_of_the_same_school_says_so_with_its_status(self, cast):
        rows = student_rows(2)
        _existing(cast, rows[0], school=cast.school_a, user=cast.registrar_a, live=True)
        [(row, column, message)] = messages(check(cast, xlsx_bytes(rows)))
        assert (row, column, message) == (2, "身份证件号", "本校已有该身份证件号的学籍（状态：在籍），请勿重复录入")

    def test_a_pending_record_elsewhere_names_its_status_and_no_raw_url(self, cast):
        rows = student_rows(2)
        _existing(cast, rows[0], school=cast.school_b, user=cast.registrar_b, live=True, status="pending")
        [(row, column, message)] = messages(check(cast, xlsx_bytes(rows)))
        assert message == (f"该身份证件号已在{cast.school_b.name}有学籍（状态：待审核，正在注册审核），不能重复注册；"
                           "请与该校核实学生实际就读学校")
        assert "/" not in message


@pytest.mark.django_db
class TestSharedWithTheForm:
    """Cells read by the student form's rules (students.forms): the same spellings are accepted."""

    def test_entry_months_in_the_usual_spellings_place_the_row_and_are_stored_as_yyyymm(self, cast):
        rows = student_rows(4)
        year = rows[0]["入学年月"][:4]
        for row, typed in zip(rows, [f"{year}-09", f"{year}/09", f"{year}年9月", f"{year}.09"], strict=True):
            row["入学年月"] = typed
        result = check(cast, xlsx_bytes(rows))
        assert result.ok, messages(result)
        assert {r.student["entry_month"] for r in result.rows} == {f"{year}09"}
        assert {r.student["grade"].level for r in result.rows} == {1}

    def test_birth_dates_written_in_chinese_are_accepted(self, cast):
        rows = student_rows(1)
        born = rows[0]["出生日期"]
        rows[0]["出生日期"] = f"{born[:4]}年{int(born[4:6])}月{int(born[6:])}日"
        result = check(cast, xlsx_bytes(rows))
        assert result.ok, messages(result)

    def test_an_overlong_id_number_gets_one_message(self, cast):
        rows = student_rows(1)
        rows[0]["身份证件号"] = "3" * 40
        assert [(c, m) for r, c, m in messages(check(cast, xlsx_bytes(rows)))] == [
            ("身份证件号", "身份证号码应为18位，当前为40位")]

    def test_a_name_with_an_emoji_is_refused(self, cast):
        rows = student_rows(1)
        rows[0]["姓名"] = "张三😀"
        assert [(c, m) for r, c, m in messages(check(cast, xlsx_bytes(rows)))] == [
            ("姓名", "姓名不能包含表情符号或特殊符号")]


def _existing(cast, row, *, school, user, live=False, status="active"):
    from schools.models import Grade

    grade = Grade.objects.get(school=school, stage="primary", level=1)
    born = datetime.strptime(row["出生日期"], "%Y%m%d").date()
    student = student_create(actor=user, school=school, data={
        "name": row["姓名"], "gender": "1" if row["性别"] == "男" else "2", "birth_date": born,
        "id_type": "1", "id_number": row["身份证件号"], "grade": grade}, members=[])
    if live:
        student_status_set(actor=user, student=student, status=status, reason="测试")
    return student


@pytest.mark.django_db
class TestFileErrors:
    @pytest.mark.parametrize(("content", "expected"), [
        (b"", "文件为空"),
        ("姓名,性别\n张三,男\n".encode("gbk"), "不是 Excel 工作簿"),
        (b"PK\x03\x04 this is not really a zip", "文件已损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "旧版 Excel 97-2003（.xls）"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 64,
         "设置了打开密码"),
    ])
    def test_unreadable_files_get_a_clear_message(self, cast, content, expected):
        result = check(cast, content)
        assert expected in " ".join(result.file_errors) and not result.ok

    def test_a_zip_that_is_not_a_workbook(self, cast):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("word/document.xml", "<x/>")
        assert "压缩包中没有工作簿" in " ".join(check(cast, buffer.getvalue()).file_errors)

    def test_a_file_with_only_the_header(self, cast):
        assert check(cast, xlsx_bytes([])).file_errors == ["文件中只有表头，没有学生数据"]

    def test_no_header_at_all(self, cast):
        wb = Workbook()
        wb.active.append(["a", "b", "c"])
        buffer = io.BytesIO()
        wb.save(buffer)
        assert "没有找到表头" in check(cast, buffer.getvalue()).file_errors[0]

    def test_missing_required_columns_are_named(self, cast):
        headers = [h for h in national_headers() if h not in ("班号", "成员2姓名")]
        result = check(cast, xlsx_bytes(student_rows(1), headers=headers))
        assert result.file_errors == ["缺少必填列：班号、成员2姓名。请使用本系统下载的导入模板，不要删除列"]

    def test_merged_cells_are_refused(self, cast):
        wb = Workbook()
        ws = wb.active
        headers = national_headers()
        ws.append(headers)
        for row in student_rows(3):
            ws.append([row.get(h) for h in headers])
        ws.merge_cells("P2:P4")
        buffer = io.BytesIO()
        wb.save(buffer)
        result = check(cast, buffer.getvalue())
        assert "合并单元格（P2:P4）" in " ".join(result.file_errors) and not result.ok

    def test_too_many_rows(self, cast, settings):
        settings.XUEJI_IMPORT_MAX_ROWS = 3
        result = check(cast, xlsx_bytes(student_rows(4)))
        assert result.file_errors == ["文件超过3行学生数据，请拆分成多个文件分别导入"]

    def test_too_big(self, cast, settings):
        settings.XUEJI_IMPORT_MAX_BYTES = 1000
        assert "文件过大" in check(cast, xlsx_bytes(student_rows(3))).file_errors[0]


@pytest.mark.django_db
class TestBrokenWorkbooks:
    def test_a_truncated_file(self, cast):
        content = xlsx_bytes(student_rows(3))
        assert "损坏" in " ".join(check(cast, content[: len(content) // 2]).file_errors)

    def test_a_sheet_whose_xml_breaks_halfway(self, cast):
        source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(student_rows(3))))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data[: len(data) * 2 // 3]
                target.writestr(item, data)
        result = check(cast, buffer.getvalue())
        assert result.file_errors and not result.ok

    @pytest.mark.parametrize("seed", range(5))
    def test_random_bytes_after_a_zip_signature(self, cast, seed):
        import random

        noise = random.Random(seed).randbytes(5000)
        assert check(cast, b"PK\x03\x04" + noise).file_errors


@pytest.mark.django_db
def test_the_options_sheet_is_not_taken_for_the_data_sheet(cast):
    from openpyxl import load_workbook

    from imports.template import template_workbook

    wb = load_workbook(io.BytesIO(template_workbook(school=cast.school_a)))
    wb.move_sheet("选项", offset=-1)
    ws = wb["学生信息"]
    headers = [c.value for c in ws[1]]
    for row in student_rows(2):
        ws.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    result = check(cast, buffer.getvalue())
    assert result.ok and result.total_rows == 2 and result.skipped_examples == 1
