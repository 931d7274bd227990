"""The holiday table page: /calendar/<year>/ lists a year's entries and what the calendar says,
adds or replaces a day, removes one, and marks the year complete.

For any holder of ``manage_units`` (the system administrator; see xueji.services). The arrangement is
national, so there is no unit to resolve: the check is "holds manage_units somewhere" (403 otherwise,
login first). Writes go through xueji.services.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from xueji import services, workdays
from xueji.forms import BootstrapMixin, add_service_error
from xueji.models import CALENDAR_MAX_YEAR, CALENDAR_MIN_YEAR, CalendarDay, CalendarYear

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class CalendarDayForm(BootstrapMixin, forms.Form):
    """Add or replace one day of ``year``."""

    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"required": "请选择日期", "invalid": "请输入有效日期，如2027-10-01"})
    is_workday = forms.TypedChoiceField(label="安排", choices=[("0", "放假"), ("1", "上班（调休）")],
                                        coerce=lambda value: value == "1", initial="0")
    name = forms.CharField(label="名称", max_length=50, required=False,
                           help_text="按国务院办公厅通知填写，如“国庆节”“国庆节调休上班”")

    def __init__(self, *args, year: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day.year != self.year:
            raise ValidationError(f"日期应在{self.year}年内")
        return day


class CalendarDayRemoveForm(forms.Form):
    date = forms.DateField()


class CalendarYearForm(forms.Form):
    complete = forms.BooleanField(required=False)


def _require_admin(user) -> None:
    if not services.may_edit_calendar(user):
        raise PermissionDenied("只有系统管理员可以维护节假日安排")


def _check_year(year: int) -> None:
    if not CALENDAR_MIN_YEAR <= year <= CALENDAR_MAX_YEAR:
        raise Http404("年份超出范围")


def _year_url(year: int) -> str:
    return reverse("calendar:year", args=[year])


@login_required
@require_GET
def calendar_index(request):
    """Redirect to this year's page."""
    _require_admin(request.user)
    return redirect(_year_url(timezone.localdate().year))


def _render_year(request, year: int, form: CalendarDayForm | None = None, status: int = 200):
    entries = list(CalendarDay.objects.filter(date__year=year))
    marked = CalendarYear.objects.filter(year=year, complete=True).exists()
    context = {
        "year": year,
        "entries": [(e, WEEKDAYS[e.date.weekday()]) for e in entries],
        "special_days": [(d, WEEKDAYS[d.date.weekday()])
                         for d in workdays.special_days(year, {e.date: e.name for e in entries})],
        "library_knows": workdays.library_knows_year(year),
        "marked_complete": marked,
        "warning": workdays.calendar_warning(date(year, 1, 1), date(year, 12, 31)),
        "form": form or CalendarDayForm(year=year),
        "previous_year": year - 1 if year > CALENDAR_MIN_YEAR else None,
        "next_year": year + 1 if year < CALENDAR_MAX_YEAR else None,
    }
    return render(request, "calendar/year.html", context, status=status)


@login_required
@require_GET
def calendar_year(request, year: int):
    """A year's entries, the resulting holidays and make-up days, and the forms to change them."""
    _require_admin(request.user)
    _check_year(year)
    return _render_year(request, year)


@login_required
@require_POST
def calendar_day_set(request, year: int):
    """Add or replace one day; on errors the year page comes back with the input kept."""
    _require_admin(request.user)
    _check_year(year)
    form = CalendarDayForm(request.POST, year=year)
    if form.is_valid():
        try:
            entry = services.calendar_day_set(actor=request.user, day=form.cleaned_data["date"],
                                              is_workday=form.cleaned_data["is_workday"],
                                              name=form.cleaned_data["name"])
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"已保存：{entry}")
            return redirect(_year_url(year))
    return _render_year(request, year, form, status=400)


@login_required
@require_POST
def calendar_day_remove(request, year: int):
    """Remove one day's entry (the page asks for confirmation first)."""
    _require_admin(request.user)
    _check_year(year)
    form = CalendarDayRemoveForm(request.POST)
    if form.is_valid() and form.cleaned_data["date"].year == year:
        if services.calendar_day_remove(actor=request.user, day=form.cleaned_data["date"]):
            messages.success(request, f"已删除 {form.cleaned_data['date']:%Y-%m-%d} 的设置")
        else:
            messages.info(request, "该日期没有手工设置")
    else:
        messages.error(request, "日期无效")
    return redirect(_year_url(year))


@login_required
@require_POST
def calendar_year_mark(request, year: int):
    """Mark the year complete (or not)."""
    _require_admin(request.user)
    _check_year(year)
    form = CalendarYearForm(request.POST)
    complete = form.is_valid() and form.cleaned_data["complete"]
    services.calendar_year_mark(actor=request.user, year=year, complete=complete)
    messages.success(request, f"{year}年已标记为完整录入" if complete else f"已取消{year}年的完整录入标记")
    return redirect(_year_url(year))
