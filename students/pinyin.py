"""Pinyin of student names, for search and sorting (issue 3).

Format: lower-case letters without tones, syllables joined with nothing ("zhangsan"), ü written ``v``
as input methods type it ("lvxiaoming"); initials are the first letter of each syllable ("zs").
Joined rather than spaced so that a search for "zhangsan" or "zhang san" (see
``normalise_pinyin_query``) finds it with a plain prefix or substring match; the order of joined
strings is the order of the syllables for sorting.

pypinyin does the work; it has no surname mode (mozillazg/python-pinyin issue #297, open), so this
module adds one: the surname is read from ``COMPOUND_SURNAMES`` (checked first) or
``SURNAME_READINGS``, and is converted apart from the given name so that no phrase spans the two
(pypinyin would read 单于飞 as the title chányú + fēi). Only the first one or two characters are a
surname: a 曾 inside a given name keeps pypinyin's reading (céng).

Names written with a middle dot (买买提·艾力, 阿依古丽·吐尔逊, 玛丽·居里) have no Han surname: each part
is converted as it is. Letters are kept (lower case); digits, punctuation, emoji and characters
pypinyin does not know are dropped.
"""

import functools
import re
import unicodedata

from pypinyin import Style, lazy_pinyin

# Two-character surnames (复姓) with their readings. Listed even when pypinyin reads them right, so
# that the surname is split off correctly. 单于 is left out on purpose: today it is almost always the
# surname 单 (shàn) followed by a given name beginning with 于, not the ancient title.
COMPOUND_SURNAMES: dict[str, tuple[str, str]] = {
    "欧阳": ("ou", "yang"), "上官": ("shang", "guan"), "司马": ("si", "ma"), "诸葛": ("zhu", "ge"),
    "夏侯": ("xia", "hou"), "皇甫": ("huang", "fu"), "尉迟": ("yu", "chi"), "万俟": ("mo", "qi"),
    "长孙": ("zhang", "sun"), "澹台": ("tan", "tai"), "宇文": ("yu", "wen"), "慕容": ("mu", "rong"),
    "公孙": ("gong", "sun"), "轩辕": ("xuan", "yuan"), "令狐": ("ling", "hu"), "东方": ("dong", "fang"),
    "端木": ("duan", "mu"), "钟离": ("zhong", "li"), "闻人": ("wen", "ren"), "赫连": ("he", "lian"),
    "南宫": ("nan", "gong"), "公冶": ("gong", "ye"), "宗政": ("zong", "zheng"), "濮阳": ("pu", "yang"),
    "太叔": ("tai", "shu"), "申屠": ("shen", "tu"), "司徒": ("si", "tu"), "司空": ("si", "kong"),
    "司寇": ("si", "kou"), "亓官": ("qi", "guan"), "仉督": ("zhang", "du"), "子车": ("zi", "ju"),
    "颛孙": ("zhuan", "sun"), "巫马": ("wu", "ma"), "公西": ("gong", "xi"), "漆雕": ("qi", "diao"),
    "乐正": ("yue", "zheng"), "壤驷": ("rang", "si"), "公良": ("gong", "liang"), "拓跋": ("tuo", "ba"),
    "夹谷": ("jia", "gu"), "宰父": ("zai", "fu"), "谷梁": ("gu", "liang"), "段干": ("duan", "gan"),
    "百里": ("bai", "li"), "东郭": ("dong", "guo"), "南门": ("nan", "men"), "呼延": ("hu", "yan"),
    "归海": ("gui", "hai"), "羊舌": ("yang", "she"), "微生": ("wei", "sheng"), "梁丘": ("liang", "qiu"),
    "左丘": ("zuo", "qiu"), "东门": ("dong", "men"), "西门": ("xi", "men"), "第五": ("di", "wu"),
    "鲜于": ("xian", "yu"), "闾丘": ("lv", "qiu"), "仲孙": ("zhong", "sun"), "公羊": ("gong", "yang"),
    "淳于": ("chun", "yu"), "叔孙": ("shu", "sun"), "独孤": ("du", "gu"), "呼兰": ("hu", "lan"),
}

# One-character surnames whose surname reading differs from pypinyin's default reading of the
# character (checked against pypinyin 0.55; tests/students/test_pinyin.py holds every entry).
# Sources: 现代汉语词典 (第7版) entries marked 姓, and the common polyphonic-surname lists.
# Not listed because pypinyin already reads them as the surname: 费 fei, 任 ren, 黑 hei (the surname
# is hēi in 现代汉语词典; no standard reading hè), 华 hua, 燕 yan, 沈 shen, 叶 ye, 柏 bai, 郇 huan.
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "覃": "qin", "盖": "ge", "员": "yun", "贠": "yun", "缪": "miao", "乐": "yue", "翟": "zhai",
    "种": "chong", "繁": "po", "隗": "wei", "秘": "bi", "重": "chong", "句": "gou", "藏": "zang",
    "六": "lu", "都": "du", "薄": "bo", "折": "she", "召": "shao", "阚": "kan", "洗": "xian",
    "粘": "nian", "佴": "nai", "乜": "nie", "能": "nai", "长": "chang", "蕃": "pi",
}

# Separators between the parts of ethnic-minority and foreign names: middle dots (· U+00B7, • U+2022,
# ・ U+30FB, ‧ U+2027, ● U+25CF, ∙ U+2219, ⋅ U+22C5) and full stops (NFKC folds full-width ones).
# Spaces are not separators: in a Han name they are typing noise ("曾 小明" is still surname 曾).
_NAME_PARTS = re.compile(r"[\u00b7\u2022\u30fb\u2027\u25cf\u2219\u22c5.]+")
_LETTERS = re.compile(r"[a-z]+")
# CJK unified ideographs: the basic block, extension A and the supplementary planes (ext. B onwards).
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def _non_han(chunk: str) -> list[str]:
    """pypinyin's ``errors`` hook: keep Latin letters (lower case) as one syllable per word."""
    return _LETTERS.findall(chunk.lower())


@functools.lru_cache(maxsize=65536)
def _convert(text: str) -> tuple[str, ...]:
    # Cached: surnames and many given names repeat, and a bulk import asks for each name twice
    # (pinyin and initials); pypinyin costs ~40 µs a call.
    if not text:
        return ()
    return tuple(s for s in lazy_pinyin(text, style=Style.NORMAL, errors=_non_han) if _LETTERS.fullmatch(s))


def name_syllables(name) -> list[str]:
    """The pinyin syllables of ``name`` in order, lower case, no tones, ü as ``v``.

    ``name``: the student's name as written (str; anything else gives []). The first one or two
    characters of a name without separators are read as its surname (module docstring).
    Example: "单田芳" → ["shan", "tian", "fang"]; "买买提·艾力" → ["mai", "mai", "ti", "ai", "li"].
    """
    if not isinstance(name, str):
        return []
    text = unicodedata.normalize("NFKC", name).strip()
    parts = [p.strip() for p in _NAME_PARTS.split(text) if p.strip()]
    if not parts:
        return []
    if len(parts) > 1:
        # A Han first character is read alone here too, so that every name beginning with it
        # begins with one of ``first_syllables``' readings (search relies on it).
        head = parts[0]
        first = [*_convert(head[0]), *_convert(head[1:])] if _HAN.match(head) else list(_convert(head))
        return [*first, *(s for part in parts[1:] for s in _convert(part))]
    text = parts[0]
    if text[:2] in COMPOUND_SURNAMES:
        return [*COMPOUND_SURNAMES[text[:2]], *_convert(text[2:])]
    if text[0] in SURNAME_READINGS:
        return [SURNAME_READINGS[text[0]], *_convert(text[1:])]
    if _HAN.match(text):
        return [*_convert(text[0]), *_convert(text[1:])]
    return list(_convert(text))


def first_syllables(prefix) -> frozenset[str] | None:
    """Every syllable that ``name_pinyin`` of a name beginning with ``prefix`` can begin with.

    ``prefix``: the start of a name as typed in a search ("刘", "欧阳"). The answer follows
    ``name_syllables``: a name's Han first character is read alone, by ``SURNAME_READINGS`` or
    pypinyin, or with the next character as a compound surname; a name with separators reads its
    first character alone by pypinyin. Returns None when ``prefix`` does not start with a Han
    character pypinyin can read (nothing can be said then). Example: "刘" → {"liu"}; "长" →
    {"chang", "zhang"} (长 and 长孙); "单" → {"shan", "dan"} (a surname, or 单 in 单·买买提).
    """
    if not isinstance(prefix, str):
        return None
    text = unicodedata.normalize("NFKC", prefix).strip()
    if not text or not _HAN.match(text) or not _convert(text[0]):
        return None
    first = text[0]
    readings = {_convert(first)[0]}
    if first in SURNAME_READINGS:
        readings.add(SURNAME_READINGS[first])
    readings.update(syllables[0] for compound, syllables in COMPOUND_SURNAMES.items()
                    if compound[0] == first and compound.startswith(text[:2]))
    return frozenset(readings)


def pinyin_range(prefix) -> tuple[str, str] | None:
    """A range (low, high) of ``name_pinyin`` holding every name that begins with ``prefix``:
    low <= name_pinyin < high. None when ``first_syllables`` knows nothing. A search adds it to its
    name condition so that PostgreSQL can read the pinyin index in order from ``low`` instead of
    sorting every match (bench/README.md). Example: "刘" → ("liu", "liv")."""
    readings = first_syllables(prefix)
    if not readings:
        return None
    high = max(readings)
    # Syllables end in a letter below "z" (vowels, n, g, r), so the next string stays in a-z.
    return min(readings), high[:-1] + chr(ord(high[-1]) + 1)


def name_pinyin(name, *, sep: str = "") -> str:
    """Full pinyin of ``name``: "zhangsan" (``sep=" "`` gives "zhang san" for display).

    Returns "" for an empty or non-string name. Used for ``Student.name_pinyin``: search and sorting.
    """
    return sep.join(name_syllables(name))


def name_initials(name) -> str:
    """First letters of the syllables of ``name``: "张三" → "zs", "欧阳娜娜" → "oynn", "" when none."""
    return "".join(s[0] for s in name_syllables(name))


def normalise_pinyin_query(query) -> str:
    """A user's pinyin search text in the stored format: lower case, ü→v, no spaces, apostrophes or
    tone marks ("Lü Xiao'ming" → "lvxiaoming"). Returns "" for non-strings or text without letters."""
    if not isinstance(query, str):
        return ""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", query).lower())
    text = text.replace("u\u0308", "v").replace("u:", "v")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return "".join(_LETTERS.findall(text))
