from django.urls import path

from . import views

app_name = "agreements"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/sign/", views.sign, name="sign"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("<int:pk>/void/", views.void, name="void"),
    path("<int:pk>/paper/", views.paper, name="paper"),
    path("<int:pk>/scan/", views.scan, name="scan"),
    path("<int:pk>/print/", views.print_view, name="print"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("registrars/", views.registrars, name="registrars"),
    path("registrars/<int:grant_pk>/issue/", views.registrar_issue, name="registrar_issue"),
    path("levels/", views.levels, name="levels"),
    path("levels/<str:code>/issue/", views.levels_issue, name="levels_issue"),
    path("levels/<str:code>/remind/", views.levels_remind, name="levels_remind"),
    path("liability/", views.liability, name="liability"),
    path("liability/issue-all/", views.liability_issue_all, name="liability_issue_all"),
    path("liability/<int:student_pk>/issue/", views.liability_issue, name="liability_issue"),
    path("liability/<int:student_pk>/invite/", views.invite, name="invite"),
    path("age-window/", views.age_windows, name="age_windows"),
    path("age-window/<str:code>/", views.age_window_edit, name="age_window_edit"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("portal/", views.portal, name="portal"),
    path("portal/redeem/", views.redeem, name="redeem"),
    path("portal/children/<int:student_pk>/", views.portal_child, name="portal_child"),
    path("portal/children/<int:student_pk>/print/", views.portal_print, name="portal_print"),
    path("portal/children/<int:student_pk>/pdf/", views.portal_pdf, name="portal_pdf"),
]
