from django.urls import path

from . import views

app_name = "schoolyear"

urlpatterns = [
    path("graduation/", views.graduation_index, name="graduation_index"),
    path("graduation/grade/<int:pk>/", views.graduation_grade, name="graduation_grade"),
    path("graduation/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("graduation/<int:pk>/decide/", views.batch_decide, name="batch_decide"),
    path("graduation/entries/<int:pk>/undo/", views.entry_undo, name="entry_undo"),
    path("promotion/", views.promotion_index, name="promotion_index"),
    path("promotion/start/", views.promotion_start, name="promotion_start"),
    path("promotion/<int:pk>/", views.run_detail, name="run_detail"),
    path("promotion/<int:pk>/skips/", views.run_skips, name="run_skips"),
    path("promotion/<int:pk>/resume/", views.run_resume, name="run_resume"),
    path("promotion/<int:pk>/catch-up/", views.run_catch_up, name="run_catch_up"),
]
