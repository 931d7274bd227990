"""The Celery app. Without REDIS_URL the settings make every task run eagerly in-process."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xueji.settings")

app = Celery("xueji")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule lives in code so that it is reviewed like code. Times are Asia/Shanghai.
app.conf.beat_schedule = {
    "daily-heartbeat": {
        "task": "audits.tasks.heartbeat",
        "schedule": crontab(hour=2, minute=0),
    },
}
