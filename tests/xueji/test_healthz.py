"""GET /healthz: database and broker status for load balancers and docker-compose."""

from unittest import mock

import pytest
from django.db import OperationalError

URL = "/healthz"


@pytest.mark.django_db
def test_it_answers_200_with_database_ok_without_login(client):
    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["status"] == "ok"
    assert body["broker"] in {"ok", "eager"}


@pytest.mark.django_db
def test_it_is_never_cached(client):
    cache_control = client.get(URL)["Cache-Control"]

    assert "no-cache" in cache_control
    assert "no-store" in cache_control


@pytest.mark.django_db
def test_it_answers_503_when_the_database_is_unreachable(client):
    with mock.patch("xueji.views.connection") as connection:
        connection.cursor.side_effect = OperationalError("connection refused")
        response = client.get(URL)

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_an_unreachable_broker_is_reported_but_does_not_fail_the_check(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json()["broker"] == "unreachable"


@pytest.mark.django_db
def test_post_is_refused(client):
    assert client.post(URL).status_code == 405
