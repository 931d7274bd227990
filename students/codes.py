"""National code tables, loaded once from the CSV files in students/codes/ (see its README).

Use ``choices("ethnicity_gbt3304")`` for model and form choices and ``name_of`` / ``code_of`` to
translate. Sources: GB/T 2261.1, GB/T 3304, and the national student-status collection rules.
"""

import csv
from functools import cache
from pathlib import Path

CODES_DIR = Path(__file__).resolve().parent / "codes"


@cache
def table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of code table ``name`` (file stem, e.g. "id_type") as dicts with at least code and name."""
    with open(CODES_DIR / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def choices(name: str, **where: str) -> list[tuple[str, str]]:
    """(code, name) pairs of table ``name``, optionally filtered by column values (e.g. stage="senior")."""
    return [(r["code"], r["name"]) for r in table(name) if all(r.get(k) == v for k, v in where.items())]


def name_of(name: str, code: str) -> str:
    """The display name of ``code`` in table ``name``; "" when unknown."""
    return next((r["name"] for r in table(name) if r["code"] == code), "")


def code_of(name: str, value: str) -> str | None:
    """The code for ``value`` given as a code, a current name or a former name; None when unknown."""
    value = (value or "").strip()
    for r in table(name):
        if value in (r["code"], r["name"]) or (r.get("former_name") and value == r["former_name"]):
            return r["code"]
    return None


# Students carry gender 1 or 2 only (the national form); 0 and 9 exist in GB/T 2261.1 for other uses.
GENDER_CHOICES = [(c, n) for c, n in choices("gender_gbt2261_1") if c in ("1", "2")]
ETHNICITY_CHOICES = choices("ethnicity_gbt3304")
ID_TYPE_CHOICES = choices("id_type")
HUKOU_NATURE_CHOICES = choices("hukou_nature")
HK_MACAU_TAIWAN_CHOICES = choices("hk_macau_taiwan_overseas")
HEALTH_CHOICES = choices("health")
POLITICAL_STATUS_CHOICES = choices("political_status")
ENTRY_MODE_CHOICES = choices("entry_mode")
STUDY_MODE_CHOICES = choices("study_mode")
LEFT_BEHIND_CHOICES = choices("left_behind")
COMMUTE_MODE_CHOICES = choices("commute_mode")
BLOOD_TYPE_CHOICES = choices("blood_type")
DISABILITY_TYPE_CHOICES = choices("disability_type")
INCLUSIVE_CLASS_CHOICES = choices("inclusive_class")
STUDENT_SOURCE_CHOICES = choices("student_source")
FAMILY_RELATION_CHOICES = choices("family_relation")


@cache
def nationality_choices() -> tuple[tuple[str, str], ...]:
    """GB/T 2659 (= ISO 3166-1) alpha-3 codes with Chinese names, from pycountry's maintained list.

    CHN comes first (nearly every student); the rest follow in code order. Taiwan, Hong Kong and
    Macau are regions, not nationalities, in this field (their residents are CHN with an
    港澳台侨外 code), so TWN, HKG and MAC are left out.
    """
    import gettext

    import pycountry

    try:
        zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"]).gettext
    except OSError:  # no Chinese catalogue shipped: English names still validate
        def zh(text):
            return text
    rows = [(c.alpha_3, zh(c.name)) for c in pycountry.countries if c.alpha_3 not in ("TWN", "HKG", "MAC")]
    rows.sort(key=lambda r: (r[0] != "CHN", r[0]))
    return tuple(rows)
