"""The quick-start SQLite database must not answer two simultaneous writes with a 500.

Found in review: two registrars (or one double-click) posting /students/new/ at the same moment
on `make run` gave "OperationalError: database is locked". A deferred transaction reads first,
then cannot upgrade its lock while another transaction holds it, and SQLite fails at once instead of
waiting for the busy timeout. Starting every atomic block with BEGIN IMMEDIATE makes the second
writer wait (https://docs.djangoproject.com/en/5.2/ref/databases/#database-is-locked-errors).
"""

import contextlib
import copy
import threading
import time

import pytest
from django.conf import settings
from django.db import connections, transaction


def _sqlite_default() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


@pytest.mark.skipif(not _sqlite_default(), reason="SQLite quick-start setting only")
def test_sqlite_transactions_start_immediate():
    assert settings.DATABASES["default"]["OPTIONS"].get("transaction_mode") == "IMMEDIATE"


@pytest.mark.skipif(not _sqlite_default(), reason="SQLite quick-start setting only")
def test_two_concurrent_read_then_write_transactions_both_succeed(tmp_path, django_db_blocker):
    """Each thread reads, waits for the other to have read, then writes (what a service does)."""
    config = copy.deepcopy(settings.DATABASES["default"])
    config["NAME"] = str(tmp_path / "concurrency.sqlite3")
    config.setdefault("TEST", {})
    aliases = ["race_a", "race_b"]
    for alias in aliases:
        connections.settings[alias] = copy.deepcopy(config)
    errors: list[str] = []
    both_read = threading.Barrier(2, timeout=5)

    def work(alias: str) -> None:
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM t")
                # With IMMEDIATE the second thread waits in BEGIN, so the barrier times out.
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_read.wait(timeout=1)
                time.sleep(0.1)
                cursor.execute("INSERT INTO t VALUES (1)")
        except Exception as exc:  # the failure under test: record it, fail below
            errors.append(repr(exc))
        finally:
            connections[alias].close()

    try:
        with django_db_blocker.unblock():
            with connections["race_a"].cursor() as cursor:
                cursor.execute("CREATE TABLE t (x INTEGER)")
            connections["race_a"].close()
            threads = [threading.Thread(target=work, args=(alias,)) for alias in aliases]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            with connections["race_a"].cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM t")
                rows = cursor.fetchone()[0]
            connections["race_a"].close()
    finally:
        for alias in aliases:
            del connections.settings[alias]
    assert errors == []
    assert rows == 2
