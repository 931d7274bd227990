from django.urls import path

from . import views, views_grants

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
    path("session/restored/", views.session_restored, name="session_restored"),
    path("grants/", views_grants.grant_list, name="grant_list"),
    path("grants/new/", views_grants.grant_create, name="grant_create"),
    path("grants/<int:pk>/revoke/", views_grants.grant_revoke, name="grant_revoke"),
    path("grants/accounts/new/", views_grants.account_create, name="account_create"),
    path("grants/options/users/", views_grants.grant_user_options, name="grant_user_options"),
    path("grants/options/schools/", views_grants.grant_school_options, name="grant_school_options"),
    path("grants/options/classes/", views_grants.grant_class_options, name="grant_class_options"),
]
