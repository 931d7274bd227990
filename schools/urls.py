from django.urls import path

from . import views

app_name = "schools"

urlpatterns = [
    path("", views.school_list, name="school_list"),
    path("new/", views.school_create, name="school_create"),
    path("authorities/", views.authority_options, name="authority_options"),
    path("<int:pk>/", views.school_detail, name="school_detail"),
    path("<int:pk>/edit/", views.school_update, name="school_update"),
    path("<int:pk>/grades/generate/", views.grades_generate, name="grades_generate"),
    path("<int:pk>/classes/new/", views.class_create, name="class_create"),
    path("classes/<int:pk>/edit/", views.class_update, name="class_update"),
]
