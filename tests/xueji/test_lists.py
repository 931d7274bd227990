"""xueji.lists: the capped paginator behind large lists (one bounded COUNT query)."""

import pytest
from django.test import RequestFactory

from schools.models import Region
from xueji.lists import CappedPaginator, paginate

pytestmark = pytest.mark.django_db


def regions():
    return Region.objects.order_by("code")


def test_below_the_cap_the_count_is_exact(cast):
    paginator = CappedPaginator(regions(), 2, cap=100)
    assert paginator.count == Region.objects.count() and not paginator.capped


def test_past_the_cap_the_count_stops_at_the_cap_and_says_so(cast):
    assert Region.objects.count() > 4
    paginator = CappedPaginator(regions(), 2, cap=4)
    assert paginator.count == 4 and paginator.capped and paginator.num_pages == 2


def test_counting_is_one_query_with_a_limit(cast, django_assert_num_queries):
    paginator = CappedPaginator(regions(), 2, cap=4)
    with django_assert_num_queries(1) as captured:
        assert paginator.count == 4 and paginator.capped
    assert "LIMIT 5" in captured.captured_queries[0]["sql"]


def test_a_page_past_the_cap_gives_the_last_counted_page(cast):
    request = RequestFactory().get("/", {"page": "99", "q": "x"})
    context = paginate(request, regions(), 2, count_cap=4)
    page = context["page_obj"]
    assert page.number == 2 and [r.code for r in page] == [r.code for r in regions()[2:4]]
    assert context["querystring_without_page"] == "q=x&"


def test_without_a_cap_paginate_counts_everything(cast):
    context = paginate(RequestFactory().get("/"), regions(), 2)
    assert context["page_obj"].paginator.count == Region.objects.count()
    assert not getattr(context["page_obj"].paginator, "capped", False)


@pytest.mark.parametrize("page", ["0", "-1", "-99", "", "abc"])
def test_a_page_number_below_one_or_not_a_number_opens_the_first_page(cast, page):
    context = paginate(RequestFactory().get("/", {"page": page}), regions(), 2, count_cap=4)
    assert context["page_obj"].number == 1
