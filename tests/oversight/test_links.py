"""Every dashboard figure links to its list, and the list behind the link shows that many rows."""

from datetime import date

import pytest
from django.urls import reverse

from oversight.services import figures_refresh
from transfers.models import ApprovalStep


def listed(client, link: str) -> int:
    response = client.get(link)
    assert response.status_code == 200, link
    context = response.context
    if "page_obj" in context and context["page_obj"] is not None:
        return context["page_obj"].paginator.count
    return len(context["rows"])


@pytest.mark.django_db
@pytest.mark.parametrize("user,unit", [("province_approver", ("region", "340000")),
                                       ("city_approver", ("region", "340100")),
                                       ("city_approver", ("region", "340102")),
                                       ("county_approver", ("school", "school_a"))])
def test_each_figure_equals_the_rows_of_its_list(busy, client_for, user, unit):
    cast = busy
    figures_refresh(province_code="34")
    client = client_for(getattr(cast, user))
    kind, key = unit
    key = getattr(cast, key).pk if kind == "school" else key
    board = client.get(reverse(f"oversight:dashboard_{kind}", args=[key])).context["board"]
    checked = 0
    for card in board.cards:
        if card.link and "transfers:queue" not in card.link and "/changes/queue/" not in card.link:
            assert listed(client, card.link) == card.value, card.label
            checked += 1
    for link, value in zip(board.charts["grades"]["links"], board.charts["grades"]["values"], strict=True):
        assert listed(client, link) == value
        checked += 1
    for slice_ in board.charts["problems"]:
        assert listed(client, slice_["link"]) == slice_["value"]
    for row in board.children:
        assert listed(client, row["active_link"]) == row["active"]
        assert listed(client, row["pending_link"]) == row["pending"]
        assert listed(client, row["problems_link"]) == row["problems"]
        assert listed(client, row["rectifications_link"]) == row["rectifications"]
    assert checked >= 6


@pytest.mark.django_db
def test_the_overdue_figure_links_to_the_escalations_of_the_unit(busy, client_for):
    cast = busy
    figures_refresh(province_code="34")
    late = ApprovalStep.objects.get(status="current", due_date=date(2026, 9, 15))
    board = client_for(cast.city_approver).get(reverse("oversight:dashboard_region", args=["340100"])).context["board"]
    card = next(c for c in board.cards if c.label == "逾期审核步骤")
    assert card.value == 1 and "region=340100" in card.link
    # The city approver sees the late step among the escalations of its subtree (read-only).
    rows = client_for(cast.city_approver).get(card.link).context["rows"]
    assert [r["step"].pk for r in rows] == [late.pk]
    other = client_for(cast.city_approver).get(card.link.replace("region=340100", "region=340104")).context["rows"]
    assert late.unit_path.startswith("340000/340100/340104/") == bool(other)


@pytest.mark.django_db
def test_a_childs_roll_check_rate_links_to_that_childs_schools_only(busy, client_for):
    from audits.models import RollCheck
    from audits.roll_services import roll_checks_open

    cast = busy
    roll_checks_open()
    figures_refresh(province_code="34")
    client = client_for(cast.city_approver)
    board = client.get(reverse("oversight:dashboard_region", args=["340100"])).context["board"]
    rows = {row["unit"].pk: row for row in board.children}
    city_checks = RollCheck.objects.filter(school_path__startswith=cast.regions["340100"].path).count()
    for code in ("340102", "340104"):
        row = rows[code]
        assert row["roll_rate"] is not None and f"region={code}" in row["roll_link"]
        listed_rows = list(client.get(row["roll_link"]).context["page_obj"])
        in_county = RollCheck.objects.filter(school_path__startswith=cast.regions[code].path).count()
        assert sum(r["total"] for r in listed_rows) == in_county < city_checks
        assert all(r["school_path"].startswith(cast.regions[code].path) for r in listed_rows)
