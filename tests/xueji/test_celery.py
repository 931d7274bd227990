"""Celery wiring: the beat schedule in code, the heartbeat task, on-commit queueing, and one real worker."""

import os
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from django.db import transaction

from audits.models import AuditEvent
from audits.tasks import heartbeat
from xueji.celery import app


def test_the_beat_schedule_runs_the_heartbeat_daily_at_two():
    entry = app.conf.beat_schedule["daily-heartbeat"]

    assert entry["task"] == "audits.tasks.heartbeat"
    assert entry["schedule"] == crontab(hour=2, minute=0)
    assert app.conf.timezone == "Asia/Shanghai"
    assert entry["task"] in app.tasks


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()  # what a worker does at start: autodiscover <app>/tasks.py

    missing = {name: entry["task"] for name, entry in app.conf.beat_schedule.items() if entry["task"] not in app.tasks}
    assert missing == {}


@pytest.mark.django_db
def test_the_heartbeat_writes_an_audit_event():
    event_id = heartbeat.delay().get()

    event = AuditEvent.objects.get(pk=event_id)
    assert event.kind == AuditEvent.Kind.HEARTBEAT
    assert event.actor is None
    assert event.actor_username == "system"


@pytest.mark.django_db
def test_delay_on_commit_waits_for_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        heartbeat.delay_on_commit()
        assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.HEARTBEAT).exists()

    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.HEARTBEAT).count() == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                heartbeat.delay_on_commit()
                raise RuntimeError("the service failed")
        except RuntimeError:
            pass

    assert callbacks == []
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.HEARTBEAT).exists()


@pytest.mark.worker
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: a real worker needs a Redis broker")
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_against_redis():
    # The worker runs in a thread of this process, so it uses the test database's settings; the test is
    # transactional so that the worker's own connection sees committed rows and the test sees the
    # worker's. A queue of its own keeps other workers on the same Redis (a concurrent run, a
    # developer's worker) from taking the task.
    queue = f"xueji-test-{uuid.uuid4().hex}"
    assert not app.conf.task_always_eager
    try:
        with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, queues=[queue],
                          shutdown_timeout=30):
            result = heartbeat.apply_async(queue=queue)
            event_id = result.get(timeout=60)
        assert result.successful()
        event = AuditEvent.objects.get(pk=event_id)
        assert event.kind == AuditEvent.Kind.HEARTBEAT
        result.forget()
    finally:
        _forget_queue(queue)


def _forget_queue(queue: str) -> None:
    """Remove the bindings kombu keeps in Redis for the throw-away queue (one key set per run otherwise)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(match=f"*{queue}*"))
    if keys:
        client.delete(*keys)
