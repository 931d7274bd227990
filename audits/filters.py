"""Filters of the audit pages: the audit log (django-filter) and the change history (a plain form).

Date filters turn a day into the half-open range [00:00, next day 00:00) in Asia/Shanghai, so
the indexed ``created_at`` / ``history_date`` columns are compared directly (no per-row cast).
"""

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from schools.filters import RegionChoiceFilter
from schools.forms import RegionField
from schools.models import Region
from schools.selectors import regions_in_scope
from xueji.forms import BootstrapMixin

from .models import AuditEvent


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of ``day`` in the current time zone (Asia/Shanghai), as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_after(day: datetime.date) -> datetime.datetime:
    """Midnight at the end of ``day`` (start of the next day), aware."""
    return day_start(day + datetime.timedelta(days=1))


class FilterForm(BootstrapMixin, forms.Form):
    """Filter forms with Bootstrap widgets; a date range that ends before it starts is an error."""

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "结束日期不能早于开始日期")
        return data


def _read_audit_regions(request):
    return regions_in_scope(request.user, "read_audit")


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditEventFilter(django_filters.FilterSet):
    """user: account name contains; region: the unit's region subtree; unit: unit name contains;
    date_from/date_to: calendar days (inclusive, Asia/Shanghai); kind: event kind."""

    user = django_filters.CharFilter(label="操作账号", field_name="actor_username", lookup_expr="icontains")
    region = RegionChoiceFilter(label="地区", queryset=_read_audit_regions, method="in_region",
                                empty_label="全部地区")
    unit = django_filters.CharFilter(label="单位名称", field_name="unit_name", lookup_expr="icontains")
    kind = django_filters.ChoiceFilter(label="事件", choices=AuditEvent.Kind.choices, empty_label="全部事件")
    date_from = django_filters.DateFilter(label="开始日期", method="since", widget=DATE_WIDGET)
    date_to = django_filters.DateFilter(label="结束日期", method="until", widget=DATE_WIDGET)

    class Meta:
        model = AuditEvent
        fields = ["user", "region", "unit", "kind", "date_from", "date_to"]
        form = FilterForm

    def in_region(self, queryset, name, region):
        return queryset.filter(unit_path__startswith=region.path)

    def since(self, queryset, name, day):
        return queryset.filter(created_at__gte=day_start(day))

    def until(self, queryset, name, day):
        return queryset.filter(created_at__lt=day_after(day))


HISTORY_MODELS = [
    ("", "全部对象"),
    ("student", "学籍"),
    ("school", "学校"),
    ("grade", "年级"),
    ("schoolclass", "班级"),
    ("rolegrant", "角色授权"),
    ("user", "用户"),
]


class HistoryFilterForm(FilterForm):
    """Filters of the change history: which kind of object, who changed it, when."""

    model = forms.ChoiceField(label="对象", choices=HISTORY_MODELS, required=False)
    user = forms.CharField(label="操作账号", max_length=150, required=False)
    region = RegionField(Region.objects.none(), label="地区", required=False, empty_label="全部地区")
    date_from = forms.DateField(label="开始日期", required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label="结束日期", required=False, widget=DATE_WIDGET)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].set_queryset(regions_in_scope(actor, "read_audit"))

    def date_q(self) -> Q:
        """The date range as a filter on ``history_date`` (call after ``is_valid``)."""
        q = Q()
        if self.cleaned_data.get("date_from"):
            q &= Q(history_date__gte=day_start(self.cleaned_data["date_from"]))
        if self.cleaned_data.get("date_to"):
            q &= Q(history_date__lt=day_after(self.cleaned_data["date_to"]))
        return q
