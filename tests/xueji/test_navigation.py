"""The navigation marks exactly one entry active: the longest matching address."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_queue_page_marks_only_the_queue_active(cast, client_for):
    html = client_for(cast.county_approver).get(reverse("transfers:queue")).content.decode()
    assert html.count('nav-link active') == 1
    assert f'nav-link active" href="{reverse("transfers:queue")}"' in html
