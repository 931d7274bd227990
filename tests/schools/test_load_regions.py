"""load_regions on the real python-stdnum GB/T 2260 data (DESIGN.md §3)."""

from io import StringIO

import pytest
from django.core.management import call_command

from schools.models import Region
from schools.regions import OVERRIDES, PSEUDO_NAMES, parse_spans, region_records


@pytest.fixture
def loaded(db):
    out = StringIO()
    call_command("load_regions", stdout=out)
    return out.getvalue()


def test_it_reports_what_it_created(loaded):
    assert "新增" in loaded
    assert Region.objects.count() > 6000


def test_municipality_districts_sit_directly_under_the_municipality(loaded):
    assert Region.objects.get(code="110101").parent_id == "110000"
    assert Region.objects.get(code="110101").name == "东城区"
    beijing_districts = Region.objects.filter(is_active=True, parent_id="110000")
    assert beijing_districts.count() == 16
    assert set(beijing_districts.values_list("level", flat=True)) == {Region.Level.COUNTY}
    assert Region.objects.get(code="500101").parent_id == "500000"


def test_province_governed_cities_sit_directly_under_the_province(loaded):
    xiantao = Region.objects.get(code="429004")
    assert (xiantao.name, xiantao.level, xiantao.parent_id) == ("仙桃市", Region.Level.COUNTY, "420000")
    assert xiantao.path == "420000/429004/"
    assert Region.objects.get(code="419001").parent_id == "410000"  # 济源市
    assert Region.objects.get(code="469001").parent_id == "460000"  # 五指山市


def test_prefecture_cities_without_counties_are_cities(loaded):
    dongguan = Region.objects.get(code="441900")
    assert (dongguan.name, dongguan.level, dongguan.parent_id, dongguan.is_active) == (
        "东莞市", Region.Level.CITY, "440000", True)
    assert not dongguan.children.exists()


def test_ordinary_counties_sit_under_their_city(loaded):
    yaohai = Region.objects.get(code="340102")
    assert (yaohai.name, yaohai.parent_id, yaohai.path) == ("瑶海区", "340100", "340000/340100/340102/")


def test_no_pseudo_unit_is_created(loaded):
    assert not Region.objects.filter(name__in=PSEUDO_NAMES).exists()
    for code in ("110100", "110200", "429000", "469000", "340101"):
        assert not Region.objects.filter(code=code).exists(), code


def test_historic_codes_are_kept_inactive_with_their_last_name(loaded):
    chongwen = Region.objects.get(code="110103")
    assert (chongwen.name, chongwen.is_active, chongwen.valid_to, chongwen.parent_id) == (
        "崇文区", False, 2010, "110000")
    yanqing_county = Region.objects.get(code="110229")
    assert (yanqing_county.is_active, yanqing_county.valid_from, yanqing_county.valid_to) == (False, 1982, 2015)


def test_renamed_codes_take_their_current_name(loaded):
    assert Region.objects.get(code="341181").name == "天长市"
    assert Region.objects.get(code="340203").is_active is False  # 弋江区 moved to 340209 in 2020
    assert Region.objects.get(code="340209").name == "弋江区"


def test_stale_suizhou_code_is_overridden_inactive(loaded):
    old = Region.objects.get(code="429001")
    assert (old.name, old.is_active, old.valid_to) == ("随州市", False, 2000)
    new = Region.objects.get(code="421300")
    assert (new.name, new.level, new.is_active) == ("随州市", Region.Level.CITY, True)
    assert OVERRIDES["429001"]["valid_to"] == 2000


def test_every_path_extends_its_parent_path(loaded):
    regions = {r.code: r for r in Region.objects.all()}
    for region in regions.values():
        parent_path = regions[region.parent_id].path if region.parent_id else ""
        assert region.path == parent_path + region.code + "/", region.code
    depths = {r.path.count("/") for r in regions.values()}
    assert depths == {1, 2, 3}


def test_a_second_run_changes_nothing_and_says_so(loaded, django_assert_max_num_queries):
    before = list(Region.objects.values_list(*["code", "name", "level", "parent_id", "path", "is_active",
                                               "valid_from", "valid_to"]))
    history_before = Region.history.count()
    out = StringIO()
    # One SELECT of all regions, plus the transaction's savepoint statements; no write.
    with django_assert_max_num_queries(3):
        call_command("load_regions", stdout=out)
    assert "无变化" in out.getvalue()
    assert list(Region.objects.values_list(*["code", "name", "level", "parent_id", "path", "is_active",
                                             "valid_from", "valid_to"])) == before
    assert Region.history.count() == history_before


def test_a_changed_source_row_is_updated_with_a_history_row(loaded, monkeypatch):
    monkeypatch.setitem(OVERRIDES, "340102", {"name": "测试区"})
    out = StringIO()
    call_command("load_regions", stdout=out)
    assert "更新 1 条" in out.getvalue()
    assert Region.objects.get(code="340102").name == "测试区"
    latest = Region.history.filter(code="340102").latest("history_date")
    assert (latest.name, latest.history_change_reason) == ("测试区", "更新行政区划（GB/T 2260）")


def test_history_rows_are_written_with_a_reason(loaded):
    # 110101 is not in the shared test cast, so the loader created it.
    history = Region.history.filter(code="110101")
    assert list(history.values_list("history_type", "history_change_reason")) == [("+", "导入行政区划（GB/T 2260）")]


def test_spans_parse_year_ranges():
    spans = parse_spans("[1983-2001]东市区,[2002-]瑶海区")
    assert [(s.start, s.end, s.name) for s in spans] == [(1983, 2001, "东市区"), (2002, None, "瑶海区")]
    assert [(s.start, s.end) for s in parse_spans("[-2010]崇文区")] == [(None, 2010)]
    assert [(s.start, s.end) for s in parse_spans("东城区")] == [(None, None)]


def test_records_come_provinces_first():
    levels = [r.level for r in region_records()]
    assert levels == sorted(levels, key=["province", "city", "county"].index)
