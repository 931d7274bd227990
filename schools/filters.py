"""Search and filters of the school list (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q

from xueji.forms import BootstrapMixin

from .forms import RegionField
from .models import School
from .selectors import regions_in_scope


class FilterForm(BootstrapMixin, forms.Form):
    """Filter forms with Bootstrap widgets."""


def _scoped_regions(request):
    return regions_in_scope(request.user)


class RegionChoiceFilter(django_filters.ModelChoiceFilter):
    """A region select labelled with the path inside the user's scope ("合肥市 / 瑶海区")."""

    field_class = RegionField


class SchoolFilter(django_filters.FilterSet):
    """q: name or school code contains; region: the region or below (in scope); stage."""

    q = django_filters.CharFilter(label="搜索", method="search",
                                  widget=forms.TextInput(attrs={"placeholder": "学校名称或标识码"}))
    region = RegionChoiceFilter(label="地区", queryset=_scoped_regions, method="in_region", empty_label="全部地区")
    stage = django_filters.ChoiceFilter(label="办学类型", choices=School.Stage.choices, empty_label="全部类型")

    class Meta:
        model = School
        fields = ["q", "region", "stage"]
        form = FilterForm

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(school_code__startswith=value)) if value else queryset

    def in_region(self, queryset, name, region):
        # A region filter covers its whole subtree: one indexed prefix match on the school path.
        return queryset.filter(path__startswith=region.path)
