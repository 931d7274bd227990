"""Search and filters of the role-grant list (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q

from xueji.forms import BootstrapMixin

from .forms_grants import GRANTABLE_ROLES
from .models import RoleGrant, User


class FilterForm(BootstrapMixin, forms.Form):
    """Filter forms with Bootstrap widgets."""


class UserGrantFilter(django_filters.FilterSet):
    """q: username or real name contains; role: accounts holding that role on any unit."""

    q = django_filters.CharFilter(label="搜索", method="search",
                                  widget=forms.TextInput(attrs={"placeholder": "用户名或姓名"}))
    role = django_filters.ChoiceFilter(label="角色", choices=GRANTABLE_ROLES, method="with_role",
                                       empty_label="全部角色")

    class Meta:
        model = User
        fields = ["q", "role"]
        form = FilterForm

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(username__icontains=value) | Q(real_name__icontains=value)) if value else queryset

    def with_role(self, queryset, name, value):
        # A subquery rather than a join: one row per account even when it holds the role on many units.
        return queryset.filter(pk__in=RoleGrant.objects.filter(role=value).values("user_id"))
