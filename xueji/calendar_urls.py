"""URLs of the holiday table page, mounted at /calendar/ (namespace "calendar")."""

from django.urls import path

from . import calendar_views as views

app_name = "calendar"

urlpatterns = [
    path("", views.calendar_index, name="index"),
    path("<int:year>/", views.calendar_year, name="year"),
    path("<int:year>/days/", views.calendar_day_set, name="day_set"),
    path("<int:year>/days/remove/", views.calendar_day_remove, name="day_remove"),
    path("<int:year>/complete/", views.calendar_year_mark, name="year_mark"),
]
