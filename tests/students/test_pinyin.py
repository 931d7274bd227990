"""Name pinyin for search and sorting: students/pinyin.py (surname readings on top of pypinyin)."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from students.pinyin import (
    COMPOUND_SURNAMES,
    SURNAME_READINGS,
    name_initials,
    name_pinyin,
    name_syllables,
    normalise_pinyin_query,
    pinyin_range,
)


@pytest.mark.parametrize(("name", "pinyin", "initials"), [
    # Surnames pypinyin reads with the character's common reading.
    ("曾小明", "zengxiaoming", "zxm"),
    ("单田芳", "shantianfang", "stf"),
    ("解缙", "xiejin", "xj"),
    ("仇英", "qiuying", "qy"),
    ("区小华", "ouxiaohua", "oxh"),
    ("朴树", "piaoshu", "ps"),
    ("查良镛", "zhaliangyong", "zly"),
    ("覃小兵", "qinxiaobing", "qxb"),
    ("盖聂", "genie", "gn"),
    ("员小丽", "yunxiaoli", "yxl"),
    ("缪小英", "miaoxiaoying", "mxy"),
    ("乐嘉", "yuejia", "yj"),
    ("翟志刚", "zhaizhigang", "zzg"),
    ("种师道", "chongshidao", "csd"),
    ("繁钦", "poqin", "pq"),
    ("隗嚣", "weixiao", "wx"),
    ("秘书", "bishu", "bs"),
    ("长明", "changming", "cm"),
    # Compound surnames.
    ("尉迟恭", "yuchigong", "ycg"),
    ("万俟卨", "moqixie", "mqx"),
    ("长孙无忌", "zhangsunwuji", "zswj"),
    ("欧阳娜娜", "ouyangnana", "oynn"),
    ("乐正绫", "yuezhengling", "yzl"),
    ("司马光", "simaguang", "smg"),
    ("诸葛亮", "zhugeliang", "zgl"),
    # Surnames pypinyin already reads right (no table entry needed).
    ("费玉清", "feiyuqing", "fyq"),
    ("任正非", "renzhengfei", "rzf"),
    ("黑明", "heiming", "hm"),
    ("王重阳", "wangchongyang", "wcy"),
    ("吕小绿", "lvxiaolv", "lxl"),
    # 单于 is read as the surname 单 plus a given name, not as the ancient title.
    ("单于飞", "shanyufei", "syf"),
    # Only the first character is a surname: 曾 inside a given name keeps its ordinary reading.
    ("王曾", "wangceng", "wc"),
    ("曾曾", "zengceng", "zc"),
    # Names of ethnic minorities and foreigners: parts separated by a middle dot, no surname rule.
    ("买买提·艾力", "maimaitiaili", "mmtal"),
    ("阿依古丽•吐尔逊", "ayigulituerxun", "aygltex"),
    ("买买提・艾力", "maimaitiaili", "mmtal"),
    ("买买提 · 艾力", "maimaitiaili", "mmtal"),
    ("单·买买提", "danmaimaiti", "dmmt"),
    # Noise: spaces, full-width characters, letters, digits, emoji, unknown characters.
    (" 曾 小明 ", "zengxiaoming", "zxm"),
    ("张A三", "zhangasan", "zas"),
    ("Tom Lee", "tomlee", "tl"),
    ("ＴＯＭ张", "tomzhang", "tz"),
    ("张三2", "zhangsan", "zs"),
    ("张三😀", "zhangsan", "zs"),
    ("𠮷野", "ye", "y"),
    ("", "", ""),
    ("   ", "", ""),
    ("·", "", ""),
])
def test_pinyin_and_initials(name, pinyin, initials):
    assert name_pinyin(name) == pinyin
    assert name_initials(name) == initials


@pytest.mark.parametrize("surname", sorted(SURNAME_READINGS))
def test_every_single_surname_entry_is_used_and_lower_case_ascii(surname):
    reading = SURNAME_READINGS[surname]
    assert reading.isascii() and reading.isalpha() and reading.islower()
    assert name_syllables(surname + "明")[0] == reading


@pytest.mark.parametrize("surname", sorted(SURNAME_READINGS))
def test_single_surname_entries_correct_what_pypinyin_gets_wrong(surname):
    # An entry that pypinyin already reads right is dead weight: list it in the docstring instead.
    assert lazy_pinyin(surname) != [SURNAME_READINGS[surname]]


@pytest.mark.parametrize("surname", sorted(COMPOUND_SURNAMES))
def test_every_compound_surname_is_split_off(surname):
    assert name_syllables(surname + "明") == [*COMPOUND_SURNAMES[surname], "ming"]


def test_display_form_with_spaces():
    assert name_pinyin("欧阳娜娜", sep=" ") == "ou yang na na"


@pytest.mark.parametrize("value", [None, 5, b"\xe5\xbc\xa0", ["张三"], object()])
def test_non_strings_give_empty_results(value):
    assert name_pinyin(value) == "" and name_initials(value) == "" and name_syllables(value) == []


@pytest.mark.parametrize(("query", "expected"), [
    ("zhangsan", "zhangsan"),
    ("Zhang San", "zhangsan"),
    ("xi'an", "xian"),
    ("Lü Xiaoming", "lvxiaoming"),
    ("lǚ", "lv"),
    ("lu:", "lv"),
    ("Zhāng Sān", "zhangsan"),
    ("ＺＨＡＮＧ", "zhang"),
    ("张三", ""),
    (None, ""),
])
def test_normalise_pinyin_query(query, expected):
    assert normalise_pinyin_query(query) == expected


def test_a_search_query_matches_the_stored_pinyin():
    assert normalise_pinyin_query("Lü Xiao Ming") in name_pinyin("吕小明")


def test_sorting_by_pinyin_follows_syllables():
    names = ["张三", "安娜", "曾小明", "欧阳娜娜", "单田芳"]
    assert sorted(names, key=name_pinyin) == ["安娜", "欧阳娜娜", "单田芳", "曾小明", "张三"]


@settings(max_examples=300, deadline=None, database=None)
@given(name=st.one_of(st.text(max_size=30), st.text(alphabet="曾单解仇区欧阳·张三A ü𠮷", max_size=12)))
def test_fuzz_any_text_gives_lower_case_ascii(name):
    pinyin, initials = name_pinyin(name), name_initials(name)
    assert pinyin == "" or (pinyin.isascii() and pinyin.isalpha() and pinyin.islower())
    assert len(initials) <= len(pinyin)
    assert normalise_pinyin_query(pinyin) == pinyin


@pytest.mark.parametrize("prefix, expected", [
    ("刘", ("liu", "liv")), ("刘明", ("liu", "liv")), ("吕", ("lv", "lw")), ("欧阳", ("ou", "ov")),
    ("曾", ("ceng", "zenh")),  # surname zeng, or 曾 read by pypinyin in a name with a middle dot
    ("A", None), ("", None), ("·张", None), ("𠮷", None), (None, None),
])
def test_pinyin_range_of_a_search_prefix(prefix, expected):
    assert pinyin_range(prefix) == expected


# Characters whose reading depends on the position: surname table, compound surnames, polyphones.
_AWKWARD = "刘长孙单于曾欧阳尉迟乐正区朴覃万俟重庆朝阳·• 张三Aü𠮷豈"


@settings(max_examples=500, deadline=None, database=None)
@example(name="朝阳·阿力")  # pypinyin reads 朝阳 zhaoyang, 朝 alone chao
@example(name="单于飞")
@given(name=st.one_of(st.text(alphabet=_AWKWARD, min_size=1, max_size=8), st.text(min_size=1, max_size=8)))
def test_fuzz_every_name_lies_in_the_range_of_its_prefixes(name):
    # What the search relies on: a name that begins with the text searched lies in its pinyin range.
    pinyin = name_pinyin(name)
    for end in range(1, len(name) + 1):
        bounds = pinyin_range(name[:end])
        if bounds is not None and name.strip() == name:
            assert bounds[0] <= pinyin < bounds[1], (name, name[:end], bounds, pinyin)


@pytest.mark.django_db
def test_migration_recomputes_names_with_a_separator(cast):
    import importlib

    from django.apps import apps

    from students.models import Student

    from .helpers import make_student

    migration = importlib.import_module("students.migrations.0008_recompute_pinyin_of_names_with_separators")
    dotted, plain = (make_student(cast.registrar_a, cast.school_a, name=n) for n in ("朝阳·阿力", "朝小明"))
    Student.objects.filter(pk=dotted.pk).update(name_pinyin="zhaoyangali", name_initials="zyal")  # the old reading
    migration.recompute(apps, None)
    dotted.refresh_from_db()
    assert (dotted.name_pinyin, dotted.name_initials) == ("chaoyangali", "cyal")
    assert Student.objects.get(pk=plain.pk).name_pinyin == name_pinyin("朝小明")
