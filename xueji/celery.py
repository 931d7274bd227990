"""The Celery app, its conventions and the beat schedule.

Broker and results are Redis (``REDIS_URL``). Without ``REDIS_URL`` the settings make every task run
eagerly in-process (CELERY_TASK_ALWAYS_EAGER), so a development machine needs no Redis and no worker.

Conventions (DESIGN.md §7–8, STYLE.md §6):

- A task lives in ``<app>/tasks.py``, takes primary keys and plain values only — never an ID number or
  other personal data of a student (task arguments land in Redis and in worker logs) — loads its
  objects, and calls one service. A task acting for a person takes ``actor_id`` and passes the user
  to the service, so history rows name that person; system jobs (beat) act as ``None``.
- Services queue tasks with ``some_task.delay_on_commit(pk, actor_id=actor.pk)`` (Celery's DjangoTask,
  installed by Celery's Django fixup). The message is sent only after the surrounding transaction
  commits: the worker never reads rows that are not committed yet, and a rolled-back write queues
  nothing. Eager mode keeps the same order (the task runs at commit). Never call ``delay`` inside a
  service's transaction.
- Tests run tasks eagerly (tests/conftest.py); wrap the service call in
  ``django_capture_on_commit_callbacks(execute=True)`` to run what it queued. One test
  (tests/xueji/test_celery.py, marker ``worker``) runs a real worker against Redis.
- Periodic jobs are declared below in ``beat_schedule`` (reviewed like code, not edited in a
  database); times are Asia/Shanghai (CELERY_TIMEZONE). Run ``celery -A xueji worker`` and
  ``celery -A xueji beat`` (docker-compose.yml runs both).
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")

app = Celery("xueji")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Daily at 02:00 Asia/Shanghai: one audit event proves that beat, broker, worker and database work.
    "daily-heartbeat": {
        "task": "audits.tasks.heartbeat",
        "schedule": crontab(hour=2, minute=0),
    },
    # Nightly at 01:30: bad ID numbers and (suspected) duplicate records become problem records.
    "nightly-problem-record-scan": {
        "task": "students.tasks.scan_problem_records",
        "schedule": crontab(hour=1, minute=30),
    },
    # Daily at 07:00: overdue approval steps and suspensions ended without a resumption are reminded.
    "daily-transfer-reminders": {
        "task": "transfers.tasks.daily_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    # Daily at 00:30: registrar grants follow this school year's signed agreements (off on Sept 1 until signed).
    "daily-registrar-grants-sync": {
        "task": "agreements.tasks.registrar_grants_sync",
        "schedule": crontab(hour=0, minute=30),
    },
    # Every 15 minutes: the dashboards' and scorecards' precomputed figures (oversight.DashboardFigure).
    "dashboard-figures-refresh": {
        "task": "oversight.tasks.dashboard_refresh",
        "schedule": crontab(minute="*/15"),
    },
    # Nightly at 03:00: uploaded import files past XUEJI_IMPORT_RETENTION_DAYS (7) are deleted.
    "nightly-import-file-purge": {
        "task": "imports.tasks.purge_import_files",
        "schedule": crontab(hour=3, minute=0),
    },
    # Monthly on the 1st at 00:10: every class with pupils gets this month's roll check (按月核对).
    "monthly-roll-checks-open": {
        "task": "audits.tasks.roll_checks_open_monthly",
        "schedule": crontab(day_of_month=1, hour=0, minute=10),
    },
    # Nightly at 02:30 (after the 01:30 problem-record scan it reads): the integrity checks.
    "nightly-integrity-scan": {
        "task": "audits.tasks.integrity_scan_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
}
