"""What each way is measured against, in Django's startproject middleware, URLs by way.

- floor: a bare JSON view, no authentication: what Django itself costs.
- peer: the way set up the stock way: Django's SessionMiddleware with the way's engine and a
  plain view, or a plain DRF view with SimpleJWT's authentication class.
- DRF peer (session ways): a plain DRF view with DRF's SessionAuthentication; DRF dispatch:
  the plain view called from an APIView that authenticates nothing, what DRF itself costs.
- fast: the way tuned for speed: a user snapshot in the session, or the user's claims in the
  token (JWTStatelessUserAuthentication); a deactivated user keeps access until expiry.
- the libraries users pick for revocable sessions, each in its documented setup, measured
  against the managed profile: django-rest-knox's database tokens, django-allauth's headless
  JWTs validated against their session, django-user-sessions' listed database sessions.
"""

from dataclasses import dataclass

from allauth.headless.contrib.rest_framework.authentication import JWTTokenAuthentication
from django.conf import settings
from django.http import JsonResponse
from django.urls import path
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import (
    JWTAuthentication,
    JWTStatelessUserAuthentication,
)

from ways.registry import TOKEN_WAYS

RESOURCE = "The same protected resource, reached through every way in."
USER_SNAPSHOT_KEY = "user_snapshot"
UNAUTHORIZED = {"detail": "Authentication credentials were not provided."}


def user_fields(user) -> dict:
    return {"id": user.pk, "username": user.username, "email": user.email}


def body(way: str, user: dict) -> dict:
    return {"way": way, "user": user, "resource": RESOURCE}


def bare_json(request):
    return JsonResponse({"ok": True})


def stock_session_resource(request, way):
    """A plain Django view behind Django's own SessionMiddleware and AuthenticationMiddleware."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse(UNAUTHORIZED, status=401)
    return JsonResponse(body(way, user_fields(user)))


def fast_session_resource(request, way):
    """The user from a snapshot kept in the session at login: no query at all."""
    snapshot = request.session.get(USER_SNAPSHOT_KEY)
    if snapshot is None:
        return JsonResponse(UNAUTHORIZED, status=401)
    return JsonResponse(body(way, snapshot))


class StockDrfResource(APIView):
    """A plain DRF view: IsAuthenticated, and the authentication class it is given."""

    permission_classes = [IsAuthenticated]

    def get(self, request, way):
        return Response(body(way, user_fields(request.user)))


class DrfDispatchOnly(APIView):
    """The plain view behind DRF's APIView: DRF's Request, dispatch and response handling only."""

    authentication_classes = []
    permission_classes = []

    def perform_authentication(self, request):
        """Authenticate nothing: the plain view reads Django's own request.user."""

    def get(self, request, way):
        return stock_session_resource(request._request, way)


class StockJWTCookieAuthentication(JWTAuthentication):
    """SimpleJWT's JWTAuthentication, reading the access token from the jwt-cookie way's cookie."""

    def authenticate(self, request):
        raw_token = request.COOKIES.get(settings.JWT_ACCESS_COOKIE_NAME)
        if not raw_token:
            return None
        validated_token = self.get_validated_token(raw_token)
        return self.get_user(validated_token), validated_token


class JWTCookieStatelessAuthentication(StockJWTCookieAuthentication):
    """The jwt-cookie reader with SimpleJWT's stateless user."""

    get_user = JWTStatelessUserAuthentication.get_user


class FastTokenResource(StockDrfResource):
    """SimpleJWT's stateless user: the user is the token's claims, no query."""

    def get(self, request, way):
        token = request.auth
        user = {"id": int(token["user_id"]), "username": token["username"], "email": token["email"]}
        return Response(body(way, user))


# SimpleJWT's readers of an access token, per transport: stock, and with the stateless user.
TOKEN_READERS = {
    "header": (JWTAuthentication, JWTStatelessUserAuthentication),
    "cookie": (StockJWTCookieAuthentication, JWTCookieStatelessAuthentication),
}


@dataclass(frozen=True, kw_only=True)
class PeerLibrary:
    """A library users pick for revocable sessions, and what its documented setup offers.

    Whether it revokes a credential at once is measured (benchmarks.measure.measure_peers);
    the rest is what its documentation and code say, in the project's words.
    """

    name: str
    package: str
    credential: str
    lists_sessions: str
    idle_timeout: str
    reuse_detection: str


PEER_LIBRARIES = (
    PeerLibrary(
        name="knox",
        package="django-rest-knox",
        credential="a random token in `Authorization: Token`, stored as a digest",
        lists_sessions="no endpoint: the admin lists tokens, `logoutall` ends them all",
        idle_timeout="a sliding expiry with `AUTO_REFRESH` (off by default), written at most "
        "every `MIN_REFRESH_INTERVAL`",
        reuse_detection="n/a: no refresh tokens",
    ),
    PeerLibrary(
        name="allauth",
        package="django-allauth (headless, JWT strategy, stateful validation)",
        credential="a JWT whose `sid` names a Django session, checked on every request",
        lists_sessions="yes, with `allauth.usersessions`",
        idle_timeout="no: the session's absolute expiry",
        reuse_detection="rotation: a used refresh token is refused, its session lives on",
    ),
    PeerLibrary(
        name="user-sessions",
        package="django-user-sessions",
        credential="a database session id in a cookie, with the client's address and agent",
        lists_sessions="yes: a page and the admin",
        idle_timeout="no: the session's absolute expiry",
        reuse_detection="n/a: no refresh tokens",
    ),
)

urlpatterns = [
    path("floor/", bare_json),
    # The peer libraries, each behind the same plain resource.
    path(
        "knox/",
        StockDrfResource.as_view(authentication_classes=[KnoxTokenAuthentication]),
        {"way": "knox"},
    ),
    path(
        "allauth/",
        StockDrfResource.as_view(authentication_classes=[JWTTokenAuthentication]),
        {"way": "allauth"},
    ),
    path("user-sessions/", stock_session_resource, {"way": "user-sessions"}),
    path("peer/<str:way>/session/", stock_session_resource),
    path("fast/<str:way>/session/", fast_session_resource),
    # The DRF peer of the session ways: DRF's own SessionAuthentication.
    path(
        "drf-peer/<str:way>/session/",
        StockDrfResource.as_view(authentication_classes=[SessionAuthentication]),
    ),
    path("drf-dispatch/<str:way>/session/", DrfDispatchOnly.as_view()),
]
for way in TOKEN_WAYS:
    stock, stateless = TOKEN_READERS[way.transport]
    urlpatterns += [
        path(
            f"peer/{way.name}/token/",
            StockDrfResource.as_view(authentication_classes=[stock]),
            {"way": way.name},
        ),
        path(
            f"fast/{way.name}/token/",
            FastTokenResource.as_view(authentication_classes=[stateless]),
            {"way": way.name},
        ),
    ]
