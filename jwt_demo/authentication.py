"""DRF authentication for the token ways."""

from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from jwt_demo.tokens import access_token_validated, token_user
from ways.refusals import REASONS, CredentialRefused, cookie_challenge
from ways.registry import Way


class WayJWTAuthentication(JWTAuthentication):
    """SimpleJWT's JWTAuthentication for one way: its own tokens only, refused with a reason."""

    def __init__(self, *, way: Way):
        super().__init__()
        self.way = way

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
        validated_token = self.get_validated_token(raw_token)
        return self.get_user(validated_token), validated_token

    def authenticate_header(self, request):
        return cookie_challenge(settings.JWT_ACCESS_COOKIE_NAME)
