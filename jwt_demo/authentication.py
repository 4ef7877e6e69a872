"""DRF authentication for the token ways."""

from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication


class JWTCookieAuthentication(JWTAuthentication):
    """SimpleJWT's JWTAuthentication, reading the access token from an HttpOnly cookie.

    The cookie is sent by the browser on its own, so every unsafe request also needs the CSRF
    token: the views of cookie ways require it (accounts.permissions.CsrfTokenRequired).
    """

    def authenticate(self, request):
        raw_token = request.COOKIES.get(settings.JWT_ACCESS_COOKIE_NAME)
        if not raw_token:  # absent, or emptied by a logout the client did not apply
            return None
        validated_token = self.get_validated_token(raw_token)
        return self.get_user(validated_token), validated_token
