"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against pytest-django's live_server.

Chromium comes from apt (.ci/run installs it); `playwright install` is never used, so no browser is
downloaded. Tests here carry the ``browser`` marker and are skipped with a reason when
/usr/bin/chromium is missing. Log in with ``tests.browser.helpers.login``.
"""

from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


def pytest_collection_modifyitems(items):
    """Every test in this folder carries the ``browser`` marker (select with -m browser, skip with -m 'not browser')."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _allow_orm_next_to_playwright(monkeypatch):
    """Let the test body use the ORM while Playwright is running.

    Playwright's sync API runs an asyncio event loop in the test's thread; Django sees the running
    loop and raises SynchronousOnlyOperation for every ORM call made from that thread (creating users,
    asserting rows). The calls are not concurrent with the loop (it only runs inside Playwright
    calls), so the guard is a false alarm here. Set for these tests only, not the whole suite.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Rows shipped by data migrations: (migration module, function(apps, schema_editor)). Keep in step
# with the migrations (test_harness.py checks that every RunPython operation is listed or excused).
MIGRATION_DATA = [
    ("agreements.migrations.0002_national_default_templates", "create_defaults"),
    ("students.migrations.0003_default_archive_item_types", "add_defaults"),
]


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Put back the rows of the data migrations (national agreement texts, archive checklist lines).

    live_server tests are transactional: pytest-django flushes every table after each, which removes
    these rows too, so the next live_server test would find no liability-form template. The
    functions use get_or_create, so running them on a database that has the rows changes nothing.
    """
    if "live_server" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    for module, function in MIGRATION_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether the test body failed, so ``browser_page`` can photograph the page it failed on."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.browser_call_failed = report.failed


@pytest.fixture
def browser_page(live_server, tmp_path, request):
    """A Playwright ``Page`` in headless system Chromium with a fresh profile, 1280×800, zh-CN.

    Use with ``live_server.url``. The browser is closed after the test.
    """
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium (never `playwright install`)")
    from playwright.sync_api import expect, sync_playwright

    # Actions and assertions wait up to 15 s: CI machines run both suites on 2 cores, and pages that
    # answer in 100 ms alone can take seconds there. A passing test never waits for the limit.
    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 800},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        context.set_default_timeout(15_000)
        page = context.pages[0] if context.pages else context.new_page()
        try:
            yield page
        finally:
            if getattr(request.node, "browser_call_failed", False):
                _photograph_failure(page, request.node.name)
            context.close()
            # While Playwright's loop runs, Django (asgiref) gives this thread a second set of database
            # connections, used by the test body. Close them while the loop still runs, or the
            # connection outlives the test and PostgreSQL refuses to drop the test database.
            connections.close_all()


def _photograph_failure(page, test_name: str) -> None:
    """test-artifacts/browser/failures/<test>.png: what the page showed when the test failed (CI keeps it)."""
    try:
        (ARTIFACTS / "failures").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "failures" / f"{test_name}.png"), full_page=True)
    except Exception:  # a closed or crashed page must not hide the test's own error
        pass


@pytest.fixture
def screenshot(request):
    """``screenshot(page, name)`` saves test-artifacts/browser/<name>.png (git-ignored) and returns its path."""

    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
