"""ID-number and student-number validation: students/validators.py (DESIGN.md §4).

Every bad input must come back as a ValidationError with a Chinese message and a stable code; the
hypothesis tests at the end throw arbitrary objects at every public validator to prove that nothing
else ever escapes.
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric
from stdnum.iso7064 import mod_11_2

from students.validators import (
    ERROR_CODES,
    ID_TYPE_HELP,
    hkid_check_digit,
    id_number_birth_date,
    id_number_gender,
    make_j_number,
    make_l_number,
    region_code_known,
    validate_id_for_type,
    validate_id_number,
    validate_student_number,
)

TODAY = date(2025, 6, 1)


def with_check(first17: str) -> str:
    """Append the ISO 7064 MOD 11-2 check digit to 17 digits."""
    return first17 + mod_11_2.calc_check_digit(first17)


def wrong_check(first17: str) -> str:
    """17 digits followed by a check digit that is certainly wrong."""
    right = mod_11_2.calc_check_digit(first17)
    return first17 + ("1" if right != "1" else "2")


# The worked example of GB 11643-1999: 北京市朝阳区, born 1949-12-31, female, check digit X.
STANDARD = "11010519491231002X"
# 瑶海区 (340102), born 2010-05-04, sequence 123 (odd: male).
BOY = with_check("34010220100504123")
GIRL = with_check("34010220100504124")


def error_of(func, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(*args, **kwargs)
    return info.value


class TestValidIdNumbers:
    @pytest.mark.parametrize(("raw", "expected"), [
        (STANDARD, STANDARD),
        ("11010519491231002x", STANDARD),  # lower-case x upper-cased
        ("  11010519491231002X  ", STANDARD),  # surrounding spaces
        ("110105 19491231 002X", STANDARD),  # spaces inside
        ("110105-1949-1231-002x", STANDARD),  # hyphens
        ("110105–19491231—002X", STANDARD),  # en and em dashes
        ("１１０１０５１９４９１２３１００２Ｘ", STANDARD),  # full-width digits and letter
        ("１１０１０５\u3000１９４９１２３１\u3000００２ｘ", STANDARD),  # ideographic spaces, full-width x
        ("110105\u00a019491231\u00a0002X", STANDARD),  # no-break spaces
        ("\u200b11010519491231002X\ufeff", STANDARD),  # zero-width space and BOM from copy-and-paste
        ("11010519491231002X\n", STANDARD),  # a spreadsheet cell with a trailing line break
        ("\t11010519491231002X\r\n", STANDARD),
    ])
    def test_it_normalises_to_eighteen_ascii_characters(self, raw, expected):
        assert validate_id_number(raw, today=TODAY) == expected

    def test_it_accepts_a_county_code_created_after_the_birth_date(self):
        # 110118 密云区 exists since 2015; a child born in 2010 and registered late carries it.
        number = with_check("11011820100101000")
        with pytest.raises(Exception):  # noqa: B017 - python-stdnum alone would refuse it
            ric.validate(number)
        assert validate_id_number(number, today=TODAY) == number

    def test_it_accepts_a_historic_county_code(self):
        number = with_check("11010319850101001")  # 崇文区, merged into 东城区 in 2010
        assert validate_id_number(number, today=TODAY) == number

    def test_it_accepts_a_birth_date_of_today(self):
        number = with_check("34010220250601001")
        assert validate_id_number(number, today=TODAY) == number

    def test_it_accepts_the_earliest_birth_date(self):
        number = with_check("34010219000101001")
        assert validate_id_number(number, today=TODAY) == number

    def test_it_accepts_matching_birth_date_and_gender(self):
        assert validate_id_number(BOY, birth_date=date(2010, 5, 4), gender="1", today=TODAY) == BOY
        assert validate_id_number(GIRL, birth_date=date(2010, 5, 4), gender="2", today=TODAY) == GIRL

    def test_a_datetime_birth_date_is_compared_by_its_shanghai_date(self):
        # 2010-05-03 20:00 UTC is 2010-05-04 04:00 in Shanghai.
        aware = datetime(2010, 5, 3, 20, 0, tzinfo=ZoneInfo("UTC"))
        assert validate_id_number(BOY, birth_date=aware, today=TODAY) == BOY
        assert validate_id_number(BOY, birth_date=datetime(2010, 5, 4, 23, 59), today=TODAY) == BOY

    @pytest.mark.parametrize("gender", [None, "", "0", "9", "男"])
    def test_a_gender_other_than_1_or_2_is_not_compared(self, gender):
        assert validate_id_number(GIRL, gender=gender, today=TODAY) == GIRL

    def test_gender_given_as_an_int_is_compared(self):
        assert error_of(validate_id_number, GIRL, gender=1, today=TODAY).code == "gender_mismatch"

    def test_a_birth_date_of_another_type_is_a_caller_bug(self):
        with pytest.raises(TypeError):
            validate_id_number(BOY, birth_date="2010-05-04", today=TODAY)

    def test_today_defaults_to_the_current_date(self):
        assert validate_id_number(STANDARD) == STANDARD

    def test_it_is_idempotent(self):
        assert validate_id_number(validate_id_number(" 11010519491231002x ")) == STANDARD


# (input, keyword arguments, expected code, expected fragment of the Chinese message)
INVALID_ID_NUMBERS = [
    (None, {}, "required", "请填写身份证号码"),
    ("", {}, "required", "请填写身份证号码"),
    ("   \u3000 ", {}, "required", "请填写身份证号码"),
    ("\u200b", {}, "required", "请填写身份证号码"),
    ("--", {}, "required", "请填写身份证号码"),
    (b"11010519491231002X", {}, "not_text", "必须是文本"),
    (bytearray(b"1"), {}, "not_text", "必须是文本"),
    (True, {}, "not_text", "必须是文本"),
    (["11010519491231002X"], {}, "not_text", "必须是文本"),
    (object(), {}, "not_text", "必须是文本"),
    (date(2010, 1, 1), {}, "not_text", "必须是文本"),
    (110105194912310020, {}, "number_not_text", "丢失精度"),
    (1.10105194912310e17, {}, "number_not_text", "文本格式"),
    (Decimal("110105194912310020"), {}, "number_not_text", "丢失精度"),
    (float("nan"), {}, "number_not_text", "丢失精度"),
    ("1" * 65, {}, "too_long", "过长"),
    ("💥" * 1000, {}, "too_long", "过长"),
    ("110105491231002", {}, "old_15_digit", "15位旧身份证号码请换领为18位"),
    ("110105 491231 002", {}, "old_15_digit", "15位旧身份证号码请换领为18位"),
    ("12345", {}, "length", "应为18位，当前为5位"),
    ("11010519491231002", {}, "length", "当前为17位"),
    ("11010519491231002X1", {}, "length", "当前为19位"),
    ("G11010519491231002X", {}, "length", "当前为19位"),
    ("11010519491231X02X", {}, "format", "前17位应为数字"),
    ("11010519491231002Y", {}, "format", "最后一位应为数字或X"),
    ("X1010519491231002X", {}, "format", "前17位应为数字"),
    ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", {}, "format", "前17位应为数字"),  # Arabic-Indic digits are not ASCII
    ("1101051949123100_2", {}, "format", "前17位应为数字"),  # int() would accept the underscore
    ("💥" * 18, {}, "format", "前17位应为数字"),
    ("11010519491231002\x00", {}, "invalid_chars", "控制字符"),
    ("1101051949\x071231002X", {}, "invalid_chars", "控制字符"),
    ("11010519491231002X\u202e", {}, "invalid_chars", "控制字符"),  # right-to-left override
    ("\ud80011010519491231002X", {}, "invalid_chars", "控制字符"),  # lone surrogate
    ("\x1c11010519491231002X", {}, "invalid_chars", "控制字符"),  # a "whitespace" control character
    (with_check("34010220100230001"), {}, "birth_date_invalid", "（20100230）不是有效日期"),
    (with_check("34010220101301001"), {}, "birth_date_invalid", "（20101301）不是有效日期"),
    (with_check("34010220100000001"), {}, "birth_date_invalid", "不是有效日期"),
    (with_check("34010220230229001"), {}, "birth_date_invalid", "（20230229）"),  # not a leap year
    (with_check("34010200000101001"), {}, "birth_date_invalid", "不是有效日期"),  # year 0
    (with_check("34010220250602001"), {}, "birth_date_future", "晚于今天"),
    (with_check("34010299991231001"), {}, "birth_date_future", "（9999年12月31日）晚于今天"),
    (with_check("34010218991231001"), {}, "birth_date_too_early", "早于1900年"),
    ("440524188001010014", {}, "birth_date_too_early", "1880年01月01日"),  # GB 11643-1999's other example
    (with_check("99999920100101001"), {}, "region_unknown", "前6位地址码（999999）不是有效的行政区划代码"),
    (with_check("11019920100101001"), {}, "region_unknown", "（110199）"),  # province known, county not
    (with_check("00000020100101001"), {}, "region_unknown", "GB/T 2260"),
    (with_check("83000020100101001"), {}, "region_unknown", "（830000）"),  # a residence permit is not type 1
    ("110105194912310021", {}, "checksum", "校验位不符"),
    (wrong_check("34010220100504123"), {}, "checksum", "校验位不符"),
    (STANDARD[:-1] + "0", {}, "checksum", "请逐位核对号码"),
    (BOY, {"birth_date": date(2010, 5, 5)}, "birth_date_mismatch",
     "出生日期（2010年05月04日）与填写的出生日期（2010年05月05日）不一致"),
    (BOY, {"gender": "2"}, "gender_mismatch", "显示性别为男，与填写的性别（女）不一致"),
    (GIRL, {"gender": "1"}, "gender_mismatch", "显示性别为女，与填写的性别（男）不一致"),
]


class TestInvalidIdNumbers:
    @pytest.mark.parametrize(("raw", "kwargs", "code", "fragment"), INVALID_ID_NUMBERS,
                             ids=[f"{i}-{case[2]}" for i, case in enumerate(INVALID_ID_NUMBERS)])
    def test_it_names_what_is_wrong_in_chinese(self, raw, kwargs, code, fragment):
        error = error_of(validate_id_number, raw, today=TODAY, **kwargs)
        assert error.code == code
        assert fragment in error.messages[0]

    def test_every_code_used_is_documented(self):
        assert {case[2] for case in INVALID_ID_NUMBERS} <= set(ERROR_CODES)

    def test_the_check_digit_is_never_revealed(self):
        wrong = STANDARD[:-1] + "0"
        assert "X" not in error_of(validate_id_number, wrong).messages[0]

    def test_the_date_is_checked_before_the_check_digit(self):
        # A number with an impossible date gets the date message even with a wrong check digit.
        number = wrong_check("34010220100230001")
        assert error_of(validate_id_number, number, today=TODAY).code == "birth_date_invalid"

    def test_the_number_itself_is_checked_before_the_given_birth_date(self):
        error = error_of(validate_id_number, "110105194912310021", birth_date=date(2000, 1, 1))
        assert error.code == "checksum"


class TestEmbeddedFields:
    def test_birth_date_of_a_number(self):
        assert id_number_birth_date(STANDARD) == date(1949, 12, 31)
        assert id_number_birth_date(" ３４０１０２" + BOY[6:].lower()) == date(2010, 5, 4)

    def test_gender_of_a_number(self):
        assert id_number_gender(STANDARD) == "2"
        assert id_number_gender(BOY) == "1"
        assert id_number_gender(GIRL) == "2"

    @pytest.mark.parametrize("func", [id_number_birth_date, id_number_gender])
    @pytest.mark.parametrize("raw", [None, "", "123", "110105194912310021", 12, b"x"])
    def test_an_invalid_number_raises_validation_error(self, func, raw):
        with pytest.raises(ValidationError):
            func(raw)


class TestStudentNumbers:
    def test_j_number_layout(self):
        number = make_j_number(area_code="340102", birth_date=date(2015, 3, 4), sequence=7)
        assert number == "J" + "340102" + "20150304" + "007" + mod_11_2.calc_check_digit("34010220150304007")
        assert len(number) == 19

    def test_l_number_has_the_same_layout(self):
        number = make_l_number(area_code="429004", birth_date=date(2016, 9, 1), sequence=999)
        assert number[0] == "L" and number[1:18] == "42900420160901999"

    def test_made_numbers_validate(self):
        j = make_j_number(area_code="340102", birth_date=date(2015, 3, 4), sequence=0)
        assert validate_student_number(j) == ("J", j)
        assert validate_student_number(j.lower()) == ("J", j)

    @pytest.mark.parametrize("kwargs", [
        {"area_code": "999999"},
        {"area_code": "34010"},
        {"area_code": 340102},
        {"area_code": "３４０１０２"},
        {"birth_date": date(1899, 12, 31)},
        {"birth_date": date(2999, 1, 1)},
        {"birth_date": datetime(2015, 3, 4, 8, 0)},
        {"birth_date": "20150304"},
        {"sequence": -1},
        {"sequence": 1000},
        {"sequence": True},
        {"sequence": "7"},
        {"sequence": 7.0},
    ])
    def test_make_j_number_refuses_bad_arguments_with_value_error(self, kwargs):
        args = {"area_code": "340102", "birth_date": date(2015, 3, 4), "sequence": 7} | kwargs
        with pytest.raises(ValueError):
            make_j_number(**args)

    def test_g_number_is_g_plus_the_id_number(self):
        assert validate_student_number("g" + STANDARD.lower()) == ("G", "G" + STANDARD)
        assert validate_student_number(" Ｇ 110105-19491231-002X ") == ("G", "G" + STANDARD)

    def test_l_number_with_late_registration_code_is_valid(self):
        number = "L" + with_check("11011820100101000")
        assert validate_student_number(number) == ("L", number)

    @pytest.mark.parametrize(("raw", "code", "fragment"), [
        (None, "required", "请填写学籍号"),
        ("", "required", "请填写学籍号"),
        (STANDARD, "prefix", "应以G、L或J开头"),
        ("X" + STANDARD, "prefix", "应以G、L或J开头"),
        ("G" + STANDARD + "1", "length", "应为19位"),
        ("G110105491231002", "length", "当前为16位"),
        ("G110105194912310021", "checksum", "学籍号校验位不符"),
        ("J" + with_check("34010220100230001"), "birth_date_invalid", "学籍号第7–14位"),
        ("J" + with_check("99999920100101001"), "region_unknown", "学籍号前6位地址码"),
        ("L3401022010010100AB", "format", "学籍号前17位应为数字"),
        ("J" + with_check("34010229991231001"), "birth_date_future", "晚于今天"),
        (110105194912310020, "number_not_text", "学籍号被保存成了数字"),
        (b"G", "not_text", "学籍号必须是文本"),
        ("G\x0011010519491231002", "invalid_chars", "控制字符"),
    ])
    def test_bad_student_numbers(self, raw, code, fragment):
        error = error_of(validate_student_number, raw)
        assert (error.code, fragment in error.messages[0]) == (code, True)


class TestOtherIdTypes:
    @pytest.mark.parametrize(("id_type", "raw", "expected"), [
        ("1", " 11010519491231002x", STANDARD),
        ("6", "A123456(3)", "A1234563"),
        ("6", "a123456(3)", "A1234563"),
        ("6", "Ａ１２３４５６（３）", "A1234563"),  # full-width brackets too
        ("6", f"AB987654({hkid_check_digit('AB', '987654')})", "AB987654" + hkid_check_digit("AB", "987654")),
        ("6", "H12345678", "H12345678"),
        ("6", "h 1234567890", "H1234567890"),
        ("6", "K12345678", "K12345678"),
        ("6", with_check("81000020100101001"), with_check("81000020100101001")),
        ("7", "1234567(8)", "12345678"),
        ("7", "5123456 8", "51234568"),
        ("7", "M12345678", "M12345678"),
        ("7", "MA1234567", "MA1234567"),
        ("7", with_check("82000020100101002"), with_check("82000020100101002")),
        ("8", "12345678", "12345678"),
        ("8", "12345678(01)", "1234567801"),
        ("8", "12345678(B)", "12345678B"),
        ("8", with_check("83000020100101001"), with_check("83000020100101001")),
        ("9", "USA110079091501", "USA110079091501"),
        ("9", with_check("93184020100101001"), with_check("93184020100101001")),
        ("A", "e12345678", "E12345678"),
        ("a", "EA1234567", "EA1234567"),
        ("A", "C01X00T47", "C01X00T47"),
        ("Z", None, ""),
        ("Z", "", ""),
        ("Z", "  出生医学证明 O123456789 ", "出生医学证明 O123456789"),
        ("Z", "abc\t\td", "abc d"),
        (" z ", "x", "x"),
    ])
    def test_accepted_formats(self, id_type, raw, expected):
        assert validate_id_for_type(id_type, raw, today=TODAY) == expected

    @pytest.mark.parametrize(("id_type", "raw", "code", "fragment"), [
        ("1", "110105491231002", "old_15_digit", "15位旧身份证号码"),
        ("1", None, "required", "请填写身份证号码"),
        ("6", None, "required", "请填写证件号码"),
        ("6", "A123456(4)", "checksum", "香港身份证号码校验位不符"),
        ("6", "A12345(3)", "format", "香港证件号码格式不正确"),
        ("6", "M12345678", "format", "香港证件号码格式不正确"),
        ("6", with_check("81000020100230001"), "birth_date_invalid", "居住证号码"),
        ("6", wrong_check("81000020100101001"), "checksum", "居住证号码校验位不符"),
        ("7", "2234567(8)", "format", "澳门证件号码格式不正确"),
        ("7", "H12345678", "format", "澳门证件号码格式不正确"),
        ("8", "1234567", "format", "台湾居民证件号码格式不正确"),
        ("8", "A123456789", "format", "台湾居民证件号码格式不正确"),
        ("9", "US110079091501", "format", "永久居留身份证号码格式不正确"),
        ("9", wrong_check("93184020100101001"), "checksum", "永久居留身份证号码校验位不符"),
        ("9", "9318402010010100AX", "format", "前17位应为数字"),
        ("A", "E12", "format", "护照号码格式不正确"),
        ("A", "E1234567/8", "format", "护照号码格式不正确"),
        ("A", "护照12345", "format", "护照号码格式不正确"),
        ("A", 12345678, "number_not_text", "丢失精度"),
        ("Z", "x" * 33, "too_long", "最多32个字符"),
        ("Z", "abc\x00", "invalid_chars", "控制字符"),
        ("Z", b"abc", "not_text", "必须是文本"),
        ("2", "x", "id_type", "未知的身份证件类型"),
        ("", "x", "id_type", "未知的身份证件类型"),
        (None, "x", "id_type", "未知的身份证件类型"),
        (1, STANDARD, "id_type", "未知的身份证件类型"),
    ])
    def test_refused_formats(self, id_type, raw, code, fragment):
        error = error_of(validate_id_for_type, id_type, raw, today=TODAY)
        assert error.code == code
        assert fragment in error.messages[0]

    def test_residence_permit_is_compared_with_birth_date_and_gender(self):
        permit = with_check("81000020100101001")  # sequence 001: male
        assert validate_id_for_type("6", permit, birth_date=date(2010, 1, 1), gender="1") == permit
        assert error_of(validate_id_for_type, "6", permit, gender="2").code == "gender_mismatch"
        assert error_of(validate_id_for_type, "6", permit, birth_date=date(2010, 1, 2)).code == "birth_date_mismatch"

    def test_type_one_applies_the_agreement_checks(self):
        assert error_of(validate_id_for_type, "1", BOY, gender="2").code == "gender_mismatch"

    def test_every_type_of_the_code_table_has_help(self):
        from students.codes import choices

        assert {code for code, _ in choices("id_type")} == set(ID_TYPE_HELP)


class TestHelpers:
    def test_hkid_check_digit_known_example(self):
        assert hkid_check_digit("A", "123456") == "3"

    def test_hkid_check_digit_covers_a_and_zero(self):
        digits = {hkid_check_digit("A", f"{n:06d}") for n in range(200)}
        assert {"A", "0"} <= digits

    @pytest.mark.parametrize(("code", "known"), [
        ("340102", True), ("110103", True), ("429004", True), ("110000", True),
        ("999999", False), ("110199", False), ("34010", False), ("3401020", False), (340102, False),
        ("３４０１０２", False), (None, False),
    ])
    def test_region_code_known(self, code, known):
        assert region_code_known(code) is known


# ---------------------------------------------------------------------------------------------
# Fuzzing: nothing but ValidationError may escape, whatever the input.

FUZZ = settings(max_examples=400, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ID_ALPHABET = "0123456789Xx -—\u3000\u200b１２Ｘｘ()（）\x00\t\n"
anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.decimals(), st.binary(), st.text(),
    st.text(alphabet=ID_ALPHABET, max_size=40), st.text(min_size=60, max_size=2000),
    st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True),
    st.from_regex(r"[GLJgljX][0-9]{17}[0-9Xx]", fullmatch=True),
    st.lists(st.integers()), st.dates(), st.characters().map(lambda c: c * 18),
)
id_types = st.one_of(st.sampled_from(["1", "6", "7", "8", "9", "A", "Z", "a", "z", "2", ""]), st.none(),
                     st.integers(), st.text(max_size=3))


def only_validation_errors(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except ValidationError as error:
        assert error.code in ERROR_CODES
        assert error.messages and all(error.messages)
        return None


@FUZZ
@given(value=anything)
def test_fuzz_validate_id_number_raises_only_validation_error(value):
    result = only_validation_errors(validate_id_number, value)
    if result is not None:
        assert len(result) == 18 and result[:17].isascii() and result[:17].isdigit() and result[17] in "0123456789X"
        assert validate_id_number(result) == result


@FUZZ
@given(value=anything, birth_date=st.one_of(st.none(), st.dates()), gender=st.sampled_from([None, "1", "2", "9"]))
def test_fuzz_validate_id_number_with_agreement(value, birth_date, gender):
    only_validation_errors(validate_id_number, value, birth_date=birth_date, gender=gender)


@FUZZ
@given(id_type=id_types, value=anything)
def test_fuzz_validate_id_for_type_raises_only_validation_error(id_type, value):
    result = only_validation_errors(validate_id_for_type, id_type, value)
    if result is not None:
        assert isinstance(result, str) and len(result) <= 32


@FUZZ
@given(value=anything)
def test_fuzz_validate_student_number_raises_only_validation_error(value):
    result = only_validation_errors(validate_student_number, value)
    if result is not None:
        kind, number = result
        assert kind in "GLJ" and len(number) == 19 and number[0] == kind


@FUZZ
@given(value=anything)
def test_fuzz_embedded_field_helpers_raise_only_validation_error(value):
    only_validation_errors(id_number_birth_date, value)
    only_validation_errors(id_number_gender, value)


@FUZZ
@given(area=st.sampled_from(["340102", "110118", "429004", "110103", "810000"]),
       born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY), sequence=st.integers(0, 999))
def test_property_built_numbers_validate_and_give_back_their_fields(area, born, sequence):
    number = with_check(f"{area}{born:%Y%m%d}{sequence:03d}")
    gender = "1" if sequence % 2 else "2"
    assert validate_id_number(number.lower(), birth_date=born, gender=gender, today=TODAY) == number
    assert id_number_birth_date(number) == born
    assert id_number_gender(number) == gender
    j = make_j_number(area_code=area, birth_date=born, sequence=sequence)
    assert validate_student_number(j) == ("J", j)
    assert validate_student_number("G" + number) == ("G", "G" + number)


@FUZZ
@given(first17=st.from_regex(r"34010220[01][0-9]0[1-9]0[1-9][0-9]{3}", fullmatch=True),
       check=st.sampled_from("0123456789X"))
def test_property_exactly_one_check_digit_is_accepted(first17, check):
    number = first17 + check
    expected = mod_11_2.calc_check_digit(first17)
    try:
        validate_id_number(number, today=date(2099, 1, 1))
        accepted = True
    except ValidationError as error:
        accepted = False
        assert error.code == "checksum"
    assert accepted is (check == expected)
