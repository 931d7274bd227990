from django.urls import path

from . import views

app_name = "transfers"

urlpatterns = [
    path("", views.change_list, name="change_list"),
    path("queue/", views.queue, name="queue"),
    path("queue/decide/", views.queue_decide, name="queue_decide"),
    path("transfer/new/", views.transfer_new, name="transfer_new"),
    path("new/<str:kind>/<int:student_pk>/", views.change_new, name="change_new"),
    path("<int:pk>/", views.change_detail, name="change_detail"),
    path("<int:pk>/edit/", views.change_edit, name="change_edit"),
    path("<int:pk>/submit/", views.change_submit, name="change_submit"),
    path("<int:pk>/withdraw/", views.change_withdraw, name="change_withdraw"),
    path("<int:pk>/rollback/", views.change_roll_back, name="change_roll_back"),
    path("<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path("<int:pk>/follow-up/", views.follow_up_new, name="follow_up_new"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("steps/<int:pk>/decide/", views.step_decide, name="step_decide"),
    path("suspensions/expired/", views.expired_suspensions, name="expired_suspensions"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("inbox/unread/", views.unread_badge, name="unread_badge"),
]
