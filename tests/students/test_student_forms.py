"""StudentEntry: one student's rules for the page and the import (errors by national column)."""

from datetime import date

import pytest

from schools.models import Region
from students.forms import NATIONAL_COLUMNS, RegionCodes, StudentEntry, StudentForm, entry_data

from .helpers import id_number

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
    with django_assert_max_num_queries(3):
        # 1. the grade  2. the class (ModelChoiceField lookups)  3. the province's first-grade age
        # rule (the record is a first-grader); regions come from the preloaded table
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
