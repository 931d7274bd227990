"""The integrity page: counts by kind and the list of one kind, scoped to the user's units; the
trio and the query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits.integrity import integrity_scan
from audits.models import IntegrityKind
from tests.schoolyear.helpers import pupil

pytestmark = pytest.mark.django_db
URL = reverse("audits:integrity_index")


@pytest.fixture
def findings(cast):
    pupil(cast.registrar_a, cast.school_a, level=2, class_number=None)
    pupil(cast.registrar_b, cast.school_b, level=2, class_number=None)
    integrity_scan(kinds=[IntegrityKind.NO_CLASS, IntegrityKind.NO_REGISTRAR])


def test_a_school_sees_its_own_findings(cast, findings, client_for):
    response = client_for(cast.registrar_a).get(URL, {"kind": "no_class"})
    assert response.status_code == 200
    assert [i.school_id for i in response.context["page_obj"]] == [cast.school_a.pk]
    counts = {value: n for value, _, n in response.context["rows"]}
    assert counts["no_class"] == 1 and counts["no_registrar"] == 0


def test_a_city_sees_its_counties(cast, findings, client_for):
    response = client_for(cast.city_approver).get(URL, {"kind": "no_class"})
    assert len(response.context["page_obj"]) == 2
    response = client_for(cast.city_approver).get(URL, {"kind": "no_registrar", "q": "学籍主管部门"})
    # 蜀山区 governs school_b, which holds a record, and has no registrar; 瑶海区 has one; 合肥市
    # governs only the senior school, which holds no record yet; 芜湖市 is nobody's authority.
    assert {i.region_id for i in response.context["page_obj"]} == {"340104"}


def test_a_region_link_narrows_the_counts_and_the_list(cast, findings, client_for):
    response = client_for(cast.city_approver).get(URL, {"kind": "no_class", "region": "340104"})
    assert [i.school_id for i in response.context["page_obj"]] == [cast.school_b.pk]
    counts = {value: n for value, _, n in response.context["rows"]}
    assert counts["no_class"] == 1 and counts["no_registrar"] == 1  # school_b's pupil; 蜀山区 itself
    assert "region=340104" in response.content.decode()  # the kind cards keep the region


def test_without_student_rights_403(cast, findings, client_for):
    assert client_for(cast.system_admin).get(URL).status_code == 403


def test_other_province_sees_nothing(cast, findings, client_for):
    response = client_for(cast.other_province_registrar).get(URL, {"kind": "no_class"})
    assert response.status_code == 200 and not response.context["page_obj"].object_list


def test_bad_input_is_harmless(cast, findings, client_for):
    client = client_for(cast.registrar_a)
    for data in ({"kind": "nonsense"}, {"sort": "x"}, {"page": "-1"}, {"q": "\x00"}):
        assert client.get(URL, data).status_code == 200


def test_query_count(cast, findings, client_for):
    def count():
        client = client_for(cast.city_approver)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, {"kind": "no_class"}).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(4):
        pupil(cast.registrar_a, cast.school_a, level=3, class_number=None)
    integrity_scan(kinds=[IntegrityKind.NO_CLASS])
    assert count() == few
    # 1 session, 2 user, 3 held codenames, 4 grants, 5 counts by kind (GROUP BY), 6 count of the kind,
    # 7 the page with school, region and student joined, 8-10 session save
    assert few == 10
