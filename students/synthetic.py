"""Synthetic student data for the demo and the benchmark (pure functions, no database).

Everything is drawn from a ``random.Random`` the caller seeds, so the same seed gives the same
students. Frequencies are rounded public figures, good enough to make lists and reports look like
a real school, not statistics:

- surnames: the most frequent surnames of 公安部《2020年全国姓名报告》 (王 ≈ 7.1 %, 李 ≈ 7.0 %, …);
- given names: characters popular for children born 2005–2020 (the same report's top lists);
- ethnicity: the population of each group in the 第七次全国人口普查 (2020), in 10,000s (汉族 ≈ 91 %);
- gender: about 113 boys to 100 girls, the sex ratio at birth of those years;
- age: first grade at 6 (children who turn 6 by August 31 start school on September 1,
  《义务教育法》 art. 11 and the provincial cut-off date most provinces use).

ID numbers follow GB 11643-1999: 6-digit GB/T 2260 county code of the birthplace, birth date
YYYYMMDD, 3-digit order code (odd for men, even for women) and the ISO 7064 MOD 11-2 check digit
(python-stdnum's ``cn.ric.calc_check_digit``).
"""

import datetime
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from pypinyin import lazy_pinyin
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

# (surname, share in per-ten-thousand), 公安部《2020年全国姓名报告》, rounded.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 710), ("李", 700), ("张", 650), ("刘", 540), ("陈", 460), ("杨", 310), ("黄", 230),
    ("赵", 220), ("吴", 200), ("周", 190), ("徐", 160), ("孙", 150), ("马", 140), ("朱", 130),
    ("胡", 130), ("郭", 110), ("何", 110), ("林", 100), ("罗", 90), ("高", 90), ("郑", 80),
    ("梁", 80), ("谢", 70), ("宋", 70), ("唐", 70), ("许", 60), ("韩", 60), ("冯", 60), ("邓", 60),
    ("曹", 60), ("彭", 50), ("曾", 50), ("肖", 50), ("田", 50), ("董", 50), ("袁", 50), ("潘", 40),
    ("于", 40), ("蒋", 40), ("蔡", 40), ("余", 40), ("杜", 40), ("叶", 40), ("程", 40), ("苏", 40),
    ("魏", 40), ("吕", 40), ("丁", 40), ("任", 30), ("沈", 30), ("姚", 30), ("卢", 30), ("姜", 30),
    ("崔", 30), ("钟", 30), ("谭", 30), ("陆", 30), ("汪", 30), ("范", 30), ("金", 30), ("石", 30),
    ("廖", 30), ("贾", 30), ("夏", 30), ("韦", 30), ("付", 30), ("方", 30), ("白", 20), ("邹", 20),
    ("孟", 20), ("熊", 20), ("秦", 20), ("邱", 20), ("江", 20), ("尹", 20), ("薛", 20), ("闫", 20),
    ("段", 20), ("雷", 20), ("侯", 20), ("龙", 20), ("史", 20), ("陶", 20), ("黎", 20), ("贺", 20),
    ("顾", 20), ("毛", 20), ("郝", 20), ("龚", 20), ("邵", 20), ("万", 20), ("钱", 20), ("严", 20),
    ("欧阳", 3), ("诸葛", 1), ("司马", 1), ("上官", 1),
)

# Characters popular in given names of children born 2005–2020.
GIVEN_CHARS_MALE = tuple("子梓浩宇轩睿泽俊博一晨铭杰辰航昊然文豪阳明鑫瑞凯嘉天宸逸诚哲皓锦煜奕祺霖恒翔旭磊毅鹏程")
GIVEN_CHARS_FEMALE = tuple("子梓欣涵雨可诗思一佳梦怡悦琪萱妍语彤馨雅依婷琳婉若晴瑶菲玥雪紫安沐芊嘉艺颖晓蕊")

# Readings that differ when the character is a surname (pypinyin reads the common word).
SURNAME_PINYIN = {"曾": "zeng", "单": "shan", "仇": "qiu", "解": "xie", "区": "ou", "查": "zha"}

# GB/T 3304 code → population in the 2020 census, in 10,000s (97 其他 = 未识别民族,
# 98 = 外国人加入中国籍). Source: 第七次全国人口普查公报, 国家统计局 2021.
ETHNICITY_WEIGHTS: dict[str, float] = {
    "01": 128631, "02": 629, "03": 1138, "04": 706, "05": 1177, "06": 1107, "07": 983, "08": 1957,
    "09": 358, "10": 170, "11": 1042, "12": 350, "13": 331, "14": 209, "15": 959, "16": 173,
    "17": 156, "18": 133, "19": 160, "20": 76, "21": 43, "22": 75, "23": 0.35, "24": 50, "25": 50,
    "26": 77, "27": 32, "28": 16, "29": 20, "30": 28, "31": 13, "32": 28, "33": 31, "34": 13,
    "35": 17, "36": 12, "37": 68, "38": 19, "39": 4.3, "40": 4.5, "41": 5.0, "42": 3.7, "43": 1.3,
    "44": 1.6, "45": 3.4, "46": 2.2, "47": 2.4, "48": 1.5, "49": 3.3, "50": 0.35, "51": 0.7,
    "52": 0.9, "53": 0.5, "54": 1.1, "55": 0.4, "56": 2.6, "97": 84, "98": 0.16,
}
MALE_SHARE = 113 / 213
SINGLE_CHAR_GIVEN_NAME_SHARE = 0.2
FIRST_GRADE_AGE = 6

_SURNAME_LIST = [s for s, _ in SURNAMES]
_SURNAME_CUM = list(accumulate(w for _, w in SURNAMES))
_ETHNICITY_LIST = list(ETHNICITY_WEIGHTS)
_ETHNICITY_CUM = list(accumulate(ETHNICITY_WEIGHTS.values()))


@dataclass(frozen=True)
class SyntheticStudent:
    """One synthetic person: name with pinyin, gender "1"/"2", birth date, ethnicity code, ID number."""

    name: str
    name_pinyin: str
    name_initials: str
    gender: str
    birth_date: datetime.date
    ethnicity: str
    id_number: str


def school_year_of(today: datetime.date) -> int:
    """The calendar year in which the school year containing ``today`` began (September 1)."""
    return today.year if today.month >= 9 else today.year - 1


def years_of_schooling(stage: str, level: int, junior_years: int = 3) -> int:
    """The overall grade (1 = primary first grade … 12 = senior third grade) of ``level`` in ``stage``.

    ``junior_years`` is the school's 初中学制 (4 under the 5-4 system, where junior starts after
    primary grade 5). Raises KeyError for an unknown stage.
    """
    before = {"primary": 0, "junior": 9 - junior_years, "senior": 9}[stage]
    return before + level


def birth_date_for_grade(rng: random.Random, *, grade_number: int, school_year: int) -> datetime.date:
    """A birth date for a child in overall grade ``grade_number`` (1–12) during the school year
    starting in ``school_year``: born between September 1 and August 31 of the year that makes
    them 6 when they entered first grade."""
    entry_year = school_year - (grade_number - 1)
    first = datetime.date(entry_year - FIRST_GRADE_AGE - 1, 9, 1)
    last = datetime.date(entry_year - FIRST_GRADE_AGE, 8, 31)
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


def random_gender(rng: random.Random) -> str:
    """"1" (男) or "2" (女), GB/T 2261.1, with the sex ratio of MALE_SHARE."""
    return "1" if rng.random() < MALE_SHARE else "2"


def random_ethnicity(rng: random.Random) -> str:
    """A GB/T 3304 ethnicity code drawn with census weights (汉族 "01" about 91 %)."""
    return rng.choices(_ETHNICITY_LIST, cum_weights=_ETHNICITY_CUM)[0]


def random_name(rng: random.Random, gender: str) -> str:
    """A Chinese full name: weighted surname plus one or two given-name characters for ``gender``."""
    surname = rng.choices(_SURNAME_LIST, cum_weights=_SURNAME_CUM)[0]
    chars = GIVEN_CHARS_MALE if gender == "1" else GIVEN_CHARS_FEMALE
    count = 1 if rng.random() < SINGLE_CHAR_GIVEN_NAME_SHARE else 2
    return surname + "".join(rng.choice(chars) for _ in range(count))


@cache
def _char_pinyin(char: str) -> str:
    return lazy_pinyin(char)[0]


def name_pinyin(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of ``name`` in lower case without tones, e.g. ("zhangzihan", "zzh").

    Surnames with a special reading (曾 zeng) are read as surnames. Same result as students.pinyin
    for the names made here (a test checks it), but cached per character: the benchmark converts
    millions of names and students.pinyin takes ~0.15 ms per name.
    """
    surname = next((s for s in _SURNAME_LIST if len(s) == 2 and name.startswith(s)), name[:1])
    surname_syllables = [SURNAME_PINYIN[surname]] if surname in SURNAME_PINYIN else [
        _char_pinyin(c) for c in surname]
    syllables = surname_syllables + [_char_pinyin(c) for c in name[len(surname):]]
    return "".join(syllables), "".join(s[0] for s in syllables)


@cache
def birthplace_valid(code: str, year: int) -> bool:
    """True when GB/T 2260 county ``code`` was in use in ``year`` (python-stdnum's data), so an ID
    number with that birthplace and birth year passes ``stdnum.cn.ric.validate``."""
    try:
        ric.get_birth_place(f"{code}{year}0101000X")
    except ValidationError:
        return False
    return True


def id_check_digit(body17: str) -> str:
    """ISO 7064 MOD 11-2 check digit ("0"–"9" or "X") of the first 17 digits (GB 11643-1999)."""
    return ric.calc_check_digit(body17 + "X")  # stdnum expects the check position to be present


class IdNumberAllocator:
    """Hands out unique 18-character ID numbers; remembers what it gave and what ``used`` holds."""

    def __init__(self, used: Iterable[str] = ()):
        self._used = {int(n[:17]) for n in used if len(n) == 18 and n[:17].isdigit()}

    def allocate(self, rng: random.Random, *, region_code: str, birth_date: datetime.date, gender: str) -> str:
        """A new valid ID number for a person born in ``region_code`` on ``birth_date``.

        The order code is odd for gender "1" and even for "2". Raises ValueError when all 500
        order codes of that place, day and gender are taken.
        """
        prefix = int(region_code + birth_date.strftime("%Y%m%d")) * 1000
        parity = 1 if gender == "1" else 0
        for _ in range(20):
            order = rng.randrange(parity or 2, 1000, 2)
            if prefix + order not in self._used:
                break
        else:
            order = next((o for o in range(parity or 2, 1000, 2) if prefix + o not in self._used), None)
            if order is None:
                raise ValueError("该出生地与出生日期的顺序码已用尽")
        self._used.add(prefix + order)
        body = f"{prefix + order:017d}"
        return body + id_check_digit(body)


def birthplace_for(rng: random.Random, *, home: str, others: Sequence[str] = (), year: int,
                   moved_share: float = 0.1) -> str:
    """The birthplace county: ``home`` usually, one of ``others`` for ``moved_share`` of children,
    and always a code in use in the birth ``year``. Raises ValueError when none was."""
    candidates = [rng.choice(others), home] if others and rng.random() < moved_share else [home]
    for code in candidates:
        if birthplace_valid(code, year):
            return code
    valid = [c for c in others if birthplace_valid(c, year)]
    if not valid:
        raise ValueError(f"{home} 及备选行政区划在 {year} 年均未启用")
    return rng.choice(valid)


def synthetic_student(rng: random.Random, *, allocator: IdNumberAllocator, home_county: str,
                      grade_number: int, school_year: int, other_counties: Sequence[str] = ()) -> SyntheticStudent:
    """One synthetic student of overall grade ``grade_number`` (1–12) at a school in ``home_county``.

    ``other_counties`` are birthplaces for children born elsewhere (and the fallback when the
    home county code did not exist yet in the birth year). The ID number is unique within
    ``allocator`` and valid for ``stdnum.cn.ric.is_valid``.
    """
    gender = random_gender(rng)
    name = random_name(rng, gender)
    birth_date = birth_date_for_grade(rng, grade_number=grade_number, school_year=school_year)
    ethnicity = random_ethnicity(rng)
    region_code = birthplace_for(rng, home=home_county, others=other_counties, year=birth_date.year)
    id_number = allocator.allocate(rng, region_code=region_code, birth_date=birth_date, gender=gender)
    pinyin, initials = name_pinyin(name)
    return SyntheticStudent(name=name, name_pinyin=pinyin, name_initials=initials, gender=gender,
                            birth_date=birth_date, ethnicity=ethnicity, id_number=id_number)
