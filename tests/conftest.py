import pytest
from django.test import override_settings

from tests.cast import build_cast, load_cast

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Build the cast once per test database; each test then runs inside a rolled-back transaction.

    Transactional tests flush the database afterwards; the ``cast`` fixture rebuilds it then.
    """
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS,
                                                        XUEJI_REQUIRE_REGISTRAR_AGREEMENT=False):
        if load_cast() is None:  # a database kept by --reuse-db already has it
            build_cast()


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):
    """Fast password hashing, eager Celery, private files in a temporary folder."""
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    # The cast's registrars are active; tests/agreements turns the agreement requirement back on.
    settings.XUEJI_REQUIRE_REGISTRAR_AGREEMENT = False


@pytest.fixture(autouse=True)
def _eager_celery(request, monkeypatch):
    """Run Celery tasks in-process even when REDIS_URL is set (the CI run on PostgreSQL + Redis), so a
    task queued by a service runs in the test instead of waiting in Redis. Tests marked ``worker`` use
    the real broker and worker. Through monkeypatch, so that every override is undone in reverse order."""
    from xueji.celery import app

    if not request.node.get_closest_marker("worker"):
        monkeypatch.setitem(app.conf, "task_always_eager", True)
        monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """xueji.workdays caches the holiday table per process; rows a test wrote are rolled back, so
    start every test from the database (and with stable query counts)."""
    from xueji.workdays import clear_calendar_cache

    clear_calendar_cache()


@pytest.fixture
def cast(db):
    """The fixed cast of users, regions and schools (see tests/cast.py), fresh instances per test."""
    return load_cast() or build_cast()


@pytest.fixture
def client_for(client):
    """``client_for(user)`` returns the test client logged in as ``user``."""

    def login(user):
        client.force_login(user)
        return client

    return login
