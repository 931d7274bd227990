"""Reading and validating a national import sheet (pure of HTTP; no writes).

``validate_file(fileobj, school=...)`` reads the first sheet that carries the national headers with
openpyxl in read-only mode and returns a ``Validation``: every valid row as cleaned student and
family-member values, every problem as (row number, column header, Chinese message), and the
problems of the file as a whole. The rules of national_import_columns.txt (students/codes/):

* columns are matched by header, not by position: spaces, line breaks, a leading "*" and a note in
  brackets ("出生日期（YYYYMMDD）") are ignored; unknown columns are ignored; a missing required
  column (``REQUIRED_HEADERS``) is a file error; a missing optional column takes the record's default;
* dates as text YYYYMMDD, YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日, or as Excel date cells; 入学年月
  YYYYMM, YYYY-MM, YYYY/MM, YYYY.MM or YYYY年M月 (students.forms.normalise_entry_month);
* region codes as 6 digits or 12 digits (the 12-digit township/village code, or the county code
  padded with zeros): the record keeps the 6-digit county-level part (GB/T 2260), which is all
  schools.Region holds;
* options by name (汉族) or by code (01), see students.codes;
* 是/否 columns: 是/否, 1/0, Y/N, TRUE/FALSE (a blank is 否);
* ID-number cells must be text: a number cell has lost precision and is refused;
* the class: 班号 is the class number within the student's grade. The grade comes from an
  optional extra column 年级 (a grade name of the school such as "一年级"/"初一", or the national
  grade code "11"/"21"/"31") or else from 入学年月 (the entry to the first grade of the current
  stage): level = school years since entry + 1, the stage being the school's only one, or for a
  multi-stage school the stage whose usual entry age is nearest the child's age at entry.
  A 班号 equal to a class name of the school ("一年级(1)班") also works.

Every row goes through the same form classes as the data-entry page (students.forms.StudentForm
and FamilyMemberForm, with the record-level rule of StudentEntry). For speed the three forms are
built once per file and re-bound to each row, grades/classes/regions are preloaded, and the
per-record database look-ups of ModelForm._post_clean (foreign-key existence, the one-live-record
constraint) are replaced by one bulk check per file (``duplicates``), so 10,000 rows cost a
handful of queries. Blank rows are skipped; the example row of our template (姓名 starting with
``EXAMPLE_MARK``) is skipped too.
"""

import logging
import re
import traceback
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from schools.models import Grade, School, SchoolClass
from students import codes
from students.forms import NATIONAL_COLUMNS, FamilyMemberForm, RegionCodes, StudentForm, normalise_entry_month
from students.models import Student
from students.selectors import id_number_holders
from students.synthetic import school_year_of

# The optional extra column naming the grade (not in the national sheet; see the module docstring).
GRADE_HEADER = "年级"
KNOWN_HEADERS = (*NATIONAL_COLUMNS, GRADE_HEADER)
REQUIRED_HEADERS = ("姓名", "性别", "出生日期", "民族", "身份证件号", "班号", "入学年月",
                    "成员1姓名", "成员1关系", "成员2姓名", "成员2关系")
# Headers seen in other versions of the sheet, mapped to ours.
HEADER_ALIASES = {
    "身份证号": "身份证件号", "身份证号码": "身份证件号", "证件号码": "身份证件号", "出生地": "出生地行政区划代码",
    "户口所在地": "户口所在地行政区划", "国籍": "国籍/地区", "国籍地区": "国籍/地区", "港澳台侨胞": "港澳台侨外",
    "是否进城务工人员随迁子女（是否随迁子女）": "是否进城务工人员随迁子女",
}
ID_HEADERS = ("身份证件号", "成员1身份证件号", "成员2身份证件号")
PHONE_HEADERS = ("联系电话", "成员1联系电话", "成员2联系电话")
REGION_FIELDS = ("birthplace_code", "native_place_code", "hukou_region_code")
DATE_FIELDS = ("birth_date",)
ID_AS_NUMBER = "身份证件号以数字格式存储，已丢失精度，请设置为文本格式后重新填写"
EXAMPLE_MARK = "【示例】"

# Code tables behind the option columns (form field → students/codes table).
CODE_TABLES = {
    "gender": "gender_gbt2261_1", "ethnicity": "ethnicity_gbt3304", "id_type": "id_type",
    "hk_macau_taiwan_overseas": "hk_macau_taiwan_overseas", "health": "health",
    "political_status": "political_status", "hukou_nature": "hukou_nature", "entry_mode": "entry_mode",
    "study_mode": "study_mode", "left_behind": "left_behind", "commute_mode": "commute_mode",
    "blood_type": "blood_type", "student_source": "student_source", "disability_type": "disability_type",
    "inclusive_class": "inclusive_class", "relation": "family_relation",
}
MEMBER_CODE_FIELDS = ("relation", "id_type", "ethnicity")
# Fields whose blank cell (or missing column) takes the record's default, as the form preselects it.
# Ethnicity is key data: never defaulted.
DEFAULTED_FIELDS = ("nationality", "id_type", "hk_macau_taiwan_overseas", "health", "political_status",
                    "study_mode", "student_source", "left_behind", "disability_type", "inclusive_class")
TRUE_WORDS = {"是", "1", "Y", "YES", "TRUE", "√", "有"}
FALSE_WORDS = {"否", "0", "N", "NO", "FALSE", "×", "无", ""}
# Usual age at entry to the first grade of each stage (义务教育法 art. 11: primary at 6).
ENTRY_AGE = {"primary": 6}
logger = logging.getLogger(__name__)


def limit(name: str) -> int:
    """The import limits, overridable in settings: XUEJI_IMPORT_MAX_BYTES (10 MB),
    XUEJI_IMPORT_MAX_ROWS (20,000 data rows), XUEJI_IMPORT_MAX_UNZIPPED (300 MB of XML),
    XUEJI_IMPORT_CELERY_ROWS (5,000: from this many rows the work runs in Celery)."""
    defaults = {"MAX_BYTES": 10 * 1024 * 1024, "MAX_ROWS": 20_000, "MAX_UNZIPPED": 300 * 1024 * 1024,
                "CELERY_ROWS": 5_000}
    return int(getattr(settings, f"XUEJI_IMPORT_{name}", defaults[name]))


class FileRejected(Exception):
    """The file as a whole cannot be imported. ``messages``: Chinese sentences for the user."""

    def __init__(self, *messages: str):
        super().__init__(*messages)
        self.messages = list(messages)


# ---------------------------------------------------------------------------------------------
# The file


def sniff(fileobj, size: int) -> None:
    """Refuse what is not a readable .xlsx before openpyxl sees it.

    ``fileobj``: a binary file positioned anywhere (left at 0); ``size`` in bytes. Raises
    FileRejected for: an empty file, a file over XUEJI_IMPORT_MAX_BYTES, an old-format .xls or a
    password-protected workbook (both are OLE compound files; encryption shows as an
    "EncryptedPackage" stream), anything that is not a zip with a workbook part (CSV, PDF, renamed
    files, a broken download), and zips that unpack to more than XUEJI_IMPORT_MAX_UNZIPPED bytes.
    """
    if size == 0:
        raise FileRejected("文件为空，请选择填写好的 Excel 文件")
    if size > limit("MAX_BYTES"):
        raise FileRejected(f"文件过大（{size / 1048576:.1f} MB），上限为 {limit('MAX_BYTES') // 1048576} MB，"
                           "请删除无关的工作表和格式，或拆分成多个文件")
    fileobj.seek(0)
    head = fileobj.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        fileobj.seek(0)
        body = fileobj.read(min(size, 4 * 1024 * 1024))
        fileobj.seek(0)
        if "EncryptedPackage".encode("utf-16-le") in body:
            raise FileRejected("文件设置了打开密码，系统无法读取。"
                               "请在 Excel 中取消密码（文件→信息→保护工作簿）后重新上传")
        raise FileRejected("这是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为”Excel 工作簿（.xlsx）后重新上传")
    if not head.startswith(b"PK"):
        fileobj.seek(0)
        raise FileRejected("文件不是 Excel 工作簿（.xlsx）。"
                           "如果是 CSV 或 WPS 格式，请用 Excel 或 WPS “另存为” .xlsx 后重新上传")
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileRejected("文件已损坏，无法打开。请在 Excel 中打开确认无误后重新保存上传") from None
    finally:
        fileobj.seek(0)
    if "xl/workbook.xml" not in names:
        raise FileRejected("文件不是 Excel 工作簿（.xlsx）：压缩包中没有工作簿。请用 Excel 另存为 .xlsx 后重新上传")
    if unzipped > limit("MAX_UNZIPPED"):
        raise FileRejected("文件内容过大，请删除无关的工作表和格式，或拆分成多个文件")


def normalise_header(value) -> str:
    """A header cell as a key: NFKC, no whitespace, no leading "*", no trailing note in brackets,
    aliases of other sheet versions mapped (``HEADER_ALIASES``). Non-text gives ""."""
    if not isinstance(value, str):
        return ""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).lstrip("*")
    text = HEADER_ALIASES.get(text, text)
    if text not in KNOWN_HEADERS:
        text = re.sub(r"[(\[【][^()\[\]【】]*[)\]】]$", "", text)
    return HEADER_ALIASES.get(text, text)


@dataclass
class Sheet:
    """The sheet found in a workbook: ``columns`` maps a known header to its 0-based index;
    ``header_row`` is the Excel row number of the headers; ``rows`` yields (row number, values)."""

    columns: dict[str, int]
    header_row: int
    estimated_rows: int
    rows: Iterable[tuple[int, tuple]]
    merged: list[str] = field(default_factory=list)


def _load_workbook(fileobj):
    """openpyxl's ``load_workbook(fileobj, read_only=True, data_only=False, keep_links=False)``
    with a faster reader of the shared-string table (``_read_string_table``)."""
    from openpyxl.reader.excel import ExcelReader

    class Reader(ExcelReader):
        def read_strings(self):
            from openpyxl.xml.constants import SHARED_STRINGS

            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as src:
                    self.shared_strings = _read_string_table(src)

    reader = Reader(fileobj, read_only=True, data_only=False, keep_links=False)
    reader.read()
    return reader.wb


def _read_string_table(source) -> list[str]:
    """openpyxl.reader.strings.read_string_table, the same strings: a sheet of 10,000 students
    holds ~60,000 distinct strings (names, addresses, ID numbers), and openpyxl builds a rich-text
    object for each (~8 µs; 0.5 s a file, paid at upload and again at validation). A plain string
    (an <si> holding one <t>) is read directly; anything else (rich-text runs, phonetic guides)
    goes through openpyxl's own ``Text``."""
    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    string_tag, text_tag = f"{{{SHEET_MAIN_NS}}}si", f"{{{SHEET_MAIN_NS}}}t"
    strings = []
    for _, node in iterparse(source):
        if node.tag == string_tag:
            plain = len(node) == 1 and node[0].tag == text_tag
            text = (node[0].text or "") if plain else Text.from_tree(node).content
            strings.append(text.replace("x005F_", ""))
            node.clear()
    return strings


def open_sheet(fileobj, *, scan_merged: bool = True) -> tuple[object, Sheet]:
    """Open ``fileobj`` (an .xlsx that passed ``sniff``) read-only and find the data sheet.

    Returns (workbook — close it when done —, Sheet). ``scan_merged``: also list merged ranges
    (one more pass over the sheet's XML). The data sheet is the first whose first five rows hold
    a row with 姓名 and at least two more known headers. Raises FileRejected when no sheet does,
    when a header appears twice, or when required columns are missing (named in the message).
    """
    try:
        workbook = _load_workbook(fileobj)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on broken files; all mean "cannot read"
        raise FileRejected("文件已损坏或不是有效的 Excel 工作簿，无法读取。"
                           "请在 Excel 中打开确认无误后重新保存上传") from None
    try:
        for worksheet in workbook.worksheets:
            found = _find_header(worksheet)
            if found:
                header_row, columns = found
                break
        else:
            raise FileRejected("没有找到表头：第一个工作表的前5行中应有“姓名”“性别”“身份证件号”等列名。"
                               "请使用本系统下载的导入模板")
        missing = [h for h in REQUIRED_HEADERS if h not in columns]
        if missing:
            raise FileRejected(f"缺少必填列：{'、'.join(missing)}。请使用本系统下载的导入模板，不要删除列")
        dimension_rows = worksheet.max_row or 0
        # The <dimension> element may be wrong in files from other tools: read every row regardless.
        worksheet.reset_dimensions()
        max_col = max(columns.values()) + 1
        rows = enumerate(worksheet.iter_rows(min_row=header_row + 1, max_col=max_col, values_only=True),
                         start=header_row + 1)
        sheet = Sheet(columns=columns, header_row=header_row, rows=rows,
                      estimated_rows=max(dimension_rows - header_row, 0),
                      merged=_merged_ranges(workbook, worksheet, header_row) if scan_merged else [])
    except FileRejected:
        workbook.close()
        raise
    except Exception:  # noqa: BLE001
        workbook.close()
        raise FileRejected("文件已损坏，无法读取表头。请在 Excel 中打开确认无误后重新保存上传") from None
    return workbook, sheet


def _find_header(worksheet) -> tuple[int, dict[str, int]] | None:
    for number, values in enumerate(worksheet.iter_rows(min_row=1, max_row=5, values_only=True), start=1):
        columns: dict[str, int] = {}
        duplicated = []
        for index, value in enumerate(values):
            header = normalise_header(value)
            if header in KNOWN_HEADERS:
                if header in columns:
                    duplicated.append(header)
                columns.setdefault(header, index)
        # "姓名" too: the template's hidden sheet of options also carries some headers.
        if len(columns) >= 3 and "姓名" in columns:
            if duplicated:
                raise FileRejected(f"表头中有重复的列：{'、'.join(sorted(set(duplicated)))}，请删除多余的列")
            return number, columns
    return None


_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


def _merged_ranges(workbook, worksheet, header_row: int) -> list[str]:
    """Merged ranges reaching below the header row ("B3:B9"), read from the sheet's XML
    (openpyxl's read-only mode does not expose them). Merged cells leave all but the first cell
    blank, so the import refuses them rather than guessing."""
    path = getattr(worksheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if not path or archive is None:
        return []
    found: list[str] = []
    tail = b""
    with archive.open(path) as fh:
        while chunk := fh.read(1 << 20):
            block = tail + chunk
            if b"mergeCell" in block:
                for m in _MERGE.finditer(block):
                    last_row = int(m.group(4) or m.group(2))
                    if last_row > header_row:
                        ref = m.group(0).split(b'"')[1].decode()
                        if ref not in found:
                            found.append(ref)
            tail = block[-200:]
    return found


# ---------------------------------------------------------------------------------------------
# Cells


class CellError(Exception):
    """A cell that cannot be read as its column needs; ``message`` is Chinese."""


def _text(value) -> str:
    """A cell as text: numbers without a trailing ".0", dates as YYYYMMDD, whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return str(value).strip()


def _check_cell(value) -> None:
    if isinstance(value, str):
        if value.startswith("="):
            raise CellError("单元格是公式，请复制后“选择性粘贴→数值”再导入")
        if value in ("#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!"):
            raise CellError(f"单元格是错误值（{value}），请改为正确内容")
    elif value is not None and not isinstance(value, (int, float, Decimal, date, bool)):
        raise CellError("单元格是公式或特殊内容，请复制后“选择性粘贴→数值”再导入")


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).upper()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError("应填写“是”或“否”")


def _id_number(value) -> str:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise CellError(ID_AS_NUMBER)
    return _text(value)


def _phone(value) -> str:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        text = _text(value)
        # A mobile number survives a number cell; a landline loses its leading 0.
        if not re.fullmatch(r"1[3-9][0-9]{9}", text):
            raise CellError("联系电话以数字格式存储，开头的0可能已丢失，请设置为文本格式后重新填写")
        return text
    return _text(value)


def _date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _text(value)


def _region(value) -> str:
    text = _text(value)
    if re.fullmatch(r"[0-9]{12}", text):
        return text[:6]
    return text


def _entry_month(value) -> str:
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y%m")
    return _text(value)


@dataclass(frozen=True)
class OptionTable:
    """Names, former names and codes of one code table → code (upper-cased keys)."""

    lookup: dict[str, str]

    @classmethod
    def of(cls, table: str) -> "OptionTable":
        lookup = {}
        for row in codes.table(table):
            for key in (row["code"], row["name"], row.get("former_name") or ""):
                if key:
                    lookup[key.upper()] = row["code"]
        return cls(lookup)

    @classmethod
    def nationality(cls) -> "OptionTable":
        lookup = {}
        for code, name in codes.nationality_choices():
            lookup[code.upper()] = code
            lookup.setdefault(name.upper(), code)
        lookup.update({"中华人民共和国": "CHN", "中国大陆": "CHN"})
        return cls(lookup)

    def code(self, value, label: str) -> str:
        text = _text(value)
        if not text:
            return ""
        found = self.lookup.get(text.upper())
        if found is None and text.isdigit():
            # "1" for "01": a number cell dropped the leading zero.
            found = self.lookup.get(text.zfill(2))
        if found is None:
            raise CellError(f"“{text[:20]}”不是有效的{label}，请从下拉列表中选择")
        return found


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass
class RowError:
    """One problem: Excel row number, column header ("" for the row as a whole), message."""

    row: int
    column: str
    message: str


@dataclass
class ValidRow:
    """A row that passed every check: ``student`` values keyed by students.services
    STUDENT_DATA_FIELDS (grade and class as objects), ``members`` the two family-member dicts."""

    row: int
    student: dict
    members: list[dict]


@dataclass
class Validation:
    """What ``validate_file`` found. ``ok`` when there are rows, no errors and no file errors."""

    rows: list[ValidRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    total_rows: int = 0
    skipped_examples: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors and not self.file_errors

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})


class _PreloadedChoiceField(forms.Field):
    """A model choice among objects loaded once per file (replaces a ModelChoiceField, which
    queries per row). Accepts the object itself or its pk."""

    def __init__(self, objects: dict[int, object], **kwargs):
        super().__init__(**kwargs)
        self.objects = objects

    def to_python(self, value):
        if value in self.empty_values:
            return None
        key = getattr(value, "pk", value)
        try:
            return self.objects[int(key)]
        except (KeyError, TypeError, ValueError):
            raise ValidationError("选择一个有效的选项。", code="invalid_choice") from None


class _RowForm:
    """Django's field loop (``BaseForm._clean_fields``, Django 5.2) for a form re-bound to
    thousands of rows: the same widget read, field ``clean``, ``clean_<name>`` method and error
    handling per field, with the per-field look-ups (bound field, ``hasattr(clean_<name>)``) made
    once per file instead of once per cell. A disabled field takes Django's own path."""

    _plan = None

    def _clean_fields(self):
        if self._plan is None:
            self._plan = [(name, form_field, self.add_prefix(name), getattr(self, f"clean_{name}", None))
                          for name, form_field in self.fields.items()]
        data, files, cleaned = self.data, self.files, self.cleaned_data
        for name, form_field, html_name, clean_method in self._plan:
            try:
                if form_field.disabled:
                    cleaned[name] = form_field._clean_bound_field(self[name])
                else:
                    cleaned[name] = form_field.clean(form_field.widget.value_from_datadict(data, files, html_name))
                if clean_method is not None:
                    cleaned[name] = clean_method()
            except ValidationError as e:
                self.add_error(name, e)


class _ImportStudentForm(_RowForm, StudentForm):
    """StudentForm re-bound to each row. ``_post_clean`` is skipped: the model-level checks it
    would repeat are the form fields' own (same max lengths and choices), plus database look-ups
    that the import does in bulk (class and grade preloaded, one-live-record checked per file)."""

    # ID numbers already held are found for the whole file at once (``duplicates``), by the same rule.
    check_id_holders = False

    def _post_clean(self):
        pass


class _ImportMemberForm(_RowForm, FamilyMemberForm):
    """FamilyMemberForm re-bound to each row (``_post_clean`` skipped as above)."""

    def _post_clean(self):
        pass


def _freeze_choices(form: forms.BaseForm) -> None:
    """Same choices, looked up in a set: a ChoiceField scans its list per value, and a callable
    list (nationality, ~250 countries) is rebuilt on every scan."""
    for form_field in form.fields.values():
        if isinstance(form_field, forms.ChoiceField) and not isinstance(form_field, forms.ModelChoiceField):
            form_field.choices = list(form_field.choices)
            keys = frozenset(str(k) for k, v in _flat(form_field.choices))
            form_field.valid_value = lambda value, keys=keys: str(value) in keys


# Distinct values remembered per field and file: enough for every code, flag and date column;
# columns of unique values (names, addresses) stop being remembered once past it.
MEMO_SIZE = 2000


def _memoize_clean(form: forms.BaseForm) -> None:
    """Remember each field's ``clean`` result per value for the rest of the file.

    A form field's ``clean`` (to_python, required, choices, max length, date formats) depends on
    the value alone, and most columns repeat a few values over thousands of rows (汉族, 否, 走读 …).
    Only successes are kept: a refused value is cleaned again, so every row gets its own error.
    The form's ``clean_<field>`` methods and ``clean()`` still run on every row."""
    for form_field in form.fields.values():
        form_field.clean = _memoized(form_field.clean)


def _memoized(clean: Callable) -> Callable:
    """``clean`` (a pure function of one value) remembering up to MEMO_SIZE results; a value it
    refuses (an exception) is not remembered."""
    seen: dict = {}

    def memo_clean(value):
        try:
            key = (type(value), value)
            return seen[key]
        except KeyError:
            result = clean(value)
            if len(seen) < MEMO_SIZE:
                seen[key] = result
            return result
        except TypeError:  # unhashable value (a list from an odd widget): no memo
            return clean(value)
    return memo_clean


def _flat(choices):
    for key, value in choices:
        if isinstance(value, (list, tuple)):  # an option group
            yield from value
        else:
            yield key, value


def _rebind(form: forms.BaseForm, data: dict) -> bool:
    """Validate ``data`` with an already built form (Django builds a form's fields by deep copy,
    which costs more than validating a row)."""
    form.data = data
    form._errors = None
    return form.is_valid()


class RowValidator:
    """Validates rows of one file for one school; built once per file (a few queries)."""

    def __init__(self, school: School, columns: dict[str, int], *, today: date | None = None):
        self.school = school
        self.columns = columns
        self.today = today or timezone.localdate()
        self.school_year = school_year_of(self.today)
        regions = RegionCodes.preload()
        self.grades = {g.pk: g for g in Grade.objects.filter(school=school)}
        self.classes = {c.pk: c for c in SchoolClass.objects.filter(school=school)}
        self.grade_by_stage_level = {(g.stage, g.level): g for g in self.grades.values()}
        self.grade_by_label = {g.name: g for g in self.grades.values()} | {g.code: g for g in self.grades.values()}
        self.class_by_number = {(c.grade_id, c.number): c for c in self.classes.values()}
        self.class_by_name = {re.sub(r"\s+", "", c.name): c for c in self.classes.values()}
        for c in self.classes.values():
            c.grade = self.grades[c.grade_id]
        self.form = _ImportStudentForm({}, school=school, regions=regions)
        self.form.fields["grade"] = _PreloadedChoiceField(self.grades, label="年级")
        self.form.fields["school_class"] = _PreloadedChoiceField(self.classes, required=False, label="班级")
        self.member_forms = [_ImportMemberForm({}, regions=regions), _ImportMemberForm({}, regions=regions)]
        for form in (self.form, *self.member_forms):
            _freeze_choices(form)
            _memoize_clean(form)
        self.options = {name: OptionTable.of(table) for name, table in CODE_TABLES.items()}
        self.options["nationality"] = OptionTable.nationality()
        self.defaults = {f: Student._meta.get_field(f).default for f in DEFAULTED_FIELDS}
        self.headers_by_field = {t[1]: h for h, t in NATIONAL_COLUMNS.items() if t[0] == "student"}
        self.student_fields = frozenset(self.form._meta.fields)
        # (column index, header, field, converter) per present column, chosen once per file.
        self.student_targets = [(columns[h], h, t[1], self._converter(t[1], h))
                                for h, t in NATIONAL_COLUMNS.items() if t[0] == "student" and h in columns]
        self.member_targets = {n: [(columns[h], h, t[2], self._converter(t[2], h))
                                   for h, t in NATIONAL_COLUMNS.items()
                                   if t[0] == "member" and t[1] == n and h in columns] for n in (1, 2)}

    # -- one row

    def cell(self, values: tuple, header: str):
        index = self.columns.get(header)
        return values[index] if index is not None and index < len(values) else None

    def validate(self, row: int, values: tuple) -> tuple[ValidRow | None, list[RowError]]:
        """Check one data row (``values`` in sheet order). Returns (ValidRow or None, errors)."""
        errors: list[RowError] = []
        bad_columns: set[str] = set()

        def fail(header: str, message: str) -> None:
            errors.append(RowError(row, header, message))
            bad_columns.add(header)

        student = self._values(values, self.student_targets, fail)
        for name in DEFAULTED_FIELDS:
            if student.get(name) in (None, ""):
                student[name] = self.defaults[name]
        school_code = _text(self.cell(values, "学校标识码"))
        if school_code and school_code != self.school.school_code:
            fail("学校标识码", f"学校标识码与所选学校（{self.school.name}，{self.school.school_code}）不一致")
        members = [self._values(values, self.member_targets[n], fail) for n in (1, 2)]
        self._place(values, student, fail)
        ok = _rebind(self.form, student)
        ok = _rebind(self.member_forms[0], members[0]) and ok
        ok = _rebind(self.member_forms[1], members[1]) and ok
        if not ok:
            for header, message in self._form_errors():
                if header not in bad_columns:
                    errors.append(RowError(row, header, message))
        if ok and not errors:
            cleaned = {k: v for k, v in self.form.cleaned_data.items() if k in self.student_fields}
            family = [dict(f.cleaned_data) for f in self.member_forms]
            # StudentEntry's record-level rule (national sheet): no student ID → a guardian's ID.
            if not cleaned.get("id_number") and not any(m.get("is_guardian") and m.get("id_number") for m in family):
                errors.append(RowError(row, "", "学生没有身份证件号时，须填写至少一位监护人的身份证件号"))
                return None, errors
            return ValidRow(row, cleaned, family), errors
        return None, errors

    @staticmethod
    def _values(values: tuple, targets: list, fail: Callable) -> dict:
        data: dict = {}
        width = len(values)
        for index, header, name, convert in targets:
            raw = values[index] if index < width else None
            if raw is None:
                continue
            try:
                data[name] = convert(raw)
            except CellError as exc:
                fail(header, str(exc))
        return data

    def _converter(self, name: str, header: str) -> Callable:
        if header in ID_HEADERS:
            base = _id_number
        elif header in PHONE_HEADERS:
            base = _phone
        elif name in self.options:
            table, label = self.options[name], header.removeprefix("成员1").removeprefix("成员2")
            def base(raw):
                return table.code(raw, label)
        elif name in REGION_FIELDS:
            base = _region
        elif name in DATE_FIELDS:
            base = _date
        elif name == "entry_month":
            base = _entry_month
        elif name in _BOOLEANS:
            base = _boolean
        else:
            base = _text

        def convert(raw):
            _check_cell(raw)
            return base(raw)
        # Code, flag and region columns repeat a few values over the file: remember each result.
        pure = name in self.options or name in _BOOLEANS or name in REGION_FIELDS
        return _memoized(convert) if pure and header not in ID_HEADERS + PHONE_HEADERS else convert

    # -- grade and class

    def _place(self, values: tuple, student: dict, fail: Callable) -> None:
        label = _text(self.cell(values, "班号"))
        grade_label = _text(self.cell(values, GRADE_HEADER))
        if not label:
            fail("班号", "请填写班号")
            return
        school_class = self.class_by_name.get(re.sub(r"\s+", "", label))
        if school_class is not None:
            student["grade"], student["school_class"] = school_class.grade, school_class
            return
        match = re.fullmatch(r"0*([0-9]{1,3})班?", label)
        if not match:
            fail("班号", f"班号“{label[:20]}”应为班级序号（如 1 或 01），或本校班级名称（如 一年级(1)班）")
            return
        if grade_label:
            grade = self.grade_by_label.get(grade_label)
            if grade is None:
                fail(GRADE_HEADER, f"“{grade_label[:20]}”不是本校的年级（可填年级名称如“一年级”或年级代码如“11”）")
                return
        else:
            grade = self._grade_from_entry(student, fail)
            if grade is None:
                return
        school_class = self.class_by_number.get((grade.pk, int(match.group(1))))
        if school_class is None:
            fail("班号", f"本校{grade.name}没有{int(match.group(1))}班，请先在学校管理中建立该班级")
            return
        student["grade"], student["school_class"] = grade, school_class

    def _grade_from_entry(self, student: dict, fail: Callable) -> Grade | None:
        try:
            month = normalise_entry_month(student.get("entry_month"))  # as the form reads it
        except ValidationError:
            month = ""
        if not month:
            fail("班号", "无法确定年级：请填写正确的入学年月（如 202409），或增加“年级”列")
            return None
        year, mon = int(month[:4]), int(month[4:])
        entry_year = year if mon >= 7 else year - 1
        # Admitted for the coming school year (July/August, before September): first grade.
        level = max(self.school_year - entry_year + 1, 1)
        candidates = [st for st in self.school.stages() if level <= self.school.years_of(st)]
        if not candidates:
            fail("入学年月", f"按入学年月推算为第{level}学年，超出本校学制，请核对入学年月")
            return None
        stage = candidates[0] if len(candidates) == 1 else self._stage_by_age(candidates, student, entry_year)
        if stage is None:
            fail("班号", "本校有多个学段，无法由入学年月确定年级，请增加“年级”列（如 一年级、初一）")
            return None
        grade = self.grade_by_stage_level.get((stage, level))
        if grade is None:
            fail("班号", f"本校没有{dict(Grade.Stage.choices)[stage]}第{level}年级，请先在学校管理中建立年级")
        return grade

    def _stage_by_age(self, stages: list[str], student: dict, entry_year: int) -> str | None:
        born = student.get("birth_date")
        if isinstance(born, str):
            digits = re.sub(r"[^0-9]", "", born)
            born_year = int(digits[:4]) if len(digits) == 8 else None
        else:
            born_year = born.year if isinstance(born, date) else None
        if born_year is None:
            return None
        ages = {"primary": 6, "junior": 6 + self.school.years_of("primary"),
                "senior": 6 + self.school.years_of("primary") + self.school.years_of("junior")}
        age = entry_year - born_year
        return min(stages, key=lambda st: abs(ages[st] - age))

    # -- errors

    def _form_errors(self) -> list[tuple[str, str]]:
        out = []
        for name, errors in self.form.errors.items():
            header = self.headers_by_field.get(name, "" if name == "__all__" else str(self.form.fields[name].label))
            if name in ("grade", "school_class"):
                header = "班号"
            out += [(header, str(e)) for e in errors]
        for number, form in enumerate(self.member_forms, start=1):
            for name, errors in form.errors.items():
                header = f"成员{number}{_MEMBER_HEADER.get(name, '')}"
                out += [(header, str(e)) for e in errors]
        return out


_BOOLEANS = {f.name for f in Student._meta.fields if f.get_internal_type() == "BooleanField"} | {"is_guardian"}
_MEMBER_HEADER = {t[2]: h.removeprefix("成员1") for h, t in NATIONAL_COLUMNS.items()
                  if t[0] == "member" and t[1] == 1}


# ---------------------------------------------------------------------------------------------
# The whole file


def validate_file(fileobj, *, school: School, progress: Callable[[int, int], None] | None = None,
                  today: date | None = None) -> Validation:
    """Read and validate an import file for ``school``; write nothing.

    ``fileobj``: binary file of an .xlsx (``sniff`` is applied first, so any upload may be given);
    ``progress(done, estimated_total)``: called every 500 rows; ``today``: reference date for
    grades and birth dates. Returns a Validation whose errors name the Excel row and the column
    header in Chinese; file-level problems (wrong type, missing columns, too many rows, merged
    cells) are in ``file_errors``. Never raises for a bad file.
    """
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    result = Validation()
    try:
        sniff(fileobj, size)
        workbook, sheet = open_sheet(fileobj)
    except FileRejected as exc:
        result.file_errors = exc.messages
        return result
    try:
        _validate_rows(sheet, result, school=school, progress=progress, today=today)
    except FileRejected as exc:
        result.file_errors = exc.messages
    except Exception as exc:  # noqa: BLE001 - a broken part deep in the sheet XML
        # Frames only: an exception's message may quote a cell (personal data).
        logger.warning("import file unreadable: %s\n%s", type(exc).__name__,
                       "".join(traceback.format_tb(exc.__traceback__)))
        result.file_errors = ["文件内容损坏，读取到一半时出错。请在 Excel 中打开确认无误后重新保存上传"]
    finally:
        workbook.close()
    if not result.file_errors and not result.total_rows:
        result.file_errors = ["文件中只有表头，没有学生数据"]
    if sheet.merged and not result.file_errors:
        shown = "、".join(sheet.merged[:5]) + ("等" if len(sheet.merged) > 5 else "")
        result.file_errors.append(f"表格中有合并单元格（{shown}），合并后只有第一格有内容。请取消合并并在每一行填写完整")
    if result.file_errors:
        result.rows = []
    else:
        result.errors += duplicates(result.rows, school=school)
        result.errors.sort(key=lambda e: e.row)
    return result


def _validate_rows(sheet: Sheet, result: Validation, *, school: School, progress, today) -> None:
    validator = RowValidator(school, sheet.columns, today=today)
    name_index = sheet.columns["姓名"]
    max_rows, max_scanned = limit("MAX_ROWS"), limit("MAX_ROWS") * 2
    estimated = max(sheet.estimated_rows, 1)
    for scanned, (row, values) in enumerate(sheet.rows, start=1):
        if scanned > max_scanned:
            raise FileRejected(f"文件行数过多（含空行超过{max_scanned}行），请删除多余的空行或拆分文件")
        if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        name = values[name_index] if name_index < len(values) else None
        if isinstance(name, str) and name.strip().startswith(EXAMPLE_MARK):
            result.skipped_examples += 1
            continue
        result.total_rows += 1
        if result.total_rows > max_rows:
            raise FileRejected(f"文件超过{max_rows}行学生数据，请拆分成多个文件分别导入")
        valid, errors = validator.validate(row, values)
        if valid is not None:
            result.rows.append(valid)
        result.errors += errors
        if progress is not None and result.total_rows % 500 == 0:
            progress(result.total_rows, max(estimated, result.total_rows))


def duplicates(rows: list[ValidRow], *, school: School, chunk: int = 1000) -> list[RowError]:
    """Rows whose ID number repeats inside the file, is held by a live record anywhere (the
    message names that school and the record's status only: 一人一籍, DESIGN.md §4), or by a draft
    of this school: the rule of the student form (students.selectors.id_number_holders).

    One query per ``chunk`` numbers. Rows found are removed from ``rows`` (in place).
    """
    errors: list[RowError] = []
    by_number: dict[str, list[int]] = {}
    for r in rows:
        number = r.student.get("id_number")
        if number:
            by_number.setdefault(number, []).append(r.row)
    bad_rows: set[int] = set()
    for found in by_number.values():
        if len(found) > 1:
            for row in found:
                others = "、".join(str(o) for o in found if o != row)
                errors.append(RowError(row, "身份证件号", f"与本文件第{others}行的身份证件号重复"))
                bad_rows.add(row)
    # The student form's rule and message (students.selectors.id_number_holders), for the whole file.
    holders = id_number_holders(by_number, school=school, chunk=chunk)
    for number, found in by_number.items():
        if number in holders:
            for row in found:
                errors.append(RowError(row, "身份证件号", holders[number].message))
                bad_rows.add(row)
    rows[:] = [r for r in rows if r.row not in bad_rows]
    return errors
