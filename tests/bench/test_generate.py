"""The benchmark generator's core (bench/dataset.py) on a small scale, on the real regions."""

import datetime
import random
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from stdnum.cn import ric

from bench.dataset import CHANGE_REASON, DatasetError, _Planner, _units, dataset_generate
from schools.models import Grade, Region, School, SchoolClass
from students.models import Student, StudentStatus
from students.synthetic import years_of_schooling

TODAY = datetime.date(2026, 10, 1)


@pytest.fixture
def regions(db):
    call_command("load_regions", stdout=StringIO())


def generated_students():
    # The test database may already hold the shared cast (tests/cast.py): look at generated schools only.
    return Student.objects.filter(school__school_code__startswith="9")


@pytest.fixture
def generated(regions):
    return dataset_generate(province_code="340000", students=500, seed=3, today=TODAY, schools_per_chunk=2)


def test_it_places_exactly_the_students_asked_for(generated):
    assert generated.students == generated_students().count() == 500
    assert Student.history.filter(history_change_reason=CHANGE_REASON).count() == 500
    assert set(generated_students().values_list("status", flat=True)) == {StudentStatus.ACTIVE}


def test_classes_hold_40_to_50_students_except_the_last(generated):
    classes = SchoolClass.objects.filter(school__school_code__startswith="9").order_by("pk")
    sizes = [school_class.students.count() for school_class in classes]
    assert sizes and all(40 <= size <= 50 for size in sizes[:-1])
    assert 1 <= sizes[-1] <= 50


def test_id_numbers_are_valid_unique_and_both_genders_appear(generated):
    rows = list(generated_students().values_list("id_number", "student_number", "gender"))
    assert len({r[0] for r in rows}) == len(rows)
    assert all(ric.is_valid(id_number) and student_number == "G" + id_number for id_number, student_number, _ in rows)
    assert set(Counter(r[2] for r in rows)) == {"1", "2"}


def test_ages_match_the_grade(generated):
    for student in generated_students().select_related("grade", "school"):
        grade_number = years_of_schooling(student.grade.stage, student.grade.level)
        entry_year = 2026 - grade_number + 1
        assert datetime.date(entry_year - 7, 9, 1) <= student.birth_date <= datetime.date(entry_year - 6, 8, 31)


def test_schools_hang_on_real_counties_with_codes_apart_from_the_demo(generated):
    for school in School.objects.filter(school_code__startswith="9").select_related("region", "authority"):
        assert school.school_code.startswith("9") and school.school_code[1:7] == school.region_id
        assert school.path == school.region.path + school.school_code + "/"
        assert school.region.is_active and school.province_code == "34"
        assert school.region.path.startswith(school.authority.path)
        assert Grade.objects.filter(school=school).count() == sum(school.years_of(s) for s in school.stages())
    for student in generated_students().select_related("school")[:50]:
        assert (student.school_path, student.province_code) == (student.school.path, "34")


def test_the_planner_spreads_schools_over_counties_and_stages(regions):
    units = _units(Region.objects.get(code="340000"))
    assert len(units) > 100 and all(u.code.startswith("34") and u.is_active for u in units)
    planner = _Planner(random.Random(1), units, students=10**9)
    schools = [planner.school()[0] for _ in range(300)]
    assert len({s.region_id for s in schools}) > 50
    assert Counter(s.stage for s in schools).keys() == {"primary", "nine_year", "junior", "senior"}
    assert len({s.school_code for s in schools}) == 300
    for school in schools:
        if school.stage == School.Stage.SENIOR:
            assert school.authority.level == "city" or school.authority == school.region


def test_a_second_run_refuses_without_reset_and_replaces_with_it(generated):
    with pytest.raises(DatasetError, match="--reset"):
        dataset_generate(province_code="340000", students=100, today=TODAY)
    again = dataset_generate(province_code="340000", students=120, seed=4, reset=True, today=TODAY)
    assert again.deleted == 500
    assert generated_students().count() == Student.history.filter(history_change_reason=CHANGE_REASON).count() == 120


def test_it_refuses_without_regions(db):
    with pytest.raises(DatasetError, match="load_regions"):
        dataset_generate(province_code="110000", students=10)  # not in the shared test cast either
