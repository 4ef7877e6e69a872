"""DRF authentication for the token ways."""

from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from jwt_demo.tokens import (
    GENERATION_CLAIM,
    LOGIN_SESSION_CLAIM,
    access_token_validated,
    token_user,
)
from login_sessions.policy import is_managed
from login_sessions.services import login_session_check
from ways.refusals import REASONS, CredentialRefused, cookie_challenge
from ways.registry import Way


class WayJWTAuthentication(JWTAuthentication):
    """SimpleJWT's JWTAuthentication for one way: its own tokens only, refused with a reason.

    In the managed profile the token must name a live login session, whose cached snapshot
    of the user stands in for the user query; the login session is the request's auth.
    """

    def __init__(self, *, way: Way):
        super().__init__()
        self.way = way

    def authenticate(self, request):
        # SimpleJWT's own steps, but for the last: who the token authenticates.
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        return self.authenticated(self.get_validated_token(raw_token))

    def authenticated(self, validated_token) -> tuple:
        if is_managed():
            login_session = login_session_check(
                login_session_id=validated_token.get(LOGIN_SESSION_CLAIM),
                generation=validated_token.get(GENERATION_CLAIM),
                way=self.way,
            )
            return login_session.user.as_user(), login_session
        return self.get_user(validated_token), validated_token

    def get_raw_token(self, header: bytes) -> bytes | None:
        try:
            return super().get_raw_token(header)
        except AuthenticationFailed as error:
            detail = f"{REASONS['credential_invalid']} ({error.detail['detail']})"
            raise CredentialRefused("credential_invalid", detail) from error

    def get_validated_token(self, raw_token):
        return access_token_validated(raw_token, way=self.way)

    def get_user(self, validated_token):
        return token_user(validated_token)


class JWTCookieAuthentication(WayJWTAuthentication):
    """The access token read from an HttpOnly cookie instead of the Authorization header.

    The cookie is sent by the browser on its own, so every unsafe request also needs the CSRF
    token: the views of cookie ways require it (ways.permissions.CsrfTokenRequired).
    """

    def authenticate(self, request):
        raw_token = request.COOKIES.get(settings.JWT_ACCESS_COOKIE_NAME)
        if not raw_token:  # absent, or emptied by a logout the client did not apply
            return None
        return self.authenticated(self.get_validated_token(raw_token))

    def authenticate_header(self, request):
        return cookie_challenge(settings.JWT_ACCESS_COOKIE_NAME)
