"""URL patterns of one token way, mounted under its prefix by config/urls.py."""

from django.urls import path

from jwt_demo import views
from login_sessions.views import SessionsEndView, SessionsView
from playground.urls import playground_urlpatterns
from ways.registry import Way
from ways.views import ResourceView


def way_urlpatterns(way: Way) -> list:
    return [
        path("auth/login/", views.LoginView.as_view(way=way), name="login"),
        path("auth/logout/", views.LogoutView.as_view(way=way), name="logout"),
        path("auth/refresh/", views.RefreshView.as_view(way=way), name="refresh"),
        path("auth/password/", views.PasswordView.as_view(way=way), name="password"),
        path("resource/", ResourceView.as_view(way=way), name="resource"),
        path("sessions/", SessionsView.as_view(way=way), name="sessions"),
        path("sessions/end/", SessionsEndView.as_view(way=way), name="sessions_end"),
        *playground_urlpatterns(way, cart_view=views.CartView),
    ]
