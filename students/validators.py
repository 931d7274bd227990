"""Validation of identity-document numbers and national student numbers (DESIGN.md §4).

One place for the rules that forms, the Excel import and services all apply. Every public
``validate_*`` function takes whatever a user, a spreadsheet cell or a caller hands it and either
returns the normalised number or raises ``django.core.exceptions.ValidationError`` with a Chinese
message that says what is wrong and a stable ``code`` (see ``ERROR_CODES``). No input, however odd
(None, bytes, ints, floats, huge strings, emoji, control characters, lone surrogates), raises any
other exception; the hypothesis fuzz tests in tests/students/test_validators.py hold us to that.

Normalisation (all number kinds): Unicode NFKC (full-width digits, letters, spaces and hyphens become
ASCII), invisible zero-width characters dropped, spaces, tabs, line breaks and hyphens/dashes removed
anywhere, letters upper-cased (so a lower-case ``x`` check digit becomes ``X``). Any other control or
format character is refused. Raw input longer than ``MAX_RAW_LENGTH`` characters is refused before
any work is done on it.

Resident identity card numbers (身份证件类型 1, GB 11643-1999 公民身份号码), in the order checked:
  1. 15-digit numbers (first-generation cards, invalid since 2013-01-01) are refused with a hint to
     use the 18-digit number; any other length is refused;
  2. 17 ASCII digits followed by a digit or ``X``;
  3. the birth date in characters 7–14 (YYYYMMDD) exists, is not after today (Asia/Shanghai) and
     not before ``EARLIEST_BIRTH_DATE``;
  4. the address code in characters 1–6 is a GB/T 2260 code, current or historic, as listed in
     python-stdnum's ``stdnum/cn/loc.dat``. The years in which a code was valid are deliberately NOT
     compared with the birth year: a child registered late (补登户口) gets the code of the county as
     it is at registration, which may have been created after the birth (DESIGN.md §4). This is why
     we do not call ``stdnum.cn.ric.validate``, whose ``get_birth_place`` refuses such numbers;
  5. the ISO 7064 MOD 11-2 check digit (``stdnum.cn.ric.calc_check_digit``);
  6. when given, the birth date and the gender (GB/T 2261.1: "1" male, "2" female; the 17th digit is
     odd for men, even for women) agree with the number.
The check digit is never revealed in a message: a user told "the last digit should be 7" would
change it and hide the real typo elsewhere.

Student numbers (全国学籍号) are one kind letter followed by 18 characters in the layout above:
``G`` + the verified resident ID number; ``L`` (temporary) and ``J`` (no usable ID) + 6-digit area
code + birth date YYYYMMDD + 3-digit sequence + MOD 11-2 check digit over those 17 digits (see
``make_j_number``).
"""

import functools
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum import numdb
from stdnum.cn import ric
from stdnum.iso7064 import mod_11_2

# The earliest birth date accepted in any number: validators also check family members' numbers, so
# the bound is generous; a student's own plausible age is a rule of the registration form.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
# Raw input longer than this is refused outright (an 18-digit number with generous separators fits).
MAX_RAW_LENGTH = 64
# Longest normalised number of ID type Z (其他): the Student.id_number column holds 32.
MAX_OTHER_LENGTH = 32

ERROR_CODES = (
    "required",  # nothing given
    "not_text",  # bytes or another non-text object
    "number_not_text",  # an int/float/Decimal: a spreadsheet cell formatted as a number
    "too_long",  # raw input longer than MAX_RAW_LENGTH
    "invalid_chars",  # control or format characters
    "old_15_digit",  # a 15-digit first-generation number
    "length",  # wrong length
    "format",  # wrong characters for the kind of number
    "birth_date_invalid",  # the embedded date does not exist (e.g. 0230)
    "birth_date_future",  # the embedded date is after today
    "birth_date_too_early",  # the embedded date is before EARLIEST_BIRTH_DATE
    "region_unknown",  # the address code is not a GB/T 2260 code
    "checksum",  # the check digit does not match
    "birth_date_mismatch",  # the embedded birth date differs from the given one
    "gender_mismatch",  # the embedded gender differs from the given one
    "prefix",  # a residence-permit number with another region's prefix; a student number's letter
    "id_type",  # unknown ID type
)

ID_NUMBER_LABEL = "身份证号码"
STUDENT_NUMBER_LABEL = "学籍号"
GENDER_NAMES = {"1": "男", "2": "女"}

# Zero-width characters that copy-and-paste from web pages and spreadsheets leaves behind.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
# After NFKC every Unicode space is " " and full-width hyphens are "-"; other dashes stay, so list them.
_SEPARATORS = re.compile("[ \t\r\n\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63]+")
_GB11643 = re.compile(r"[0-9]{17}[0-9X]")
_ASCII_DIGITS = re.compile(r"[0-9]+")

# Address codes of the residence permits for Hong Kong, Macao and Taiwan residents
# (港澳台居民居住证申领发放办法, 2018): the same 18-character layout with a fixed address code.
RESIDENCE_PERMIT_PREFIXES = {"6": "810000", "7": "820000", "8": "830000"}


# ---------------------------------------------------------------------------------------------
# Normalisation


def normalise_text(value, *, label: str = ID_NUMBER_LABEL, keep_spaces: bool = False,
                   keep_case: bool = False) -> str:
    """Turn any input into a clean upper-case ASCII-ish string, or raise ValidationError.

    ``value``: anything. Returns a ``str`` (possibly empty) after NFKC, removing zero-width
    characters and separators (spaces and hyphens; with ``keep_spaces`` inner runs of spaces become
    one space instead) and upper-casing (unless ``keep_case``). Raises ValidationError with code
    ``not_text`` (bytes, other objects), ``number_not_text`` (int, float, Decimal), ``too_long``
    (more than MAX_RAW_LENGTH characters) or ``invalid_chars`` (control/format characters left).
    ``None`` returns "" so that callers decide whether blank is allowed.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValidationError(f"{label}必须是文本", code="not_text")
    if not isinstance(value, str):
        raise ValidationError(
            f"{label}被保存成了数字，会丢失精度（末位X、前导0、第16位以后的数字），请将单元格设为文本格式后重新填写",
            code="number_not_text")
    if len(value) > MAX_RAW_LENGTH:
        raise ValidationError(f"{label}过长（最多{MAX_RAW_LENGTH}个字符）", code="too_long")
    text = unicodedata.normalize("NFKC", "".join([value])).translate(_INVISIBLE)
    text = re.sub("[ \t\r\n]+", " ", text).strip() if keep_spaces else _SEPARATORS.sub("", text)
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise ValidationError(f"{label}含有不可见的控制字符，请重新输入", code="invalid_chars")
    return text if keep_case else text.upper()


def _today(today: date | None) -> date:
    return today if today is not None else timezone.localdate()


# ---------------------------------------------------------------------------------------------
# The 18-character GB 11643 layout (resident ID numbers, residence permits, L and J numbers)


def _embedded_date(number: str) -> date:
    """The birth date in characters 7–14 of an already validated 18-character number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _embedded_gender(number: str) -> str:
    """"1" (male) when the 17th character is odd, "2" (female) when even (GB 11643-1999 §4.4)."""
    return "1" if int(number[16]) % 2 else "2"


def region_code_known(code: str) -> bool:
    """True when ``code`` (6 ASCII digits) is a GB/T 2260 code in python-stdnum's data, current or
    historic, whatever the years of its validity. No database query."""
    if not isinstance(code, str) or len(code) != 6 or not _ASCII_DIGITS.fullmatch(code):
        return False
    return _stdnum_county(code)


@functools.lru_cache(maxsize=8192)
def _stdnum_county(code: str) -> bool:
    # stdnum walks its code tree on every call (~0.1 ms); an import checks 10,000 numbers from a
    # few dozen counties. ~3,500 county codes exist, so the cache never evicts in practice.
    parts = numdb.get("cn/loc").info(code)
    return len(parts) == 2 and "county" in parts[1][1]


def _check_layout(number: str, *, label: str, today: date, region_prefix: str | None = None) -> str:
    """Check an 18-character GB 11643 number: format, birth date, address code, check digit.

    ``region_prefix`` replaces the GB/T 2260 check with "must start with this code" (residence
    permits). Returns ``number``; raises ValidationError.
    """
    if len(number) != 18:
        raise ValidationError(f"{label}应为18位，当前为{len(number)}位", code="length")
    if not _GB11643.fullmatch(number):
        raise ValidationError(f"{label}前17位应为数字，最后一位应为数字或X", code="format")
    try:
        born = _embedded_date(number)
    except ValueError:
        raise ValidationError(f"{label}第7–14位的出生日期（{number[6:14]}）不是有效日期",
                              code="birth_date_invalid") from None
    if born > today:
        raise ValidationError(f"{label}中的出生日期（{born:%Y年%m月%d日}）晚于今天", code="birth_date_future")
    if born < EARLIEST_BIRTH_DATE:
        raise ValidationError(f"{label}中的出生日期（{born:%Y年%m月%d日}）早于{EARLIEST_BIRTH_DATE.year}年",
                              code="birth_date_too_early")
    if region_prefix is not None:
        if not number.startswith(region_prefix):
            raise ValidationError(f"{label}应以{region_prefix}开头", code="prefix")
    elif not region_code_known(number[:6]):
        raise ValidationError(f"{label}前6位地址码（{number[:6]}）不是有效的行政区划代码（GB/T 2260）",
                              code="region_unknown")
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationError(f"{label}校验位不符，请逐位核对号码", code="checksum")
    return number


def _check_agreement(number: str, *, label: str, birth_date, gender) -> None:
    """Compare the embedded birth date and gender with the given ones (each skipped when None)."""
    if birth_date is not None:
        if isinstance(birth_date, datetime):
            birth_date = timezone.localtime(birth_date).date() if timezone.is_aware(birth_date) else birth_date.date()
        if not isinstance(birth_date, date):
            raise TypeError("birth_date must be a datetime.date or None")
        born = _embedded_date(number)
        if born != birth_date:
            raise ValidationError(
                f"{label}中的出生日期（{born:%Y年%m月%d日}）与填写的出生日期（{birth_date:%Y年%m月%d日}）不一致",
                code="birth_date_mismatch")
    if gender is not None and str(gender) in GENDER_NAMES:
        embedded = _embedded_gender(number)
        if embedded != str(gender):
            raise ValidationError(
                f"{label}显示性别为{GENDER_NAMES[embedded]}，与填写的性别（{GENDER_NAMES[str(gender)]}）不一致",
                code="gender_mismatch")


# ---------------------------------------------------------------------------------------------
# Resident identity card numbers (ID type 1)


def validate_id_number(value, *, birth_date: date | None = None, gender: str | None = None,
                       today: date | None = None) -> str:
    """Validate a resident identity card number (居民身份证, GB 11643-1999) and return it normalised.

    ``value``: anything; normally a str such as "34010220100101123x" or "３４０１…" or
    "340102 2010 0101 123X". ``birth_date``: a ``date`` the number must encode (None: not checked;
    a ``datetime`` is reduced to its Asia/Shanghai date; another type raises TypeError, a caller bug).
    ``gender``: "1" (男) or "2" (女) per GB/T 2261.1 the number must encode; None or any other value
    is not checked. ``today``: the reference date for "birth date in the future" (default: today in
    Asia/Shanghai; tests pass a fixed one).

    Returns the 18-character number, digits and upper-case ``X``. Raises ValidationError with a
    Chinese message and one of the codes in ``ERROR_CODES`` (rules and their order: module docstring).
    """
    number = normalise_text(value, label=ID_NUMBER_LABEL)
    if not number:
        raise ValidationError(f"请填写{ID_NUMBER_LABEL}", code="required")
    if len(number) == 15 and _ASCII_DIGITS.fullmatch(number):
        raise ValidationError(
            "15位旧身份证号码请换领为18位居民身份证号码后填写（第一代身份证已于2013年1月1日停止使用）",
            code="old_15_digit")
    _check_layout(number, label=ID_NUMBER_LABEL, today=_today(today))
    _check_agreement(number, label=ID_NUMBER_LABEL, birth_date=birth_date, gender=gender)
    return number


def id_number_birth_date(number) -> date:
    """The birth date encoded in a resident ID number, for pre-filling forms.

    ``number``: any input ``validate_id_number`` accepts. Returns a ``date``. Raises ValidationError
    when the number is invalid (the same messages as ``validate_id_number``).
    """
    return _embedded_date(validate_id_number(number))


def id_number_gender(number) -> str:
    """The gender encoded in a resident ID number: "1" (男) or "2" (女), GB/T 2261.1 codes.

    ``number``: any input ``validate_id_number`` accepts. Raises ValidationError when it is invalid.
    Source: GB 11643-1999 §4.4 (the 17th digit, the sequence code, is odd for men, even for women).
    """
    return _embedded_gender(validate_id_number(number))


# ---------------------------------------------------------------------------------------------
# Other identity documents (ID types 6, 7, 8, 9, A, Z)

_HKID = re.compile(r"([A-Z]{1,2})([0-9]{6})\(?([0-9A])\)?")
_MACAU_BIR = re.compile(r"([157][0-9]{6})\(?([0-9])\)?")
_HOME_RETURN_PERMIT = {"6": re.compile(r"H([0-9]{8}|[0-9]{10})"), "7": re.compile(r"M([0-9]{8}|[0-9]{10})")}
_HK_PASSPORT = re.compile(r"K[0-9]{8}")
_MACAU_PASSPORT = re.compile(r"MA[0-9]{7}")
_TAIWAN_PERMIT = re.compile(r"[0-9]{8}(\(?[0-9]{2}\)?)?|[0-9]{8}\(?[A-Z]\)?")
_FOREIGN_PR_2017 = re.compile(r"[A-Z]{3}[0-9]{12}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,20}")

ID_TYPE_HELP = {
    "1": "18位居民身份证号码，末位可以是X",
    "6": "香港身份证（如A123456(3)）、港澳居民来往内地通行证（H加8位或10位数字）、"
         "香港特区护照（K加8位数字）或港澳居民居住证（810000开头的18位号码）",
    "7": "澳门身份证（1、5或7开头的7位数字加1位校验码，如1234567(8)）、港澳居民来往内地通行证（M加8位或10位数字）、"
         "澳门特区护照（MA加7位数字）或港澳居民居住证（820000开头的18位号码）",
    "8": "台湾居民来往大陆通行证（8位数字，旧版可带2位换证次数或1位字母）或台湾居民居住证（830000开头的18位号码）",
    "9": "外国人永久居留身份证：2023版为9开头的18位号码，2017版为3位字母加12位数字",
    "A": "护照号码：5至20位字母或数字",
    "Z": f"其他证件号码：最多{MAX_OTHER_LENGTH}个字符，可不填（需留存证明材料）",
}


def hkid_check_digit(letters: str, digits: str) -> str:
    """The check character of a Hong Kong identity card number ("0"–"9" or "A").

    ``letters``: 1 or 2 upper-case letters; ``digits``: 6 digits. Weighted sum with weights 9..2 over
    the 8 positions (a missing first letter counts as 36, A–Z as 10–35), check = 11 − sum mod 11
    (10 → "A", 11 → "0"), the algorithm of the HKSAR Immigration Department's card number.
    """
    values = [36] * (2 - len(letters)) + [ord(c) - 55 for c in letters] + [int(d) for d in digits]
    remainder = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True)) % 11
    return {0: "0", 1: "A"}.get(remainder, str(11 - remainder))


def _residence_permit(number: str, id_type: str, *, today: date, birth_date, gender) -> str | None:
    prefix = RESIDENCE_PERMIT_PREFIXES[id_type]
    if len(number) == 18 and number.startswith(prefix):
        _check_layout(number, label="居住证号码", today=today, region_prefix=prefix)
        _check_agreement(number, label="居住证号码", birth_date=birth_date, gender=gender)
        return number
    return None


def _hong_kong(number: str, **kw) -> str:
    if (permit := _residence_permit(number, "6", **kw)) is not None:
        return permit
    if match := _HKID.fullmatch(number):
        letters, digits, check = match.groups()
        if hkid_check_digit(letters, digits) != check:
            raise ValidationError("香港身份证号码校验位不符，请核对号码", code="checksum")
        return letters + digits + check
    if _HOME_RETURN_PERMIT["6"].fullmatch(number) or _HK_PASSPORT.fullmatch(number):
        return number
    raise ValidationError(f"香港证件号码格式不正确：应为{ID_TYPE_HELP['6']}", code="format")


def _macao(number: str, **kw) -> str:
    if (permit := _residence_permit(number, "7", **kw)) is not None:
        return permit
    if match := _MACAU_BIR.fullmatch(number):
        return "".join(match.groups())
    if _HOME_RETURN_PERMIT["7"].fullmatch(number) or _MACAU_PASSPORT.fullmatch(number):
        return number
    raise ValidationError(f"澳门证件号码格式不正确：应为{ID_TYPE_HELP['7']}", code="format")


def _taiwan(number: str, **kw) -> str:
    if (permit := _residence_permit(number, "8", **kw)) is not None:
        return permit
    if _TAIWAN_PERMIT.fullmatch(number):
        return number.replace("(", "").replace(")", "")
    raise ValidationError(f"台湾居民证件号码格式不正确：应为{ID_TYPE_HELP['8']}", code="format")


def _foreign_permanent_resident(number: str, *, today: date, **kw) -> str:
    if _FOREIGN_PR_2017.fullmatch(number):
        return number
    if len(number) == 18 and number.startswith("9"):
        # 2023 card (国家移民管理局): 17 digits and a MOD 11-2 check digit like the resident ID; its
        # inner layout (province, nationality, birth date) is not checked here.
        if not _GB11643.fullmatch(number):
            raise ValidationError("永久居留身份证号码前17位应为数字，最后一位应为数字或X", code="format")
        if mod_11_2.calc_check_digit(number[:17]) != number[17]:
            raise ValidationError("永久居留身份证号码校验位不符，请逐位核对号码", code="checksum")
        return number
    raise ValidationError(f"永久居留身份证号码格式不正确：{ID_TYPE_HELP['9']}", code="format")


def _passport(number: str, **kw) -> str:
    if _PASSPORT.fullmatch(number):
        return number
    raise ValidationError(f"护照号码格式不正确：{ID_TYPE_HELP['A']}", code="format")


_OTHER_TYPES = {"6": _hong_kong, "7": _macao, "8": _taiwan, "9": _foreign_permanent_resident, "A": _passport}


def validate_id_for_type(id_type, value, *, birth_date: date | None = None, gender: str | None = None,
                         today: date | None = None) -> str:
    """Validate ``value`` as a number of identity document type ``id_type`` and return it normalised.

    ``id_type``: a code of students/codes/id_type.csv ("1", "6", "7", "8", "9", "A", "Z"; lower-case
    accepted). Type 1 applies ``validate_id_number`` with ``birth_date``, ``gender`` and ``today``.
    The others get format checks (human-readable summary in ``ID_TYPE_HELP``):

    * 6 香港: HKID ``A123456(3)`` with its check character verified (returned without brackets,
      "A1234563"); 港澳居民来往内地通行证 ``H`` + 8 or 10 digits; HKSAR passport ``K`` + 8 digits;
      港澳居民居住证 810000… (18-character layout, birth date and check digit verified, and compared
      with ``birth_date``/``gender`` when given);
    * 7 澳门: BIR ``1234567(8)`` (first digit 1, 5 or 7; no public check algorithm, so not verified);
      通行证 ``M`` + 8 or 10 digits; MSAR passport ``MA`` + 7 digits; 居住证 820000…;
    * 8 台湾: 台湾居民来往大陆通行证 8 digits (2015 card), old booklets with a 2-digit issue count or
      a letter in brackets; 台湾居民居住证 830000…;
    * 9 外国人永久居留身份证: 2023 card ``9`` + 16 digits + MOD 11-2 check digit; 2017 card 3 letters
      (nationality) + 12 digits;
    * A 护照: 5–20 letters or digits (ICAO 9303 allows 9 in the machine-readable zone plus an
      overflow; national practice varies, so only the alphabet is checked);
    * Z 其他: may be blank (returns ""; a proof is filed instead); otherwise at most 32 characters after
      normalisation, spaces kept (collapsed), case kept, no control characters.

    Raises ValidationError only (code "id_type" for an unknown type, "required" for a blank number
    except type Z, and the codes of ``ERROR_CODES``).
    """
    code = id_type.strip().upper() if isinstance(id_type, str) else None
    if code == "1":
        return validate_id_number(value, birth_date=birth_date, gender=gender, today=today)
    if code == "Z":
        text = normalise_text(value, label="证件号码", keep_spaces=True, keep_case=True)
        if len(text) > MAX_OTHER_LENGTH:
            raise ValidationError(f"证件号码过长（最多{MAX_OTHER_LENGTH}个字符）", code="too_long")
        return text
    if code not in _OTHER_TYPES:
        raise ValidationError("未知的身份证件类型", code="id_type")
    number = normalise_text(value, label="证件号码")
    if not number:
        raise ValidationError("请填写证件号码", code="required")
    return _OTHER_TYPES[code](number, today=_today(today), birth_date=birth_date, gender=gender)


# ---------------------------------------------------------------------------------------------
# National student numbers (全国学籍号)

STUDENT_NUMBER_KINDS = ("G", "L", "J")


def validate_student_number(value, *, today: date | None = None) -> tuple[str, str]:
    """Validate a national student number and return ``(kind, normalised)``.

    ``value``: anything; e.g. "g34010220100101123x". ``kind`` is "G", "L" or "J" (the values of
    ``students.models.NumberKind``); ``normalised`` is the 19-character number, upper case. All
    three kinds are a letter plus the 18-character GB 11643 layout: birth date, address code and the
    MOD 11-2 check digit are verified as for ``validate_id_number`` (for G the 18 characters are the
    student's resident ID number). Raises ValidationError (codes of ``ERROR_CODES``; "prefix" for a
    missing or unknown kind letter).
    """
    number = normalise_text(value, label=STUDENT_NUMBER_LABEL)
    if not number:
        raise ValidationError(f"请填写{STUDENT_NUMBER_LABEL}", code="required")
    kind = number[0]
    if kind not in STUDENT_NUMBER_KINDS:
        raise ValidationError("学籍号应以G、L或J开头", code="prefix")
    if len(number) != 19:
        raise ValidationError(f"学籍号应为19位（1位字母加18位），当前为{len(number)}位", code="length")
    _check_layout(number[1:], label=STUDENT_NUMBER_LABEL, today=_today(today))
    return kind, number


def _make_number(kind: str, *, area_code: str, birth_date: date, sequence: int) -> str:
    if not region_code_known(area_code):
        raise ValueError("area_code must be a 6-digit GB/T 2260 code")
    if isinstance(birth_date, datetime) or not isinstance(birth_date, date):
        raise ValueError("birth_date must be a datetime.date")
    if not EARLIEST_BIRTH_DATE <= birth_date <= timezone.localdate():
        raise ValueError("birth_date out of range")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 0 <= sequence <= 999:
        raise ValueError("sequence must be an int from 0 to 999")
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return kind + body + mod_11_2.calc_check_digit(body)


def make_j_number(*, area_code: str, birth_date: date, sequence: int) -> str:
    """Build a J student number for a student without a usable ID document.

    Format (19 characters): ``J`` + ``area_code`` (6-digit GB/T 2260 code of the school's county)
    + ``birth_date`` as YYYYMMDD + ``sequence`` as 3 digits (000–999) + a check digit, ISO 7064
    MOD 11-2 over the 17 digits (0–9 or X). Source: DESIGN.md §4 ("area code + birth date + sequence
    + check digit"); the national system does not publish its algorithm, so we mirror the resident
    ID layout (GB 11643-1999) so that one validator (``validate_student_number``) covers G, L and J.
    The caller picks a sequence not yet used for this area and date (a database concern).
    Raises ValueError for an unknown area code, a birth date before 1900 or in the future, or a
    sequence outside 0–999 (caller bugs: validate the inputs first).
    """
    return _make_number("J", area_code=area_code, birth_date=birth_date, sequence=sequence)


def make_l_number(*, area_code: str, birth_date: date, sequence: int) -> str:
    """Build an L (temporary) student number: the same layout as ``make_j_number`` with ``L``.

    DESIGN.md §4: "L temporary number (same format, no real ID behind it)". Raises ValueError as
    ``make_j_number``.
    """
    return _make_number("L", area_code=area_code, birth_date=birth_date, sequence=sequence)
