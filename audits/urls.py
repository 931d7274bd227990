from django.urls import path

from . import views

app_name = "audits"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("<int:pk>/", views.event_detail, name="event_detail"),
    path("history/", views.history_list, name="history_list"),
]
