from django.urls import path

from . import roll_views, views

app_name = "audits"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("<int:pk>/", views.event_detail, name="event_detail"),
    path("history/", views.history_list, name="history_list"),
    path("roll/", roll_views.roll_index, name="roll_index"),
    path("roll/schools/", roll_views.roll_schools, name="roll_schools"),
    path("roll/<int:pk>/", roll_views.roll_check_detail, name="roll_check"),
    path("roll/<int:pk>/mark/<int:student_pk>/", roll_views.roll_check_mark, name="roll_check_mark"),
    path("roll/<int:pk>/unrecorded/", roll_views.roll_check_unrecorded, name="roll_check_unrecorded"),
    path("roll/<int:pk>/complete/", roll_views.roll_check_complete, name="roll_check_complete"),
    path("roll/unrecorded/", roll_views.unrecorded_list, name="unrecorded_list"),
    path("roll/unrecorded/<int:pk>/", roll_views.unrecorded_detail, name="unrecorded_detail"),
    path("roll/followups/", roll_views.follow_up_list, name="follow_up_list"),
    path("roll/followups/<int:pk>/", roll_views.follow_up_detail, name="follow_up_detail"),
    path("roll/followups/<int:pk>/close/", roll_views.follow_up_close, name="follow_up_close"),
    path("roll/followups/<int:pk>/evidence/", roll_views.follow_up_evidence, name="follow_up_evidence"),
    path("roll/call/<int:pk>/", roll_views.roll_call, name="roll_call"),
    path("integrity/", roll_views.integrity_index, name="integrity_index"),
]
