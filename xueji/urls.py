from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("schools/", include("schools.urls")),
    path("students/", include("students.urls")),
    path("changes/", include("transfers.urls")),
    path("audits/", include("audits.urls")),
    path("agreements/", include("agreements.urls")),
    path("imports/", include("imports.urls")),
    path("oversight/", include("oversight.urls")),
    path("calendar/", include("xueji.calendar_urls")),
    path("schoolyear/", include("schoolyear.urls")),
]
