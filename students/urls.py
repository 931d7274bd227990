from django.urls import path

from . import views

app_name = "students"

urlpatterns = [
    path("", views.student_list, name="list"),
    path("new/", views.student_create, name="create"),
    path("check-id/", views.id_check, name="id_check"),
    path("registration/", views.registration, name="registration"),
    path("class/<int:pk>/", views.class_roster, name="roster"),
    path("problems/", views.problem_list, name="problem_list"),
    path("problems/<int:pk>/", views.problem_detail, name="problem_detail"),
    path("problems/<int:pk>/evidence/", views.problem_evidence, name="problem_evidence"),
    path("archives/", views.archive_list, name="archive_list"),
    path("<int:pk>/", views.student_detail, name="detail"),
    path("<int:pk>/edit/", views.student_update, name="edit"),
    path("<int:pk>/delete/", views.student_delete, name="delete"),
    path("<int:pk>/verify/", views.student_verify, name="verify"),
    path("<int:pk>/card/", views.student_card, name="card"),
    path("<int:pk>/reveal/", views.id_reveal, name="reveal"),
    path("<int:pk>/archive/", views.student_archive, name="archive"),
    path("<int:pk>/archive/<int:item_pk>/scan/", views.archive_scan, name="archive_scan"),
]
