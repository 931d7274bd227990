"""The synthetic student generator (students/synthetic.py): valid, unique, deterministic, plausible."""

import datetime
import random
from collections import Counter

import pytest
from stdnum.cn import ric

from students import pinyin
from students.codes import ETHNICITY_CHOICES
from students.synthetic import (
    ETHNICITY_WEIGHTS,
    IdNumberAllocator,
    birth_date_for_grade,
    birthplace_valid,
    id_check_digit,
    name_pinyin,
    school_year_of,
    synthetic_student,
    years_of_schooling,
)


def batch(seed: int, n: int = 2000):
    rng = random.Random(seed)
    allocator = IdNumberAllocator()
    return [synthetic_student(rng, allocator=allocator, home_county="340102", other_counties=["340209", "429004"],
                              grade_number=1 + i % 12, school_year=2026) for i in range(n)]


def test_the_same_seed_gives_the_same_students():
    assert batch(7, 200) == batch(7, 200)
    assert batch(7, 200) != batch(8, 200)


def test_id_numbers_are_valid_unique_and_agree_with_gender_and_birth_date():
    students = batch(1)
    assert len({s.id_number for s in students}) == len(students)
    for s in students:
        assert ric.is_valid(s.id_number), s.id_number
        assert s.id_number[6:14] == s.birth_date.strftime("%Y%m%d")
        assert int(s.id_number[16]) % 2 == (1 if s.gender == "1" else 0)


def test_check_digit_matches_the_published_example():
    # GB 11643-1999 appendix example.
    assert id_check_digit("11010519491231002") == "X"


def test_allocator_skips_numbers_already_used():
    rng = random.Random(0)
    taken = [IdNumberAllocator().allocate(random.Random(0), region_code="340102",
                                          birth_date=datetime.date(2015, 3, 1), gender="2")]
    number = IdNumberAllocator(taken).allocate(rng, region_code="340102", birth_date=datetime.date(2015, 3, 1),
                                               gender="2")
    assert number != taken[0]


def test_allocator_says_when_a_day_is_full():
    allocator = IdNumberAllocator()
    rng = random.Random(0)
    for _ in range(499):
        allocator.allocate(rng, region_code="340102", birth_date=datetime.date(2015, 3, 1), gender="2")
    with pytest.raises(ValueError):
        allocator.allocate(rng, region_code="340102", birth_date=datetime.date(2015, 3, 1), gender="2")


def test_a_county_created_after_the_birth_is_not_used_as_birthplace():
    assert not birthplace_valid("340209", 2015)  # 弋江区 has code 340209 only since 2020
    assert birthplace_valid("340209", 2021)
    students = [s for s in batch(2) if s.birth_date.year < 2020]
    assert not any(s.id_number.startswith("340209") for s in students)


def test_birth_dates_fit_the_grade():
    rng = random.Random(0)
    dates = [birth_date_for_grade(rng, grade_number=1, school_year=2026) for _ in range(500)]
    assert min(dates) >= datetime.date(2019, 9, 1)
    assert max(dates) <= datetime.date(2020, 8, 31)
    assert years_of_schooling("junior", 1) == 7
    assert years_of_schooling("junior", 1, junior_years=4) == 6
    assert years_of_schooling("senior", 3) == 12


def test_school_year_starts_in_september():
    assert school_year_of(datetime.date(2026, 8, 31)) == 2025
    assert school_year_of(datetime.date(2026, 9, 1)) == 2026


def test_mix_is_plausible():
    students = batch(3, 5000)
    genders = Counter(s.gender for s in students)
    assert set(genders) == {"1", "2"} and 0.45 < genders["1"] / len(students) < 0.6
    han = sum(s.ethnicity == "01" for s in students) / len(students)
    assert 0.88 < han < 0.94
    assert set(ETHNICITY_WEIGHTS) == {code for code, _ in ETHNICITY_CHOICES}
    assert all(2 <= len(s.name) <= 4 for s in students)


def test_pinyin_reads_surnames_as_surnames():
    assert name_pinyin("曾梓涵") == ("zengzihan", "zzh")
    assert name_pinyin("欧阳一") == ("ouyangyi", "oyy")


def test_pinyin_agrees_with_the_student_records_own_conversion():
    # synthetic.name_pinyin is a per-character cache for speed (the benchmark converts millions);
    # it must give what students.pinyin gives for a record entered by hand.
    for student in batch(4, 3000):
        assert (student.name_pinyin, student.name_initials) == (
            pinyin.name_pinyin(student.name), pinyin.name_initials(student.name)), student.name
