from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.batch_list, name="batch_list"),
    path("template.xlsx", views.template_download, name="template"),
    path("export/", views.export_schools, name="export_schools"),
    path("export/<int:school_pk>/", views.export_roster, name="export"),
    path("<int:pk>/", views.batch_detail, name="batch_detail"),
    path("<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("<int:pk>/import/", views.batch_import, name="batch_import"),
]
