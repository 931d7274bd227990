"""transfers.routes.route_for: the one place where approval routes live (DESIGN.md §5)."""

import pytest

from schools.models import Region
from tests.cast import make_school
from transfers.models import ChangeKind, StatusChange
from transfers.routes import route_for, transfer_route


def names(route):
    return [(str(unit), role) for unit, role in route]


@pytest.mark.django_db
class TestTransferRoutes:
    def test_same_county_goes_receiving_school_then_sending_school_then_the_county(self, cast):
        route = transfer_route(receiving=cast.school_a2, sending=cast.school_a)
        assert names(route) == [
            ("瑶海区第二小学", "approver"),
            ("瑶海区第一小学", "registrar"), ("瑶海区第一小学", "approver"),
            ("瑶海区", "registrar"), ("瑶海区", "approver"),
        ]

    def test_other_county_goes_through_both_bureaus(self, cast):
        route = transfer_route(receiving=cast.school_b, sending=cast.school_a)
        assert names(route) == [
            ("蜀山区实验小学", "approver"),
            ("蜀山区", "registrar"), ("蜀山区", "approver"),
            ("瑶海区第一小学", "registrar"), ("瑶海区第一小学", "approver"),
            ("瑶海区", "registrar"), ("瑶海区", "approver"),
        ]

    def test_other_province_goes_through_county_and_province_on_both_sides(self, cast):
        route = transfer_route(receiving=cast.other_school, sending=cast.school_a)
        assert [str(u) for u, _ in route] == [
            "彭场镇第二小学", "仙桃市", "仙桃市", "湖北省", "湖北省",
            "瑶海区第一小学", "瑶海区第一小学", "瑶海区", "瑶海区", "安徽省", "安徽省",
        ]

    def test_xiantao_school_directly_under_the_province_uses_xiantao_as_its_county(self, cast):
        route = transfer_route(receiving=cast.school_a, sending=cast.other_school)
        units = [str(u) for u, role in route if role == "approver"]
        assert units == ["瑶海区第一小学", "瑶海区", "安徽省", "彭场镇第二小学", "仙桃市", "湖北省"]

    def test_senior_high_school_under_the_city_uses_the_city_as_its_bureau(self, cast):
        other = make_school("3401040009", "蜀山区高级中学", cast.regions["340104"], cast.regions["340100"],
                            stage="senior", classes_per_grade=1)
        route = transfer_route(receiving=cast.senior_school, sending=other)
        # Both schools answer to 合肥市: the "same bureau" route.
        assert names(route) == [
            ("合肥市第一中学", "approver"),
            ("蜀山区高级中学", "registrar"), ("蜀山区高级中学", "approver"),
            ("合肥市", "registrar"), ("合肥市", "approver"),
        ]

    def test_senior_high_school_across_provinces_uses_its_county_region_when_it_has_one(self, cast):
        other = make_school("3401040009", "蜀山区高级中学", cast.regions["340104"], cast.regions["340100"],
                            stage="senior", classes_per_grade=1)
        hubei = make_school("4290040009", "仙桃中学", cast.regions["429004"], stage="senior", classes_per_grade=1)
        units = [str(u) for u, role in transfer_route(receiving=hubei, sending=other) if role == "approver"]
        assert units == ["仙桃中学", "仙桃市", "湖北省", "蜀山区高级中学", "蜀山区", "安徽省"]

    def test_city_school_without_a_county_uses_its_authority_city(self, cast):
        hubei = make_school("4290040009", "仙桃中学", cast.regions["429004"], stage="senior", classes_per_grade=1)
        units = [str(u) for u, role in transfer_route(receiving=hubei, sending=cast.senior_school)
                 if role == "approver"]
        assert units == ["仙桃中学", "仙桃市", "湖北省", "合肥市第一中学", "合肥市", "安徽省"]

    def test_a_province_school_appears_once_at_province_level(self, cast):
        direct = make_school("3400000009", "安徽省实验中学", cast.regions["340100"], cast.regions["340000"],
                             stage="senior", classes_per_grade=1)
        hubei = make_school("4290040009", "仙桃中学", cast.regions["429004"], stage="senior", classes_per_grade=1)
        units = [str(u) for u, role in transfer_route(receiving=hubei, sending=direct) if role == "approver"]
        assert units == ["仙桃中学", "仙桃市", "湖北省", "安徽省实验中学", "安徽省"]

    def test_dongguan_school_in_a_city_without_counties(self, cast):
        gd = Region.objects.create(code="440000", name="广东省", level="province", path="440000/")
        dg = Region.objects.create(code="441900", name="东莞市", level="city", parent=gd, path="440000/441900/")
        school = make_school("4419000001", "东莞市莞城中心小学", dg, classes_per_grade=1)
        units = [str(u) for u, role in transfer_route(receiving=school, sending=cast.school_a)
                 if role == "approver"]
        assert units == ["东莞市莞城中心小学", "东莞市", "广东省", "瑶海区第一小学", "瑶海区", "安徽省"]


@pytest.mark.django_db
class TestOtherKinds:
    @pytest.mark.parametrize("kind", [k for k in ChangeKind.values if k != "transfer"])
    def test_school_approver_then_the_authority(self, cast, kind):
        change = StatusChange(kind=kind, school=cast.school_a)
        assert names(route_for(change)) == [("瑶海区第一小学", "approver"), ("瑶海区", "approver")]

    def test_senior_school_goes_to_the_city(self, cast):
        change = StatusChange(kind=ChangeKind.SUSPENSION, school=cast.senior_school)
        assert names(route_for(change)) == [("合肥市第一中学", "approver"), ("合肥市", "approver")]

    def test_transfer_change_uses_its_schools(self, cast):
        change = StatusChange(kind=ChangeKind.TRANSFER, school=cast.school_b, from_school=cast.school_a,
                              target_school=cast.school_b)
        assert len(route_for(change)) == 7
