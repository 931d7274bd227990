from django.urls import path

from . import views

app_name = "oversight"

urlpatterns = [
    path("", views.dashboard_home, name="dashboard_home"),
    path("dashboard/region/<str:key>/", views.dashboard, {"kind": "region"}, name="dashboard_region"),
    path("dashboard/school/<str:key>/", views.dashboard, {"kind": "school"}, name="dashboard_school"),
    path("dashboard/refresh/<str:code>/", views.dashboard_refresh, name="dashboard_refresh"),
    path("scorecards/", views.scorecard_home, name="scorecard_home"),
    path("scorecards/region/<str:key>/", views.scorecard, {"kind": "region"}, name="scorecard_region"),
    path("scorecards/school/<str:key>/", views.scorecard, {"kind": "school"}, name="scorecard_school"),
    path("inspections/", views.inspection_list, name="inspection_list"),
    path("inspections/new/", views.inspection_new, name="inspection_new"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/assign/", views.inspection_assign, name="inspection_assign"),
    path("inspections/<int:pk>/close/", views.inspection_close, name="inspection_close"),
    path("inspections/items/<int:pk>/judge/", views.item_judge, name="item_judge"),
    path("inspections/items/<int:pk>/evidence/", views.item_evidence, name="item_evidence"),
    path("verifications/", views.verification_list, name="verification_list"),
    path("verifications/<int:pk>/", views.verification_answer, name="verification_answer"),
    path("rectifications/", views.rectification_list, name="rectification_list"),
    path("rectifications/new/", views.rectification_new, name="rectification_new"),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification_detail"),
    path("rectifications/<int:pk>/reply/", views.rectification_reply, name="rectification_reply"),
    path("rectifications/<int:pk>/review/", views.rectification_review, name="rectification_review"),
    path("rectifications/replies/<int:pk>/evidence/", views.reply_evidence, name="reply_evidence"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/generate/", views.report_generate, name="report_generate"),
    path("reports/province/<str:code>/", views.report_overview, name="report_overview"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("reports/<int:pk>/xlsx/", views.report_xlsx, name="report_xlsx"),
]
