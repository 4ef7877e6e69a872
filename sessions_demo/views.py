"""Endpoints of the session ways: log in, call the protected resource, log out."""

from django.middleware.csrf import get_token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.services import credentials_check
from sessions_demo.authentication import WaySessionAuthentication
from sessions_demo.services import session_login, session_logout
from ways.resource import protected_resource
from ways.views import WayView


class SessionWayView(WayView):
    def get_authenticators(self):
        return [WaySessionAuthentication(way=self.way)]


class LoginView(SessionWayView):
    def perform_authentication(self, request):
        """Credentials come in the body; whatever session came in is replaced."""

    def get(self, request):
        get_token(request)  # sets the csrftoken cookie the POST must echo in X-CSRFToken
        return Response(
            {
                "way": self.way.name,
                "detail": "POST {username, password} as JSON, with the csrftoken cookie's "
                "value in the X-CSRFToken header.",
            }
        )

    def post(self, request):
        user = credentials_check(request=request, data=request.data)
        # Django's login and logout take Django's request, whose session is the way's.
        session_login(request=request._request, user=user, way=self.way)
        return Response({"way": self.way.name, "username": user.username, "detail": "Logged in."})


class ResourceView(SessionWayView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(protected_resource(user=request.user, way=self.way))


class LogoutView(SessionWayView):
    def perform_authentication(self, request):
        """Logging out ends whatever session came in, live, stale or none at all."""

    def post(self, request):
        session_logout(request=request._request)
        return self.logged_out_response()
