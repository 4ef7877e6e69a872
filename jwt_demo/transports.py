"""How a token way carries its tokens: in the JSON body and a header, or in HttpOnly cookies.

The one difference between the two token ways, in one place: the views ask the way's
transport where the refresh token comes from and how the tokens go back.
"""

import posixpath

from django.conf import settings
from rest_framework.response import Response
from rest_framework_simplejwt.settings import api_settings

from ways.registry import Way
from ways.serializers import RefreshTokenSerializer


class HeaderTransport:
    """The jwt way: tokens in the answer's body; the refresh token in the request's body.

    The client keeps both and sends the access token as `Authorization: Bearer`.
    """

    # A bad refresh token at logout is the client's to hear of: nothing else is at stake.
    forgives_a_bad_logout = False

    def access_token(self, request) -> str | None:
        """The access token the request carries, if any, as `Authorization: Bearer`."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return token.strip() or None if scheme == "Bearer" else None

    def refresh_token(self, request, *, way: Way) -> str:
        serializer = RefreshTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["refresh"]

    def tokens_response(self, body: dict, *, way: Way, tokens: dict[str, str]) -> Response:
        return Response({**body, **tokens})

    def logged_out(self, response: Response, *, way: Way) -> Response:
        return response


class CookieTransport:
    """The jwt-cookie way: the tokens in HttpOnly cookies, out of scripts' reach.

    The refresh token's cookie reaches the refresh and logout endpoints only; every unsafe
    request needs the CSRF token, as every cookie way's does.
    """

    # The server can always make the browser forget its cookies, even when the refresh token
    # in them is missing, expired or already blacklisted.
    forgives_a_bad_logout = True

    def access_token(self, request) -> str | None:
        return request.COOKIES.get(settings.JWT_ACCESS_COOKIE_NAME) or None

    def refresh_token(self, request, *, way: Way) -> str | None:
        return request.COOKIES.get(settings.JWT_REFRESH_COOKIE_NAME) or None

    def cookie_specs(self, way: Way) -> list[dict]:
        """The cookies the tokens travel in, with the flags they are set with."""
        common = {
            "secure": settings.SESSION_COOKIE_SECURE,
            "http_only": True,
            "same_site": settings.SESSION_COOKIE_SAMESITE,
        }
        lifetimes = api_settings.ACCESS_TOKEN_LIFETIME, api_settings.REFRESH_TOKEN_LIFETIME
        return [
            {
                "name": settings.JWT_ACCESS_COOKIE_NAME,
                "path": "/",
                "max_age": int(lifetimes[0].total_seconds()),
                **common,
            },
            {
                "name": settings.JWT_REFRESH_COOKIE_NAME,
                "path": refresh_cookie_path(way),
                "max_age": int(lifetimes[1].total_seconds()),
                **common,
            },
        ]

    def tokens_response(self, body: dict, *, way: Way, tokens: dict[str, str]) -> Response:
        response = Response(body)
        access, refresh = self.cookie_specs(way)
        for spec, token in ((access, tokens["access"]), (refresh, tokens["refresh"])):
            response.set_cookie(
                spec["name"],
                token,
                max_age=spec["max_age"],
                path=spec["path"],
                secure=spec["secure"],
                httponly=spec["http_only"],
                samesite=spec["same_site"],
            )
        return response

    def logged_out(self, response: Response, *, way: Way) -> Response:
        samesite = settings.SESSION_COOKIE_SAMESITE
        for spec in self.cookie_specs(way):
            response.delete_cookie(spec["name"], path=spec["path"], samesite=samesite)
        return response


def refresh_cookie_path(way: Way) -> str:
    """The narrowest path that still reaches the refresh and logout endpoints.

    The refresh token is then never sent with calls to the resource or anywhere else.
    """
    return posixpath.commonpath([way.path("refresh"), way.path("logout")]) + "/"


TRANSPORTS = {"header": HeaderTransport(), "cookie": CookieTransport()}
