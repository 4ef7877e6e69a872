"""Endpoints of the token ways: log in, call the protected resource, refresh, log out."""

import contextlib

from django.conf import settings
from django.middleware.csrf import get_token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.services import credentials_check
from jwt_demo.authentication import JWTCookieAuthentication, WayJWTAuthentication
from jwt_demo.cookies import token_cookies_delete, token_cookies_set
from jwt_demo.services import token_blacklist, token_pair_issue, token_pair_refresh
from ways.refusals import CredentialRefused
from ways.resource import protected_resource
from ways.serializers import RefreshTokenSerializer
from ways.views import WayView


class TokenWayView(WayView):
    def get_authenticators(self):
        if self.way.transport == "cookie":
            return [JWTCookieAuthentication(way=self.way)]
        return [WayJWTAuthentication(way=self.way)]

    def refresh_token_from(self, request) -> str | None:
        """The refresh token the client holds: a cookie, or a field of the JSON body."""
        if self.way.transport == "cookie":
            return request.COOKIES.get(settings.JWT_REFRESH_COOKIE_NAME)
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["refresh"]

    def tokens_response(self, body: dict, tokens: dict[str, str]) -> Response:
        """Hand tokens over: in the body for the header way, in HttpOnly cookies otherwise."""
        if self.way.transport == "header":
            return Response({**body, **tokens})
        response = Response(body)
        token_cookies_set(response=response, way=self.way, tokens=tokens)
        return response


class LoginView(TokenWayView):
    def perform_authentication(self, request):
        """Credentials come in the body; a stale access token must not block a new login."""

    def get(self, request):
        if self.way.transport == "cookie":
            get_token(request)  # sets the csrftoken cookie the POST must echo in X-CSRFToken
            detail = (
                "POST {username, password} as JSON, with the csrftoken cookie's value in the "
                "X-CSRFToken header."
            )
        else:
            detail = "POST {username, password} as JSON."
        return Response({"way": self.way.name, "detail": detail})

    def post(self, request):
        user = credentials_check(request=request, data=request.data)
        body = {"way": self.way.name, "username": user.username, "detail": "Logged in."}
        return self.tokens_response(body, token_pair_issue(user=user, way=self.way))


class ResourceView(TokenWayView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(protected_resource(user=request.user, way=self.way))


class RefreshView(TokenWayView):
    def perform_authentication(self, request):
        """Only the refresh token counts here; the access token has usually expired."""

    def post(self, request):
        refresh = self.refresh_token_from(request)
        if not refresh:  # absent, or emptied by a logout the client did not apply
            raise CredentialRefused("not_authenticated", "No refresh token cookie: log in again.")
        body = {"way": self.way.name, "detail": "Refreshed."}
        return self.tokens_response(body, token_pair_refresh(refresh=refresh, way=self.way))


class LogoutView(TokenWayView):
    def perform_authentication(self, request):
        """Logging out needs the refresh token only; the access token may have expired."""

    def post(self, request):
        refresh = self.refresh_token_from(request)
        if self.way.transport == "header":
            token_blacklist(refresh=refresh, way=self.way)
            return self.logged_out_response()
        # The server can always make the browser forget its cookies, even when the refresh
        # token in them is missing, expired or already blacklisted.
        if refresh is not None:
            with contextlib.suppress(CredentialRefused):
                token_blacklist(refresh=refresh, way=self.way)
        response = self.logged_out_response()
        token_cookies_delete(response=response, way=self.way)
        return response
