"""Seeded sampling: the same seed draws the same sample; sizes and percentages; the service."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audits.models import AuditEvent
from oversight import sampling
from oversight.models import Inspection, InspectionItem
from oversight.services import inspection_create
from students.models import Student

from .conftest import make_student


def test_sample_size_from_size_or_percent():
    assert sampling.sample_size(100, size=10) == 10
    assert sampling.sample_size(5, size=10) == 5
    assert sampling.sample_size(1000, percent=Decimal("2.5")) == 25
    assert sampling.sample_size(3, percent=Decimal("1")) == 1  # rounded up, at least one
    assert sampling.sample_size(0, percent=Decimal("50")) == 0


def test_rank_is_a_fixed_function_of_seed_and_id():
    key = sampling.seed_key("2026春季抽查")
    assert sampling.rank(key, 42) == sampling.rank(sampling.seed_key("2026春季抽查"), 42)
    assert sampling.rank(key, 42) != sampling.rank(key, 43)
    assert sampling.rank(key, 42) != sampling.rank(sampling.seed_key("other"), 42)
    assert 0 <= sampling.rank(key, 2**40) < 2**64


@pytest.mark.django_db
class TestDraw:
    def test_the_same_seed_draws_the_same_sample_twice(self, cast, students):
        qs = Student.objects.filter(status="active")
        first = sampling.draw(qs, "seed-1", size=4)
        # Another ordering of the candidates changes nothing.
        assert sampling.draw(qs.order_by("-name"), "seed-1", size=4) == first
        assert first[0] == 10 and len(first[1]) == 4 and len(set(first[1])) == 4

    def test_another_seed_draws_another_sample(self, cast, students):
        qs = Student.objects.filter(status="active")
        samples = {tuple(sampling.draw(qs, f"s{n}", size=3)[1]) for n in range(6)}
        assert len(samples) > 1

    def test_a_new_record_changes_at_most_one_member(self, cast, students):
        qs = Student.objects.filter(status="active")
        before = set(sampling.draw(qs, "stable", size=5)[1])
        make_student(cast.school_a, name="新生")
        after = set(sampling.draw(qs, "stable", size=5)[1])
        assert len(before - after) <= 1

    def test_percent_rounds_up(self, cast, students):
        population, ids = sampling.draw(Student.objects.all(), "p", percent=Decimal("25"))
        assert population == 10 and len(ids) == 3


@pytest.mark.django_db
class TestInspectionCreate:
    def test_draws_active_records_of_the_region_and_assigns_their_schools(self, cast, students):
        make_student(cast.school_a, name="休学", status="suspended")
        inspection = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                       inspected_region=cast.regions["340102"], title="瑶海区抽查", size=5,
                                       seed="abc")
        assert inspection.population == 7 and inspection.sample_size == 5  # 4 + 3 active in 瑶海区
        items = list(inspection.items.select_related("student"))
        assert [i.position for i in items] == [1, 2, 3, 4, 5]
        assert all(i.school_id == i.student.school_id and i.school_path == i.student.school_path for i in items)
        assert all(i.student.status == "active" for i in items)
        assert inspection.inspecting_region_id == "340100" and inspection.kind == "regular"
        assert items[0].history.first().history_user == cast.inspector
        event = AuditEvent.objects.get(target_id=str(inspection.pk), target_type="oversight.inspection")
        assert event.extra == {"seed": "abc", "population": 7, "sample_size": 5, "inspecting_region": "340100"}

    def test_the_same_seed_gives_the_same_sample_in_two_inspections(self, cast, students):
        def draw(seed):
            inspection = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                           inspected_region=cast.regions["340100"], title="全市", size=6, seed=seed)
            return list(inspection.items.values_list("student_id", flat=True))

        assert draw("2026-秋") == draw("2026-秋")

    def test_a_blank_seed_gets_a_fresh_one_that_is_shown(self, cast, students):
        inspection = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                                       inspected_region=cast.regions["340102"], title="t", percent=Decimal("50"))
        assert len(inspection.seed) == 12 and inspection.sample_size == 4

    def test_needs_inspect_on_the_organiser(self, cast, students):
        with pytest.raises(PermissionDenied):
            inspection_create(actor=cast.city_approver, organiser=cast.regions["340100"],
                              inspected_region=cast.regions["340102"], title="t", size=1)

    def test_size_and_percent_are_exclusive_and_bounded(self, cast, students):
        kwargs = {"actor": cast.inspector, "organiser": cast.regions["340100"],
                  "inspected_region": cast.regions["340102"], "title": "t"}
        for bad in ({}, {"size": 1, "percent": Decimal(1)}, {"size": 0}, {"percent": Decimal(101)},
                    {"size": sampling.MAX_SAMPLE + 1}):
            with pytest.raises(ValidationError):
                inspection_create(**kwargs, **bad)
        assert not Inspection.objects.exists()

    def test_a_region_outside_the_organiser_is_refused(self, cast, students):
        with pytest.raises(ValidationError) as exc:
            inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                              inspected_region=cast.regions["340202"], title="t", size=1)
        assert "inspected_region" in exc.value.error_dict

    def test_an_empty_region_cannot_be_sampled(self, cast):
        with pytest.raises(ValidationError):
            inspection_create(actor=cast.inspector, organiser=cast.regions["340100"],
                              inspected_region=cast.regions["340104"], title="t", size=1)


@pytest.mark.django_db
class TestCrossCheck:
    def test_a_city_organises_one_county_checking_another(self, cast, students, county_inspectors):
        inspection = inspection_create(actor=cast.inspector, organiser=cast.regions["340100"], kind="cross",
                                       inspected_region=cast.regions["340102"],
                                       inspecting_region=cast.regions["340104"], title="互查", size=3, seed="x")
        assert inspection.inspecting_path == "340000/340100/340104/"
        assert InspectionItem.objects.filter(inspection=inspection, school_path__startswith="340000/340100/340102/"
                                             ).count() == 3

    @pytest.mark.parametrize("inspecting,inspected", [("340102", "340102"), ("340100", "340102"),
                                                      ("340104", "340202")])
    def test_refuses_the_same_unit_a_unit_above_or_a_unit_outside(self, cast, students, inspecting, inspected):
        with pytest.raises(ValidationError):
            inspection_create(actor=cast.inspector, organiser=cast.regions["340100"], kind="cross",
                              inspected_region=cast.regions[inspected], inspecting_region=cast.regions[inspecting],
                              title="互查", size=1)

    def test_only_a_city_organises_cross_checks(self, cast, students, county_inspectors):
        yaohai, _ = county_inspectors
        with pytest.raises(ValidationError):
            inspection_create(actor=yaohai, organiser=cast.regions["340102"], kind="cross",
                              inspected_region=cast.regions["340102"], inspecting_region=cast.regions["340104"],
                              title="互查", size=1)
