"""Forms for one student's record: the page and the Excel import validate with the same classes.

``StudentEntry`` bundles ``StudentForm`` and the two family-member forms and applies every rule
of the national collection sheet (national_import_columns.txt). The import builds its data with
``entry_data`` and reads errors by national column header with ``StudentEntry.errors_by_column``::

    entry = StudentEntry(entry_data(student_values, [member1, member2]), school=school, regions=regions)
    if entry.is_valid():
        data, members = entry.cleaned()
        services.student_create(actor=user, school=school, data=data, members=members)
    else:
        for header, message in entry.errors_by_column(): ...

``student_values`` are keyed by form field names (``NATIONAL_COLUMNS`` maps each header to one);
code fields take codes (the import translates names such as 汉族 with students.codes.code_of);
booleans take True/False; dates take ``date`` or text YYYYMMDD / YYYY-MM-DD.
"""

import calendar
import copy
import re
import unicodedata
from datetime import date
from types import SimpleNamespace

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.urls import reverse_lazy
from django.utils import timezone

from agreements.rules import (
    entry_year_of,
    first_grade_age_check,
    is_first_grade,
    liability_form_needed,
    province_rule,
)
from schools.models import Grade, Region, SchoolClass

from .models import CURRENT_STATUSES, KEY_DATA_FIELDS, FamilyMember, ProblemRecord, Student, mask_id_number
from .selectors import id_number_holders
from .services import FAMILY_DATA_FIELDS, STUDENT_DATA_FIELDS
from .validators import MAX_RAW_LENGTH, validate_id_for_type

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d"]
DATE_FORMATS_HELP = "YYYY-MM-DD 或 YYYYMMDD"
ENTRY_MONTH_HELP = "YYYYMM（如 202409），也可填写 2024-09、2024/09、2024.09 或 2024年9月"
CONTROL_CHARACTERS = "不能包含控制字符"
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")
# The oldest student a record may describe (adult education is not in scope): 30 years.
MAX_AGE_YEARS = 30

# National sheet header → where its value goes: ("student", field), ("member", 1|2, field), or
# ("school_code",) / ("class_number",) which the import resolves to the school and class itself.
NATIONAL_COLUMNS: dict[str, tuple] = {
    "学校标识码": ("school_code",), "姓名": ("student", "name"), "性别": ("student", "gender"),
    "出生日期": ("student", "birth_date"), "出生地行政区划代码": ("student", "birthplace_code"),
    "籍贯": ("student", "native_place_code"), "民族": ("student", "ethnicity"),
    "国籍/地区": ("student", "nationality"), "身份证件类型": ("student", "id_type"),
    "港澳台侨外": ("student", "hk_macau_taiwan_overseas"), "健康状况": ("student", "health"),
    "政治面貌": ("student", "political_status"), "身份证件号": ("student", "id_number"),
    "户口性质": ("student", "hukou_nature"), "户口所在地行政区划": ("student", "hukou_region_code"),
    "班号": ("class_number",), "入学年月": ("student", "entry_month"), "入学方式": ("student", "entry_mode"),
    "就读方式": ("student", "study_mode"), "现住址": ("student", "current_address"),
    "通信地址": ("student", "mailing_address"), "家庭地址": ("student", "home_address"),
    "联系电话": ("student", "phone"), "邮政编码": ("student", "postal_code"),
    "是否独生子女": ("student", "is_only_child"), "是否受过学前教育": ("student", "had_preschool"),
    "是否留守儿童": ("student", "left_behind"), "是否需要申请资助": ("student", "needs_aid"),
    "是否享受一补": ("student", "receives_subsidy"), "是否孤儿": ("student", "is_orphan"),
    "是否烈士或优抚子女": ("student", "is_martyr_child"), "上下学距离": ("student", "school_distance_km"),
    "上下学方式": ("student", "commute_mode"), "是否需要乘坐校车": ("student", "needs_school_bus"),
    "曾用名": ("student", "former_name"), "身份证件有效期": ("student", "id_valid_until"),
    "血型": ("student", "blood_type"), "特长": ("student", "specialty"),
    "学籍辅号": ("student", "auxiliary_number"), "班内学号": ("student", "class_seat_number"),
    "学生来源": ("student", "student_source"), "电子信箱": ("student", "email"),
    "主页地址": ("student", "homepage"), "残疾类型": ("student", "disability_type"),
    "是否由政府购买学位": ("student", "government_funded_place"), "随班就读": ("student", "inclusive_class"),
    "是否进城务工人员随迁子女": ("student", "is_migrant_child"),
}
_MEMBER_HEADERS = {"姓名": "name", "关系": "relation", "关系说明": "relation_note", "现住址": "address",
                   "户口所在地行政区划": "hukou_region_code", "联系电话": "phone", "是否监护人": "is_guardian",
                   "身份证件类型": "id_type", "身份证件号": "id_number", "民族": "ethnicity",
                   "工作单位": "work_unit", "职务": "job"}
for _n in (1, 2):
    for _h, _f in _MEMBER_HEADERS.items():
        NATIONAL_COLUMNS[f"成员{_n}{_h}"] = ("member", _n, _f)
FIELD_HEADERS = {target[1]: header for header, target in NATIONAL_COLUMNS.items() if target[0] == "student"}
FAMILY_PREFIX = "family"


def _nfkc(value) -> str:
    """Text with full-width digits, letters and punctuation made ASCII (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalise_date_text(value: str) -> str:
    """A typed or pasted date made readable by ``DATE_INPUT_FORMATS``: full-width digits and
    punctuation become ASCII and 2018年3月1日 becomes 2018-3-1. Other text is returned trimmed."""
    text = re.sub(r"\s+", "", _nfkc(value))
    match = re.fullmatch(r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?", text)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else text


class LenientDateField(forms.DateField):
    """A date given as YYYY-MM-DD, YYYYMMDD, YYYY/MM/DD, YYYY.MM.DD or YYYY年M月D日, with full-width
    digits too (what users type and spreadsheets hold); an error names the accepted formats, and
    an Excel serial number (43160: a date cell pasted as a number) is told apart."""

    default_error_messages = {"invalid": f"日期格式不正确，请填写 {DATE_FORMATS_HELP}（如 2018-03-01）"}

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", DATE_INPUT_FORMATS)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = normalise_date_text(value)
            if re.fullmatch(r"[0-9]{5}(\.[0-9]+)?", value):
                raise ValidationError(f"“{value}”是 Excel 的日期序号，请填写 {DATE_FORMATS_HELP}（如 2018-03-01），"
                                      "或将单元格设为日期格式", code="invalid")
            _check_day_exists(value)
        return super().to_python(value)


def _check_day_exists(text: str) -> None:
    # A well-formed date that is not in the calendar (2018-02-30, 20190230) is not a format error.
    match = (re.fullmatch(r"([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})", text)
             or re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})", text))
    if not match:
        return
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise ValidationError(f"日期不存在：没有{month}月（{year}年）", code="invalid")
    last = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if not 1 <= day <= last:
        raise ValidationError(f"日期不存在：{year}年{month}月只有{last}天", code="invalid")


def normalise_entry_month(value) -> str:
    """入学年月 as YYYYMM from YYYYMM, YYYY-MM, YYYY/MM, YYYY.MM or YYYY年MM月 (full-width digits
    accepted, the month may have one digit); "" for blank. Raises ValidationError (Chinese) for
    anything else or a month outside 1–12 or a year outside 1900–2099. The form and the import
    (imports.parsing, to place a row in its grade) both read 入学年月 through this function."""
    text = re.sub(r"\s+", "", _nfkc(value or ""))
    if not text:
        return ""
    match = (re.fullmatch(r"([0-9]{4})([0-9]{2})", text) or re.fullmatch(r"([0-9]{4})[-/.]([0-9]{1,2})", text)
             or re.fullmatch(r"([0-9]{4})年([0-9]{1,2})月?", text))
    if not match or not ("1900" <= match[1] <= "2099") or not 1 <= int(match[2]) <= 12:
        raise ValidationError(f"入学年月应为 {ENTRY_MONTH_HELP}", code="entry_month")
    return f"{match[1]}{int(match[2]):02d}"


# Separators allowed inside a name (少数民族姓名的间隔符): the middle dot and its look-alikes.
NAME_DOTS = "\u00b7\u2022\u2027\u30fb\uff65"
_NAME_HAN = "\u3007\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_PLAIN_HAN_NAME = re.compile(f"[{_NAME_HAN}]+")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


# Besides letters and middle dots: space, 〇 (a Han numeral written in names), hyphens, apostrophes.
NAME_JOINERS = " \u3007-\u2010\u2011'\u2019"


def clean_person_name(value) -> str:
    """A person's name as typed: runs of whitespace become one space, spaces between two Han
    characters or around a middle dot are dropped ("张 三" → "张三", "John  Smith" → "John Smith",
    "买买提 · 艾力" → "买买提·艾力"), zero-width characters removed. Letters of any script
    (accented ones too), Han characters, middle dots (``NAME_DOTS``), spaces, and the hyphens and
    apostrophes of transliterated names ("Jean-Pierre", "O'Brien") are allowed; digits, emoji and
    other symbols are refused. Returns "" for blank; raises ValidationError."""
    if isinstance(value, str) and _PLAIN_HAN_NAME.fullmatch(value):
        return value  # the common case, already clean (an import checks 20,000 names)
    text = str(value or "").translate(_ZERO_WIDTH)
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in text):
        raise ValidationError(f"姓名{CONTROL_CHARACTERS}", code="control_characters")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(f"(?<=[{_NAME_HAN}]) (?=[{_NAME_HAN}])", "", text)
    text = re.sub(f" ?([{NAME_DOTS}]) ?", r"\1", text)
    for ch in text:
        category = unicodedata.category(ch)
        if category[0] == "L" or ch in NAME_DOTS or ch in NAME_JOINERS or "\u0300" <= ch <= "\u036f":
            continue
        if category == "Nd":
            raise ValidationError("姓名不能包含数字", code="name_digits")
        raise ValidationError("姓名不能包含表情符号或特殊符号", code="name_symbols")
    return text


def check_other_id_number(id_type: str, number: str) -> None:
    """Numbers of ID type Z (其他) are free text for ``validate_id_for_type``: allow letters, digits,
    hyphens and spaces only (no emoji or symbols). Raises ValidationError."""
    if id_type == "Z" and any(not (unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"
                                   or ch in "- ") for ch in number):
        raise ValidationError("证件号码只能包含字母、数字和连字符", code="format")


def _fit_fields(form: forms.BaseForm) -> None:
    """Every text field of ``form`` refuses a NUL with "不能包含控制字符" (Django's own Chinese
    message reads "不允许是用空字符串。") and a too long value with a plain "最多N个字符" (Django's
    reads "确保该变量包含不超过 N 字符")."""
    for field in form.fields.values():
        if getattr(field, "max_length", None):
            field.error_messages["max_length"] = "最多%(limit_value)d个字符（现为%(show_value)d个）"
        if any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators):
            field.validators = [ProhibitNullCharactersValidator(message=CONTROL_CHARACTERS)
                                if isinstance(v, ProhibitNullCharactersValidator) else v for v in field.validators]


class RegionCodes:
    """Answers "is this a known region code?" for the form's region fields.

    Default: one indexed query per code. The import passes ``RegionCodes.preload()`` (one query for
    the whole table, ~3,500 codes) so that 10,000 rows cost no region queries.
    """

    def __init__(self, table: dict[str, bool] | None = None):
        self._table = table

    @classmethod
    def preload(cls) -> "RegionCodes":
        return cls(dict(Region.objects.values_list("code", "is_active")))

    def known(self, code: str, *, current_only: bool) -> bool:
        if self._table is not None:
            active = self._table.get(code)
            return active is not None and (active or not current_only)
        qs = Region.objects.filter(code=code)
        return (qs.filter(is_active=True) if current_only else qs).exists()


def clean_region_code(value, *, regions: RegionCodes, current_only: bool) -> str:
    """Normalise a GB/T 2260 code given as 6 digits or as 12 digits (township/village codes, or the
    6-digit code padded with zeros) to 6 digits and check it. Blank stays blank.

    ``current_only``: refuse abolished codes (a hukou is registered today); birthplaces and native
    places accept historic codes (GB/T 2260 changes over time). Raises ValidationError in Chinese.
    """
    text = _nfkc(value or "")  # full-width digits as typed with a Chinese input method
    if not text:
        return ""
    if not re.fullmatch(r"[0-9]{6}([0-9]{6})?", text):
        raise ValidationError("行政区划代码应为6位或12位数字", code="region_format")
    code = text[:6]
    if not regions.known(code, current_only=current_only):
        if current_only and regions.known(code, current_only=False):
            raise ValidationError("该行政区划代码已撤销，请填写现行代码", code="region_abolished")
        raise ValidationError("未知的行政区划代码", code="region_unknown")
    return code


class MaskedTextInput(forms.TextInput):
    """A text input that shows an ID number masked (first 6 and last 4), for read-only fields."""

    def format_value(self, value):
        return mask_id_number(super().format_value(value) or "")


class StudentForm(forms.ModelForm):
    """One student's own fields with every single-record rule of the national sheet.

    ``school``: the School the record belongs to (grade and class are limited to it).
    ``instance``: the record being edited; when it is registered (not a draft) the key data and
    the grade are shown but not editable (they change only by key-data correction / status change).
    ``regions``: a ``RegionCodes`` (the import preloads one). Errors are Chinese, per field.
    A new or draft primary first-grader too young for first grade in the entry year (入学年月, else
    the current school year) is refused on 出生日期 (agreements.rules.first_grade_age_check, the
    school's province window, loaded once per form); ``needs_liability_form()`` tells whether the
    child needs the liability form before registration.
    """

    homepage = forms.URLField(label="主页地址", max_length=200, required=False, assume_scheme="https")
    # Region fields accept the 12-digit codes of the national sheet and store 6 digits.
    birthplace_code = forms.CharField(label="出生地", max_length=12, required=False,
                                      help_text="6位行政区划代码（GB/T 2260，可为已撤销的历史代码）")
    native_place_code = forms.CharField(label="籍贯", max_length=12, required=False, help_text="6位行政区划代码")
    hukou_region_code = forms.CharField(label="户口所在地行政区划", max_length=12, required=False,
                                        help_text="6位行政区划代码")
    # Wider than the column: "2024-09" and "2024年9月" are accepted and stored as YYYYMM.
    entry_month = forms.CharField(label="入学年月", max_length=20, required=False,
                                  help_text="当前学段起始年级的入学年月，如 202409 或 2024-09")
    # Wider than the column (32): the validators normalise spacing and say what is wrong with a
    # long number, instead of Django's length message next to a second "请填写" message.
    id_number = forms.CharField(label="身份证件号", max_length=MAX_RAW_LENGTH, required=False)
    # Set False where the ID numbers are checked for holders in bulk (imports.parsing.duplicates).
    check_id_holders = True

    class Meta:
        model = Student
        fields = STUDENT_DATA_FIELDS
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "enrolled_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        field_classes = {"birth_date": LenientDateField, "enrolled_on": LenientDateField}

    def __init__(self, *args, school, regions: RegionCodes | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        if self.instance.pk is None:
            self.instance.school = school
        self.regions = regions or RegionCodes()
        self.fields["grade"].queryset = Grade.objects.filter(school=school)
        self.fields["school_class"].queryset = SchoolClass.objects.filter(school=school).select_related("grade")
        _fit_fields(self)
        self.fields["id_number"].widget.attrs.update({
            "autocomplete": "off", "spellcheck": "false",
            # Live check (htmx): validates and fills birth date and gender; see views.id_check.
            # Lazy: the import builds this form without rendering it (and without loading the URLconf).
            # "input" catches a paste too (a mouse paste fires no keyup); blur re-checks on leaving.
            "hx-post": reverse_lazy("students:id_check"), "hx-trigger": "input changed delay:400ms, blur",
            "hx-include": "[name='id_type'],[name='id_number']", "hx-target": "#id-check-result",
            "hx-swap": "outerHTML"})
        if self.instance.pk and self.instance.is_registered:
            for name in (*KEY_DATA_FIELDS, "grade"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "关键数据：已注册的学籍只能通过关键数据变更修改"
            # Disabled fields clean to their initial value; only the display is masked (a full view is
            # a logged reveal, DESIGN.md §7).
            attrs = self.fields["id_number"].widget.attrs
            self.fields["id_number"].widget = MaskedTextInput(attrs=attrs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else (
                "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control")
            field.widget.attrs.setdefault("class", css)

    GROUPS = (
        ("基本信息", ("name", "former_name", "gender", "id_type", "id_number", "birth_date", "ethnicity",
                  "nationality", "id_valid_until", "hk_macau_taiwan_overseas", "birthplace_code",
                  "native_place_code", "hukou_nature", "hukou_region_code", "health", "political_status",
                  "blood_type", "specialty")),
        ("就读信息", ("grade", "school_class", "class_seat_number", "auxiliary_number", "entry_month",
                  "entry_mode", "study_mode", "student_source", "enrolled_on")),
        ("联系方式", ("current_address", "mailing_address", "home_address", "phone", "postal_code", "email",
                  "homepage")),
        ("扩展信息", ("is_only_child", "had_preschool", "left_behind", "is_migrant_child", "is_orphan",
                  "is_martyr_child", "needs_aid", "receives_subsidy", "government_funded_place",
                  "disability_type", "inclusive_class")),
        ("交通方式", ("school_distance_km", "commute_mode", "needs_school_bus")),
    )

    def grouped(self):
        """[(section title, [bound fields])] in the order of the national sheet's sections."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def clean_name(self):
        name = clean_person_name(self.cleaned_data.get("name", ""))
        if not name:
            raise ValidationError("请填写姓名")
        return name

    def clean_former_name(self):
        return clean_person_name(self.cleaned_data.get("former_name", ""))

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        today = timezone.localdate()
        if value and value > today:
            raise ValidationError("出生日期不能晚于今天")
        if value and value < date(today.year - MAX_AGE_YEARS, 1, 1):
            raise ValidationError(f"出生日期过早（学生年龄不应超过{MAX_AGE_YEARS}岁）")
        return value

    def clean_birthplace_code(self):
        return clean_region_code(self.cleaned_data.get("birthplace_code"), regions=self.regions, current_only=False)

    def clean_native_place_code(self):
        return clean_region_code(self.cleaned_data.get("native_place_code"), regions=self.regions,
                                 current_only=False)

    def clean_hukou_region_code(self):
        return clean_region_code(self.cleaned_data.get("hukou_region_code"), regions=self.regions,
                                 current_only=True)

    def clean_entry_month(self):
        value = normalise_entry_month(self.cleaned_data.get("entry_month"))
        if not value:
            return ""
        today = timezone.localdate()
        if value > f"{today.year + 1}{today.month:02d}":
            raise ValidationError("入学年月不能晚于明年同月")
        return value

    def clean_phone(self):
        value = (self.cleaned_data.get("phone") or "").strip()
        if value and not PHONE.match(value):
            raise ValidationError("联系电话格式不正确（手机号或带区号的固定电话）")
        return value

    def clean_postal_code(self):
        value = (self.cleaned_data.get("postal_code") or "").strip()
        if value and not re.fullmatch(r"[0-9]{6}", value):
            raise ValidationError("邮政编码应为6位数字")
        return value

    def clean_school_distance_km(self):
        value = self.cleaned_data.get("school_distance_km")
        if value is not None and value < 0:
            raise ValidationError("上下学距离不能为负数")
        return value

    def clean(self):
        cleaned = super().clean()
        self._clean_id_number(cleaned)
        self._clean_id_holder(cleaned)
        grade, school_class = cleaned.get("grade"), cleaned.get("school_class")
        if grade and school_class and school_class.grade_id != grade.pk:
            self.add_error("school_class", "班级不属于所选年级")
        entry_mode = cleaned.get("entry_mode")
        if grade and entry_mode:
            senior = grade.stage == Grade.Stage.SENIOR
            if senior != (entry_mode[0] != "1"):
                self.add_error("entry_mode", "高中阶段入学方式为21/22/23/99，义务教育阶段为11/12")
        if cleaned.get("inclusive_class", "0") not in ("", "0") and cleaned.get("disability_type") in ("", "0"):
            self.add_error("disability_type", "随班就读的学生须填写残疾类型")
        self._clean_first_grade_age(cleaned)
        return cleaned

    def _first_grade_entry(self, cleaned) -> tuple[date, int] | None:
        """(birth date, entry year) when the record is a primary first-grader whose age the
        first-grade rule judges, else None. A registered record's birth date and grade are not
        editable here, so only new records and drafts are judged."""
        if self.fields["birth_date"].disabled or "birth_date" in self.errors or "entry_month" in self.errors:
            return None
        grade, birth_date = cleaned.get("grade"), cleaned.get("birth_date")
        if not grade or not birth_date or not is_first_grade(SimpleNamespace(grade=grade)):
            return None
        return birth_date, entry_year_of(SimpleNamespace(entry_month=cleaned.get("entry_month", "")))

    def _age_rule(self):
        # The school's province rule, loaded once per form: the import re-binds one form per file.
        if not hasattr(self, "_age_rule_cache"):
            self._age_rule_cache = province_rule(self.school.province_code)
        return self._age_rule_cache

    def _clean_first_grade_age(self, cleaned) -> None:
        """A child too young for first grade is refused at entry (agreements.rules, the province's
        window for the entry year from 入学年月), next to 出生日期; registration refuses it too."""
        entry = self._first_grade_entry(cleaned)
        if entry is None:
            return
        try:
            first_grade_age_check(*entry, self.school.province_code, rule=self._age_rule())
        except ValidationError as exc:
            self.add_error(None, exc)  # keyed on "birth_date"

    def needs_liability_form(self) -> bool:
        """After ``is_valid()``: True when the record is a first-grader born inside the province's
        window, who needs the liability form (未满六周岁入学责任书) signed before registration."""
        entry = self._first_grade_entry(self.cleaned_data) if self.is_valid() else None
        return entry is not None and liability_form_needed(*entry, self.school.province_code, rule=self._age_rule())

    def _get_validation_exclusions(self):
        # The ModelChoiceFields have already fetched grade and class; the model's own foreign-key
        # check would query each again (two queries per row in a 10,000-row import).
        return super()._get_validation_exclusions() | {"grade", "school_class"}

    def validate_unique(self):
        """Skip the model's constraint checks (two queries per record): drafts hold no ID number under
        the one-live-record index, a registered record's number is not editable here, and
        ``registration_check`` plus the database index guard the number when it goes live."""

    def _clean_id_number(self, cleaned):
        if self.fields["id_number"].disabled or "id_number" in self.errors:
            return
        id_type = cleaned.get("id_type")
        if not id_type:
            return
        try:
            cleaned["id_number"] = validate_id_for_type(id_type, cleaned.get("id_number", ""),
                                                        birth_date=cleaned.get("birth_date"),
                                                        gender=cleaned.get("gender"))
            check_other_id_number(id_type, cleaned["id_number"])
        except ValidationError as exc:
            self.add_error("id_number", exc)

    def _clean_id_holder(self, cleaned):
        """One record per ID number (一人一籍): refuse a number held by a live record anywhere or
        by another draft of this school, with the import's rule and message
        (``selectors.id_number_holders``). One query."""
        number = cleaned.get("id_number")
        if not self.check_id_holders or self.fields["id_number"].disabled or "id_number" in self.errors or not number:
            return
        holder = id_number_holders([number], school=self.school, exclude_pk=self.instance.pk).get(number)
        if holder is not None:
            self.add_error("id_number", ValidationError(holder.message, code=holder.code))


class FamilyMemberForm(forms.ModelForm):
    """成员1 / 成员2 of the national sheet: name and relation required; an ID number, when given,
    is validated for its type (type 1: GB 11643 checks)."""

    hukou_region_code = forms.CharField(label="户口所在地行政区划", max_length=12, required=False,
                                        help_text="6位行政区划代码")
    id_number = forms.CharField(label="身份证件号", max_length=MAX_RAW_LENGTH, required=False)

    class Meta:
        model = FamilyMember
        fields = FAMILY_DATA_FIELDS

    def __init__(self, *args, regions: RegionCodes | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = regions or RegionCodes()
        _fit_fields(self)
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off"})
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else (
                "form-check-input" if isinstance(field.widget, forms.CheckboxInput) else "form-control")
            field.widget.attrs.setdefault("class", css)

    def clean_hukou_region_code(self):
        return clean_region_code(self.cleaned_data.get("hukou_region_code"), regions=self.regions,
                                 current_only=True)

    def clean_phone(self):
        value = (self.cleaned_data.get("phone") or "").strip()
        if value and not PHONE.match(value):
            raise ValidationError("联系电话格式不正确")
        return value

    def clean_name(self):
        name = clean_person_name(self.cleaned_data.get("name", ""))
        if not name:
            raise ValidationError("请填写姓名")
        return name

    def clean(self):
        cleaned = super().clean()
        if "id_number" in self.errors:
            return cleaned
        number, id_type = cleaned.get("id_number", ""), cleaned.get("id_type", "")
        if number and not id_type:
            self.add_error("id_type", "填写了证件号时须选择证件类型")
        elif id_type and (number or id_type != "Z"):
            try:
                cleaned["id_number"] = validate_id_for_type(id_type, number)
                check_other_id_number(id_type, cleaned["id_number"])
            except ValidationError as exc:
                self.add_error("id_number", exc)
        return cleaned


class BaseFamilyFormSet(forms.BaseInlineFormSet):
    """Exactly two family members (the national sheet requires 成员1 and 成员2)."""

    default_error_messages = {
        "too_few_forms": "须填写两位家庭成员或监护人（成员1、成员2）",
        "too_many_forms": "只能填写两位家庭成员或监护人",
    }

    def get_queryset(self):
        return super().get_queryset().order_by("order")


FamilyMemberFormSet = forms.inlineformset_factory(
    Student, FamilyMember, form=FamilyMemberForm, formset=BaseFamilyFormSet, fk_name="student",
    fields=FAMILY_DATA_FIELDS, extra=0, min_num=2, max_num=2, validate_min=True, validate_max=True,
    can_delete=False,
)


def entry_data(student: dict, members: list[dict], *, initial_members: int = 0) -> dict:
    """Flat form data for ``StudentEntry`` from a dict of student fields and two member dicts.

    ``initial_members``: how many members the edited record already has (0 for new records).
    Booleans become "on"/absent as a browser would send them; None becomes "".
    """
    def put(out, key, value):
        if isinstance(value, bool):
            if value:
                out[key] = "on"
        elif value is not None:
            out[key] = value

    data: dict = {f"{FAMILY_PREFIX}-TOTAL_FORMS": "2", f"{FAMILY_PREFIX}-INITIAL_FORMS": str(initial_members),
                  f"{FAMILY_PREFIX}-MIN_NUM_FORMS": "2", f"{FAMILY_PREFIX}-MAX_NUM_FORMS": "2"}
    for key, value in student.items():
        put(data, key, value)
    for i, member in enumerate(members[:2]):
        for key, value in member.items():
            put(data, f"{FAMILY_PREFIX}-{i}-{key}", value)
    return data


class StudentEntry:
    """A student's form and its two family-member forms, validated together.

    ``data``: POST data or ``entry_data(...)``; ``school``: the School; ``instance``: the record
    edited (None to create); ``regions``: a preloaded ``RegionCodes`` for bulk use.
    Cross-form rule (national sheet): when the student has no ID number, at least one family
    member who is a guardian must have one.
    """

    def __init__(self, data=None, *, school, instance: Student | None = None, regions: RegionCodes | None = None):
        self.school = school
        regions = regions or RegionCodes()
        # The ModelForm writes cleaned values onto its instance; give it a copy so that the service
        # still sees the stored values and can tell what changed.
        self.form = StudentForm(data, school=school, instance=copy.copy(instance) if instance else None,
                                regions=regions)
        self.family = FamilyMemberFormSet(data, instance=instance or Student(school=school), prefix=FAMILY_PREFIX,
                                          form_kwargs={"regions": regions})
        self._cross_errors: list[str] = []

    def is_valid(self) -> bool:
        ok = self.form.is_valid()
        ok = self.family.is_valid() and ok
        if ok:
            student_id = self.form.cleaned_data.get("id_number")
            members = [f.cleaned_data for f in self.family.forms]
            if not student_id and not any(m.get("is_guardian") and m.get("id_number") for m in members):
                self._cross_errors.append("学生没有身份证件号时，须填写至少一位监护人的身份证件号")
                ok = False
        return ok

    @property
    def non_field_errors(self) -> list[str]:
        return [*self.form.non_field_errors(), *self.family.non_form_errors(), *self._cross_errors]

    @property
    def top_errors(self) -> list[str]:
        """What the page shows above the form: ``non_field_errors`` and, per family member
        ("成员1：…"), its errors on no field or on a hidden field (the member's id), which no
        field of the page would show."""
        out = list(self.non_field_errors)
        for number, form in enumerate(self.family.forms, start=1):
            hidden = [e for f in form.hidden_fields() for e in f.errors]
            out += [f"成员{number}：{e}" for e in [*form.non_field_errors(), *hidden]]
        return out

    def cleaned(self) -> tuple[dict, list[dict]]:
        """(student fields, [member1, member2]) for the services; call after ``is_valid()``."""
        data = {k: v for k, v in self.form.cleaned_data.items() if k in STUDENT_DATA_FIELDS}
        members = [{k: v for k, v in f.cleaned_data.items() if k in FAMILY_DATA_FIELDS} for f in self.family.forms]
        return data, members

    def errors_by_column(self) -> list[tuple[str, str]]:
        """Every error as (national sheet header, Chinese message); "" for record-level errors."""
        out = [("", str(e)) for e in self.non_field_errors]
        for field, errors in self.form.errors.items():
            if field == "__all__":
                continue
            header = FIELD_HEADERS.get(field, str(self.form.fields[field].label))
            out += [(header, str(e)) for e in errors]
        member_headers = {v: k for k, v in _MEMBER_HEADERS.items()}
        for i, form in enumerate(self.family.forms, start=1):
            for field, errors in form.errors.items():
                header = f"成员{i}{member_headers.get(field, '')}" if field != "__all__" else f"成员{i}"
                out += [(header, str(e)) for e in errors]
        return out


class ReasonForm(forms.Form):
    """The reason for changing a registered record (kept in its history)."""

    reason = forms.CharField(label="修改原因", max_length=100, required=False,
                             widget=forms.TextInput(attrs={"class": "form-control"}))


class ProblemResolveForm(forms.Form):
    """How an open problem record is resolved (DESIGN.md §4)."""

    resolution = forms.ChoiceField(label="处理方式", choices=ProblemRecord.Resolution.choices,
                                   widget=forms.RadioSelect)
    keep = forms.ModelChoiceField(label="保留的学籍", queryset=Student.objects.none(), required=False,
                                  widget=forms.RadioSelect)
    note = forms.CharField(label="处理说明", required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))
    evidence = forms.FileField(label="佐证材料（JPG/PNG/PDF，不超过2 MB）", required=False)

    def __init__(self, *args, problem: ProblemRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = problem.students.filter(status__in=CURRENT_STATUSES).select_related("school")
        self.fields["keep"].label_from_instance = lambda s: f"{s.name}（{s.school.name}，{s.get_status_display()}）"


class ArchiveItemForm(forms.Form):
    """One checklist line of the archive."""

    present = forms.BooleanField(label="已归档", required=False)
    paper_location = forms.CharField(label="纸质材料存放位置", max_length=100, required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)
    scan = forms.FileField(label="扫描件", required=False)
    remove_scan = forms.BooleanField(label="删除已上传的扫描件", required=False)

    def clean_scan(self):
        from .files import check_scan

        scan = self.cleaned_data.get("scan")
        if scan:
            check_scan(scan)
        return scan
