"""The jwt-cookie way's cookies: where the browser keeps the tokens, out of scripts' reach."""

import posixpath

from django.conf import settings
from rest_framework_simplejwt.settings import api_settings

from ways.registry import Way


def refresh_cookie_path(way: Way) -> str:
    """The narrowest path that still reaches the refresh and logout endpoints.

    The refresh token is then never sent with calls to the resource or anywhere else.
    """
    return posixpath.commonpath([way.path("refresh"), way.path("logout")]) + "/"


def token_cookies_set(*, response, way: Way, tokens: dict[str, str]) -> None:
    common = {
        "secure": settings.SESSION_COOKIE_SECURE,
        "httponly": True,
        "samesite": settings.SESSION_COOKIE_SAMESITE,
    }
    response.set_cookie(
        settings.JWT_ACCESS_COOKIE_NAME,
        tokens["access"],
        max_age=api_settings.ACCESS_TOKEN_LIFETIME,
        path="/",
        **common,
    )
    response.set_cookie(
        settings.JWT_REFRESH_COOKIE_NAME,
        tokens["refresh"],
        max_age=api_settings.REFRESH_TOKEN_LIFETIME,
        path=refresh_cookie_path(way),
        **common,
    )


def token_cookies_delete(*, response, way: Way) -> None:
    samesite = settings.SESSION_COOKIE_SAMESITE
    response.delete_cookie(settings.JWT_ACCESS_COOKIE_NAME, path="/", samesite=samesite)
    response.delete_cookie(
        settings.JWT_REFRESH_COOKIE_NAME, path=refresh_cookie_path(way), samesite=samesite
    )
