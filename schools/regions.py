"""Loading GB/T 2260 administrative divisions into ``Region`` rows.

The source is python-stdnum's ``stdnum/cn/loc.dat`` (compiled from the Chinese Wikipedia lists of
行政区划代码). Its format, one unit per line under a province line::

    34 province="安徽省"
      0100 county="合肥市"
      0102 county="[1983-2001]东市区,[2002-]瑶海区"
      0103 county="[-2010]崇文区"

The four digits after the province prefix are the prefecture (2) and county (2) parts of the code;
each name may carry ``[from-to]`` years of validity (an open end means "still in use"; no bracket
means "in use through the whole period the list covers").

Depth follows DESIGN.md §3, never a fixed four levels: pseudo-units (市辖区, 县 in municipalities,
省直辖县级行政单位, …) are grouping codes, not units, so their children hang on the next real
ancestor: 东城区 110101 sits directly under 北京市 110000, 仙桃市 429004 directly under 湖北省 420000.
"""

import re
from dataclasses import dataclass
from importlib import resources

from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .models import Region
from .services import region_path

# Grouping codes that are not administrative units (GB/T 2260 uses them to reserve code ranges):
# 市辖区 (a city's districts), 县 (a municipality's counties, before they became districts),
# 市 (重庆's county-level cities 1997–2006), 市区 (a city's urban area before 1983) and the
# 省/自治区直辖县级行政单位 (xx90xx) group of province-governed county-level units.
PSEUDO_NAMES = frozenset({
    "市辖区", "县", "市", "市区",
    "省直辖县级行政单位", "省直辖县级行政区划", "省直辖行政单位",
    "自治区直辖县级行政单位", "自治区直辖县级行政区划",
})

# Lines of loc.dat that do not match the official code list. Each entry replaces the fields it
# names. Keep this list short, and give each entry its source.
OVERRIDES: dict[str, dict] = {
    # 随州市 became a prefecture-level city with code 421300 in 2000 (国函〔2000〕39号; GB/T 2260
    # lists 421303 曾都区 and 421381 广水市 under 421300 since then). loc.dat still lists the old
    # county-level code without an end year.
    "429001": {"is_active": False, "valid_to": 2000},
    # 神农架林区 is a province-governed unit with code 429021 (国函字〔1983〕164号 made it
    # 省直辖; GB/T 2260 current list). The old prefecture-style codes 422900 林区 / 422921 are
    # listed without an end year in loc.dat; the year of the code change is not established.
    "422900": {"is_active": False},
    "422921": {"is_active": False},
    # Names given in traditional characters in loc.dat's province line (the 810000/820000 county
    # line carries the simplified name; GB/T 2260 writes them simplified).
    "810000": {"name": "香港特别行政区"},
    "820000": {"name": "澳门特别行政区"},
}

LEVEL_ORDER = {Region.Level.PROVINCE: 0, Region.Level.CITY: 1, Region.Level.COUNTY: 2}
COMPARED_FIELDS = ("name", "level", "parent_id", "path", "is_active", "valid_from", "valid_to")
CREATE_REASON = "导入行政区划（GB/T 2260）"
UPDATE_REASON = "更新行政区划（GB/T 2260）"

_PROVINCE_LINE = re.compile(r'^(\d{2}) province="(.*)"$')
_UNIT_LINE = re.compile(r'^\s+(\d{4}) county="(.*)"$')
_SPAN = re.compile(r"^\[(\d*)-(\d*)\](.*)$")


@dataclass(frozen=True)
class Span:
    """One name of a code with the years it was in use (None = open end)."""

    start: int | None
    end: int | None
    name: str


@dataclass(frozen=True)
class RegionRecord:
    """A unit to load: the fields of ``Region`` with ``parent_code`` instead of the parent row."""

    code: str
    name: str
    level: str
    parent_code: str | None
    is_active: bool
    valid_from: int | None
    valid_to: int | None


@dataclass(frozen=True)
class RegionLoadResult:
    """What ``regions_load`` did: rows created, updated and left as they were."""

    created: int
    updated: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        """A one-line Chinese report for the command output."""
        if not self.changed:
            return f"行政区划已是最新：无变化（共 {self.unchanged} 条）"
        return f"行政区划已导入：新增 {self.created} 条，更新 {self.updated} 条，未变 {self.unchanged} 条"


def read_loc_dat() -> str:
    """The text of python-stdnum's GB/T 2260 data file (stdnum/cn/loc.dat)."""
    return (resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")


def parse_spans(value: str) -> list[Span]:
    """Split a loc.dat name value ("[1983-2001]东市区,[2002-]瑶海区") into spans, oldest first."""
    spans = []
    for part in value.split(","):
        match = _SPAN.match(part)
        if match:
            start, end, name = match.groups()
            spans.append(Span(int(start) if start else None, int(end) if end else None, name))
        else:
            spans.append(Span(None, None, part))
    return spans


def parse_loc_dat(text: str) -> dict[str, list[Span]]:
    """Map each 6-digit code in loc.dat ``text`` to its spans. Province lines give ``xx0000``;
    the province's own "0000" line, when present, replaces it (it carries the years)."""
    codes: dict[str, list[Span]] = {}
    province = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if match := _PROVINCE_LINE.match(line):
            province = match.group(1)
            codes[province + "0000"] = [Span(None, None, match.group(2))]
        elif (match := _UNIT_LINE.match(line)) and province:
            codes[province + match.group(1)] = parse_spans(match.group(2))
        else:
            raise ValueError(f"无法解析 loc.dat 行：{line!r}")
    return codes


def is_pseudo(spans: list[Span]) -> bool:
    """True when the code's latest name is a grouping code (PSEUDO_NAMES), not a unit."""
    return spans[-1].name in PSEUDO_NAMES


def _level(code: str) -> str:
    if code.endswith("0000"):
        return Region.Level.PROVINCE
    if code.endswith("00"):
        return Region.Level.CITY
    return Region.Level.COUNTY


def _record(code: str, spans: list[Span], units: dict[str, list[Span]]) -> RegionRecord:
    real = [s for s in spans if s.name not in PSEUDO_NAMES]
    level = _level(code)
    if level == Region.Level.PROVINCE:
        parent = None
    elif level == Region.Level.CITY or code[:4] + "00" not in units:
        parent = code[:2] + "0000"
    else:
        parent = code[:4] + "00"
    active = real[-1].end is None
    starts = [s.start for s in real]
    record = RegionRecord(
        code=code, name=real[-1].name, level=level, parent_code=parent, is_active=active,
        valid_from=None if None in starts else min(starts), valid_to=None if active else real[-1].end,
    )
    return RegionRecord(**{**record.__dict__, **OVERRIDES.get(code, {})})


def region_records(text: str | None = None) -> list[RegionRecord]:
    """The units in loc.dat (``text``, default the installed file), provinces first, pseudo-units left out.

    Each unit's parent is the nearest real ancestor: its prefecture ``xxyy00`` when that is a unit,
    otherwise its province ``xx0000``. Overrides from ``OVERRIDES`` are applied.
    """
    codes = parse_loc_dat(read_loc_dat() if text is None else text)
    units = {code: spans for code, spans in codes.items() if not is_pseudo(spans)}
    records = [_record(code, spans, units) for code, spans in units.items()]
    return sorted(records, key=lambda r: (LEVEL_ORDER[r.level], r.code))


def _build(record: RegionRecord, rows: dict[str, Region]) -> Region:
    region = Region(code=record.code, name=record.name, level=record.level,
                    parent=rows.get(record.parent_code), is_active=record.is_active,
                    valid_from=record.valid_from, valid_to=record.valid_to)
    region.path = region_path(region)
    return region


@transaction.atomic
def regions_load(*, actor=None, text: str | None = None) -> RegionLoadResult:
    """Create or update ``Region`` rows from GB/T 2260 data (python-stdnum's loc.dat, or ``text``).

    Idempotent: rows that already match are left alone, so a second run writes nothing. Rows in
    the database but not in the data are kept (never deleted: schools and old ID numbers refer to
    them). History rows are written in bulk with ``actor`` (None for the command) and a reason.
    Returns the counts. Raises ValueError when the data file has a line it cannot parse.
    """
    existing = {r.code: r for r in Region.objects.all()}
    rows: dict[str, Region] = {}
    to_create, to_update = [], []
    for record in region_records(text):
        wanted = _build(record, rows)
        current = existing.get(record.code)
        if current is None:
            to_create.append(wanted)
            rows[record.code] = wanted
        elif any(getattr(current, f) != getattr(wanted, f) for f in COMPARED_FIELDS):
            for field in COMPARED_FIELDS:
                setattr(current, field, getattr(wanted, field))
            to_update.append(current)
            rows[record.code] = current
        else:
            rows[record.code] = current
    if to_create:
        bulk_create_with_history(to_create, Region, batch_size=1000, default_user=actor,
                                 default_change_reason=CREATE_REASON)
    if to_update:
        bulk_update_with_history(to_update, Region, [f for f in COMPARED_FIELDS if f != "parent_id"] + ["parent"],
                                 batch_size=1000, default_user=actor, default_change_reason=UPDATE_REASON)
    return RegionLoadResult(created=len(to_create), updated=len(to_update),
                            unchanged=len(rows) - len(to_create) - len(to_update))
