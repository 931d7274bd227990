"""The holiday table an administrator edits (DESIGN.md §5: working-day deadlines).

chinese-calendar knows the State Council's holiday arrangements (国务院办公厅关于部分节假日安排的通知)
only for the years of its release. These two tables let an administrator enter a year the library
does not know yet, or correct a day it has wrong; ``xueji.workdays`` reads them before the library.
Write them only through ``xueji.services`` (history and audit).
"""

import datetime

from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

# Years an administrator may enter: wide enough for any deadline, narrow enough to catch typos.
CALENDAR_MIN_YEAR = 2000
CALENDAR_MAX_YEAR = 2100


class CalendarDay(models.Model):
    """One date whose status overrides chinese-calendar and the Monday–Friday rule.

    ``is_workday`` True marks a make-up working day (调休上班, usually a weekend), False a day off
    (法定节假日 or 调休放假). ``name`` is what the notice calls it, e.g. "国庆节" or "国庆节调休上班".
    """

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=50, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "节假日调整"
        verbose_name_plural = "节假日调整"
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date__gte=datetime.date(CALENDAR_MIN_YEAR, 1, 1),
                              date__lte=datetime.date(CALENDAR_MAX_YEAR, 12, 31)),
                name="calendar_day_in_range"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_workday else '放假'} {self.name}".strip()


class CalendarYear(models.Model):
    """An administrator's statement that a year's holidays and make-up days are fully entered.

    A year marked ``complete`` counts as known even when chinese-calendar lacks it, so pages stop
    warning that its deadlines are counted Monday to Friday (``xueji.workdays.year_is_known``).
    """

    year = models.PositiveSmallIntegerField("年份", unique=True)
    complete = models.BooleanField("已完整录入", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "节假日年度"
        verbose_name_plural = "节假日年度"
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=CALENDAR_MIN_YEAR, year__lte=CALENDAR_MAX_YEAR),
                                   name="calendar_year_in_range"),
        ]

    def __str__(self):
        return f"{self.year}年{'（已完整录入）' if self.complete else ''}"


@receiver([post_save, post_delete], sender=CalendarDay)
@receiver([post_save, post_delete], sender=CalendarYear)
def _calendar_changed(sender, **kwargs):
    """Drop this process's cached calendar now and again at commit (other threads may have read
    the old rows meanwhile). Other processes pick the change up within workdays.CACHE_SECONDS."""
    from django.db import transaction

    from xueji.workdays import clear_calendar_cache

    clear_calendar_cache()
    transaction.on_commit(clear_calendar_cache)
