"""StudentEntry: one student's rules for the page and the import (errors by national column)."""

from datetime import date

import pytest

from schools.models import Region
from students.forms import NATIONAL_COLUMNS, RegionCodes, StudentEntry, StudentForm, entry_data
from students.models import StudentStatus

from .helpers import id_number, make_student

pytestmark = pytest.mark.django_db


def values(school, **overrides):
    school_class = school.classes.order_by("grade__level", "number").first()
    student = {"name": "周小北", "gender": "2", "birth_date": "20180305", "id_type": "1",
               "id_number": id_number(gender="2"), "ethnicity": "01", "nationality": "CHN",
               "hk_macau_taiwan_overseas": "00", "health": "10", "political_status": "13",
               "grade": school_class.grade_id, "school_class": school_class.pk, "study_mode": "1",
               "student_source": "1", "left_behind": "0", "disability_type": "0", "inclusive_class": "0",
               "birthplace_code": "340102000000", "is_only_child": True}
    student.update(overrides)
    members = [{"name": "周大", "relation": "51", "is_guardian": True, "id_type": "1",
                "id_number": id_number(birth=date(1988, 1, 1))},
               {"name": "吴二", "relation": "52"}]
    return student, members


def test_valid_entry_gives_cleaned_values_for_the_services(cast):
    student, members = values(cast.school_a)
    entry = StudentEntry(entry_data(student, members), school=cast.school_a, regions=RegionCodes.preload())
    assert entry.is_valid(), entry.errors_by_column()
    data, cleaned_members = entry.cleaned()
    assert data["birth_date"] == date(2018, 3, 5) and data["birthplace_code"] == "340102"
    assert data["is_only_child"] is True and data["grade"].school == cast.school_a
    assert [m["name"] for m in cleaned_members] == ["周大", "吴二"]


def test_errors_are_reported_by_national_column(cast):
    student, members = values(cast.school_a, id_number="340102201803051231", phone="电话", postal_code="12")
    members[1]["name"] = ""
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid()
    columns = dict(entry.errors_by_column())
    assert set(columns) >= {"身份证件号", "联系电话", "邮政编码", "成员2姓名"}
    assert all(header in NATIONAL_COLUMNS for header in columns)


def test_historic_birthplace_is_allowed_but_not_an_abolished_hukou(cast):
    Region.objects.create(code="342100", name="阜阳地区", level="city", path="340000/342100/", is_active=False,
                          parent=cast.regions["340000"])
    student, members = values(cast.school_a, birthplace_code="342100", hukou_region_code="342100")
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid()
    assert dict(entry.errors_by_column()) == {"户口所在地行政区划": "该行政区划代码已撤销，请填写现行代码"}


def test_grade_and_class_of_another_school_are_refused(cast):
    other_class = cast.school_b.classes.first()
    student, members = values(cast.school_a, grade=other_class.grade_id, school_class=other_class.pk)
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid()
    assert {"年级", "班号"} & set(dict(entry.errors_by_column())) or "grade" in entry.form.errors


def test_senior_entry_mode_must_fit_the_stage(cast):
    student, members = values(cast.school_a, entry_mode="21")
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid() and "入学方式" in dict(entry.errors_by_column())


def test_no_id_number_needs_a_guardian_with_one(cast):
    student, members = values(cast.school_a, id_type="Z", id_number="")
    members[0]["is_guardian"] = False
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid()
    assert ("", "学生没有身份证件号时，须填写至少一位监护人的身份证件号") in entry.errors_by_column()


def test_two_members_are_required(cast):
    student, _ = values(cast.school_a)
    entry = StudentEntry(entry_data(student, []), school=cast.school_a)
    assert not entry.is_valid()
    headers = dict(entry.errors_by_column())
    assert "成员1姓名" in headers and "成员2关系" in headers


def test_preloaded_regions_cost_no_queries(cast, django_assert_max_num_queries):
    regions = RegionCodes.preload()
    student, members = values(cast.school_a, hukou_region_code="340104")
    with django_assert_max_num_queries(4):
        # 1. the grade  2. the class (ModelChoiceField lookups)  3. records holding the ID number
        # (selectors.id_number_holders)  4. the province's first-grade age rule (the record is a
        # first-grader); regions come from the preloaded table
        entry = StudentEntry(entry_data(student, members), school=cast.school_a, regions=regions)
        assert entry.is_valid(), entry.errors_by_column()


# --- the first-grade age (agreements.rules) ------------------------------------------------------


def first_grader(school, birth: date, **overrides):
    """A primary first-grader entering in September 2026 (window by default 2020-09-01 – 10-31)."""
    fields = {"birth_date": birth.isoformat(), "id_number": id_number(birth=birth, gender="2"),
              "entry_month": "202609", **overrides}
    return values(school, **fields)


def test_a_first_grader_too_young_is_refused_next_to_the_birth_date(cast):
    student, members = first_grader(cast.school_a, date(2020, 11, 1))
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid()
    assert list(entry.form.errors) == ["birth_date"]
    message = entry.form.errors["birth_date"][0]
    assert "晚于2020年10月31日" in message and "未达到2026年秋季一年级入学年龄" in message
    assert dict(entry.errors_by_column())["出生日期"] == message


@pytest.mark.parametrize("birth, needs_form", [
    (date(2020, 8, 31), False), (date(2020, 9, 1), True), (date(2020, 10, 31), True), (date(2019, 12, 1), False)])
def test_a_first_grader_up_to_the_window_end_is_accepted(cast, birth, needs_form):
    student, members = first_grader(cast.school_a, birth)
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert entry.is_valid(), entry.errors_by_column()
    assert entry.form.needs_liability_form() is needs_form


def test_the_provinces_own_window_applies(cast):
    from agreements.services import enrolment_age_rule_set

    enrolment_age_rule_set(actor=cast.system_admin, province=cast.regions["340000"],
                           start_month=9, start_day=1, end_month=12, end_day=31)
    student, members = first_grader(cast.school_a, date(2020, 11, 1))
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert entry.is_valid(), entry.errors_by_column()
    assert entry.form.needs_liability_form()


def test_without_an_entry_month_the_current_school_year_is_the_entry_year(cast):
    from django.utils import timezone

    from agreements.rules import school_year_of

    year = school_year_of(timezone.localdate())
    student, members = first_grader(cast.school_a, date(year - 6, 11, 1), entry_month="")
    assert not StudentEntry(entry_data(student, members), school=cast.school_a).is_valid()


def test_other_grades_are_not_judged_by_the_first_grade_rule(cast):
    second = cast.school_a.classes.get(grade__level=2, number=1)
    student, members = first_grader(cast.school_a, date(2020, 11, 1), grade=second.grade_id,
                                    school_class=second.pk)
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert entry.is_valid(), entry.errors_by_column()
    assert not entry.form.needs_liability_form()


def test_a_form_re_bound_to_many_rows_loads_the_provinces_rule_once(cast):
    """The import validates a whole file with one re-bound StudentForm (imports.parsing)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = [entry_data(*first_grader(cast.school_a, birth))
            for birth in (date(2020, 3, 5), date(2020, 9, 5), date(2020, 12, 5))]
    form = StudentForm(rows[0], school=cast.school_a, regions=RegionCodes.preload())
    with CaptureQueriesContext(connection) as queries:
        verdicts = []
        for data in rows:
            form.data, form._errors = data, None
            verdicts.append(form.is_valid())
    assert verdicts == [True, True, False] and "birth_date" in form.errors
    assert sum("enrolmentagerule" in q["sql"].lower() for q in queries.captured_queries) == 1


# --- review of issue 3: entry month, dates, names, long and odd input, ID numbers already held ---------


def entry_for(school, student=None, members=None, *, instance=None):
    default_student, default_members = values(school)
    return StudentEntry(entry_data({**default_student, **(student or {})}, members or default_members),
                        school=school, instance=instance)


def field_errors(entry, field) -> list[str]:
    entry.is_valid()
    return [str(e) for e in entry.form.errors.get(field, [])]


@pytest.mark.parametrize("typed", ["202409", "2024-09", "2024/09", "2024.09", "2024年9月", "2024年09月", "2024-9",
                                   "２０２４０９", "２０２４－０９", " 2024 - 09 "])
def test_entry_month_is_accepted_in_the_usual_spellings_and_stored_as_yyyymm(cast, typed):
    entry = entry_for(cast.school_a, {"entry_month": typed})
    assert entry.is_valid(), entry.errors_by_column()
    assert entry.cleaned()[0]["entry_month"] == "202409"


@pytest.mark.parametrize("typed", ["2024-13", "24-09", "2024年", "九月", "20240901"])
def test_a_wrong_entry_month_says_which_spellings_are_accepted(cast, typed):
    [message] = field_errors(entry_for(cast.school_a, {"entry_month": typed}), "entry_month")
    assert message.startswith("入学年月应为 YYYYMM") and "字符" not in message


def test_an_id_number_longer_than_the_column_gets_one_clear_message(cast):
    [message] = field_errors(entry_for(cast.school_a, {"id_number": "3" * 40}), "id_number")
    assert "18位" in message and "请填写" not in message and "字符" not in message
    student, members = values(cast.school_a)
    members[0]["id_number"] = "3" * 40
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid()
    assert [str(e) for e in entry.family.forms[0].errors["id_number"]] == ["身份证号码应为18位，当前为40位"]


def test_other_id_types_may_not_hold_emoji_or_symbols(cast):
    entry = entry_for(cast.school_a, {"id_type": "Z", "id_number": "军字 第12-34号"})
    assert entry.is_valid(), entry.errors_by_column()
    assert field_errors(entry_for(cast.school_a, {"id_type": "Z", "id_number": "AB😀12"}), "id_number") == [
        "证件号码只能包含字母、数字和连字符"]
    assert field_errors(entry_for(cast.school_a, {"id_type": "Z", "id_number": "AB#12"}), "id_number") == [
        "证件号码只能包含字母、数字和连字符"]


@pytest.mark.parametrize("field", ["name", "current_address", "id_number", "phone"])
def test_a_nul_character_is_refused_as_a_control_character(cast, field):
    assert field_errors(entry_for(cast.school_a, {field: "张\x00三"}), field) == ["不能包含控制字符"]


@pytest.mark.parametrize("typed", ["2018年3月5日", "2018年03月05日", "２０１８－０３－０５", "２０１８０３０５",
                                   "2018-3-5"])
def test_birth_dates_in_chinese_or_full_width_are_accepted(cast, typed):
    entry = entry_for(cast.school_a, {"birth_date": typed})
    assert entry.is_valid(), entry.errors_by_column()
    assert entry.cleaned()[0]["birth_date"] == date(2018, 3, 5)


@pytest.mark.parametrize("typed", ["43164", "五月", "03/05/2018"])
def test_an_unreadable_date_says_which_formats_are_accepted(cast, typed):
    [message] = field_errors(entry_for(cast.school_a, {"birth_date": typed}), "birth_date")
    assert "YYYY-MM-DD 或 YYYYMMDD" in message
    assert ("Excel" in message) == (typed == "43164")


def test_a_too_long_name_says_how_long_it_may_be(cast):
    assert field_errors(entry_for(cast.school_a, {"name": "张" * 60}), "name") == ["最多50个字符（现为60个）"]


@pytest.mark.parametrize(("typed", "message"), [
    ("2018-02-30", "日期不存在：2018年2月只有28天"), ("20190230", "日期不存在：2019年2月只有28天"),
    ("2018年13月1日", "日期不存在：没有13月（2018年）"), ("2016/4/31", "日期不存在：2016年4月只有30天"),
])
def test_a_well_formed_date_not_in_the_calendar_says_so(cast, typed, message):
    assert field_errors(entry_for(cast.school_a, {"birth_date": typed}), "birth_date") == [message]


@pytest.mark.parametrize(("typed", "stored"), [
    ("张 三", "张三"), (" 张\u3000小 明 ", "张小明"), ("John  Smith", "John Smith"), ("José Müller", "José Müller"),
    ("买买提 · 艾力", "买买提·艾力"), ("阿依古丽·买买提", "阿依古丽·买买提"), ("王\u200b芳", "王芳"),
    ("Jean-Pierre Dupont", "Jean-Pierre Dupont"), ("O'Brien", "O'Brien"),
])
def test_names_keep_spaces_between_latin_words_only(cast, typed, stored):
    entry = entry_for(cast.school_a, {"name": typed})
    assert entry.is_valid(), entry.errors_by_column()
    assert entry.cleaned()[0]["name"] == stored


@pytest.mark.parametrize(("typed", "message"), [
    ("张三😀", "姓名不能包含表情符号或特殊符号"), ("张#三", "姓名不能包含表情符号或特殊符号"),
    ("★小明", "姓名不能包含表情符号或特殊符号"), ("张三3", "姓名不能包含数字"),
])
def test_names_with_emoji_symbols_or_digits_are_refused(cast, typed, message):
    assert field_errors(entry_for(cast.school_a, {"name": typed}), "name") == [message]
    student, members = values(cast.school_a)
    members[1]["name"] = typed
    entry = StudentEntry(entry_data(student, members), school=cast.school_a)
    assert not entry.is_valid() and [str(e) for e in entry.family.forms[1].errors["name"]] == [message]


def test_region_codes_accept_full_width_digits(cast):
    entry = entry_for(cast.school_a, {"birthplace_code": "３４０１０２",
                                      "hukou_region_code": "３４０１０２０００００１"})
    assert entry.is_valid(), entry.errors_by_column()
    assert (entry.cleaned()[0]["birthplace_code"], entry.cleaned()[0]["hukou_region_code"]) == ("340102", "340102")


class TestIdNumberAlreadyHeld:
    """The form refuses what the import refuses (selectors.id_number_holders), next to 身份证件号."""

    def number(self):
        return id_number(gender="2")

    def test_another_draft_of_the_school(self, cast):
        number = self.number()
        make_student(cast.registrar_a, cast.school_a, number=number, gender="2")
        assert field_errors(entry_for(cast.school_a, {"id_number": number}), "id_number") == [
            "本校已有该身份证件号的学籍草稿，请勿重复录入"]

    @pytest.mark.parametrize(("status", "label"), [(StudentStatus.PENDING, "待审核"), (StudentStatus.ACTIVE, "在籍")])
    def test_a_live_record_of_the_school_names_its_status(self, cast, status, label):
        number = self.number()
        make_student(cast.registrar_a, cast.school_a, number=number, gender="2", status=status)
        assert field_errors(entry_for(cast.school_a, {"id_number": number}), "id_number") == [
            f"本校已有该身份证件号的学籍（状态：{label}），请勿重复录入"]

    def test_a_live_record_elsewhere_names_the_school_and_status_and_offers_a_transfer(self, cast):
        number = self.number()
        make_student(cast.registrar_b, cast.school_b, number=number, gender="2", status=StudentStatus.ACTIVE)
        entry = entry_for(cast.school_a, {"id_number": number})
        assert field_errors(entry, "id_number") == [
            f"该身份证件号已在{cast.school_b.name}有学籍（状态：在籍），不能重复注册；如学生已转入本校，请发起转学"]
        assert entry.form.has_error("id_number", "id_number_live_elsewhere")

    def test_a_pending_record_elsewhere_offers_no_transfer(self, cast):
        # Review: a record still being registered cannot be transferred yet.
        number = self.number()
        make_student(cast.registrar_b, cast.school_b, number=number, gender="2", status=StudentStatus.PENDING)
        entry = entry_for(cast.school_a, {"id_number": number})
        assert field_errors(entry, "id_number") == [
            f"该身份证件号已在{cast.school_b.name}有学籍（状态：待审核，正在注册审核），不能重复注册；"
            "请与该校核实学生实际就读学校"]
        assert entry.form.has_error("id_number", "id_number_pending_elsewhere")

    def test_a_draft_elsewhere_does_not_count_nor_the_record_being_edited(self, cast):
        number = self.number()
        make_student(cast.registrar_b, cast.school_b, number=number, gender="2")
        assert entry_for(cast.school_a, {"id_number": number}).is_valid()
        mine = make_student(cast.registrar_a, cast.school_a, number=self.number(), gender="2")
        student, members = values(cast.school_a, id_number=mine.id_number)
        entry = StudentEntry(entry_data(student, members, initial_members=0), school=cast.school_a, instance=mine)
        entry.form.is_valid()
        assert "id_number" not in entry.form.errors


def test_errors_of_a_members_hidden_id_are_shown_at_the_top(cast):
    student, members = values(cast.school_a)
    members[0]["id"] = "999999"
    entry = StudentEntry(entry_data(student, members, initial_members=2), school=cast.school_a,
                         instance=make_student(cast.registrar_a, cast.school_a, name="钱小多"))
    assert not entry.is_valid()
    assert any(e.startswith("成员1：") for e in entry.top_errors)
