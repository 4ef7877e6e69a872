"""The plain-cookie way, insecure on purpose: the cookie says `user_id=1`, the server believes it.

What a Django session replaces, kept so the playground can show why: nothing signs the value,
nothing on the server remembers a login, so anyone who rewrites the number is that user, and
a copy taken before logout works as long as the account does. Served only where
PLAIN_COOKIE_WAY is on, which a server with DEBUG off refuses (ways.checks). Not part of the
API: left out of /api/ways/ and of the OpenAPI schema, as the playground is.
"""

from django.conf import settings
from django.urls import path
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response

from accounts.models import User
from accounts.services import credentials_check
from ways.refusals import CredentialRefused, cookie_challenge
from ways.registry import Way, plain_cookie_name
from ways.views import OnlyWhereSettingIsOn, ResourceView, WayView

PLAIN_COOKIE_OFF = (
    "The plain-cookie way is off (PLAIN_COOKIE_WAY, on with DEBUG only): a cookie that anyone "
    "can rewrite into another user's id has no place on a real server."
)
# A primary key, in decimal: longer than any id this database hands out is not one.
MAX_DIGITS = 18


class PlainCookieAuthentication(BaseAuthentication):
    """Whoever the cookie names, the request is: the flaw this way exists to show.

    It checks only what any site would (that the user exists and is active), which is why a
    deactivated account is refused and a rewritten number is not.
    """

    def __init__(self, *, way: Way):
        self.way = way
        self.cookie_name = plain_cookie_name()

    def authenticate(self, request):
        value = request.COOKIES.get(self.cookie_name)
        if not value:
            return None
        if not (value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS):
            raise CredentialRefused("credential_invalid", "The user_id cookie is not a number.")
        user = User.objects.filter(pk=int(value), is_active=True).first()
        if user is None:
            raise CredentialRefused("account_disabled")
        return user, None

    def authenticate_header(self, request):
        return cookie_challenge(self.cookie_name)


class PlainCookieOnly(OnlyWhereSettingIsOn):
    """Mixed into the way's views: served only where PLAIN_COOKIE_WAY is on, not in the schema."""

    setting = "PLAIN_COOKIE_WAY"
    off_detail = PLAIN_COOKIE_OFF
    off_code = "plain_cookie_off"


class LoginView(PlainCookieOnly, WayView):
    def perform_authentication(self, request):
        """Credentials come in the body; whatever cookie came in is replaced."""

    def get(self, request):
        return self.login_hint()

    def post(self, request):
        user = credentials_check(request=request, data=request.data)
        response = Response(self.logged_in_body(user))
        # Not HttpOnly, so that the playground's script can rewrite it, as anyone can in
        # devtools: that is the lesson. No Max-Age: the browser drops it when it closes, but
        # nothing on the server ever will.
        response.set_cookie(
            plain_cookie_name(),
            str(user.pk),
            path="/",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=False,
            samesite=settings.SESSION_COOKIE_SAMESITE,
        )
        return response


class LogoutView(PlainCookieOnly, WayView):
    def perform_authentication(self, request):
        """Logging out only asks the browser to forget: the server has nothing to end."""

    def post(self, request):
        response = self.logged_out_response()
        response.delete_cookie(
            plain_cookie_name(), path="/", samesite=settings.SESSION_COOKIE_SAMESITE
        )
        return response


class PlainCookieResourceView(PlainCookieOnly, ResourceView):
    pass


def way_urlpatterns(way: Way) -> list:
    return [
        path("auth/login/", LoginView.as_view(way=way), name="login"),
        path("auth/logout/", LogoutView.as_view(way=way), name="logout"),
        path("resource/", PlainCookieResourceView.as_view(way=way), name="resource"),
    ]
