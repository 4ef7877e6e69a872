"""Session middleware that gives each session way its own store and cookie."""

import logging
import time
from http import HTTPStatus
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import http_date

from sessions_demo.selectors import is_session_key_shaped
from ways.exceptions import (
    SERVICE_OUTAGES,
    outage_response,
)
from ways.registry import SESSION_WAYS, way_for_path

logger = logging.getLogger(__name__)

MAX_COOKIE_BYTES = 4096


def stored_session_key(store, value: str | None) -> str | None:
    """The cookie's value if it can name a stored session, else None (a new, empty session).

    Django looks any value up as it is: PostgreSQL refuses a NUL in a query (a 500), and the
    cache backends warn about every long or odd key. The signed cookie is checked by signature.
    """
    if value is None or issubclass(store, SignedCookieStore) or is_session_key_shaped(value):
        return value
    return None


def cookie_overflow(cookie_name: str, value: str) -> JsonResponse | None:
    """A 507 JSON answer if the cookie would pass what browsers keep, else None.

    Browsers keep a cookie's name and value up to 4096 bytes and silently drop a bigger one,
    and the session with it (RFC 6265 6.1). Only the signed-cookie session can grow that big:
    fail loudly rather than let the client believe its data was kept.
    """
    size = len(cookie_name.encode()) + len(value.encode())
    if size <= MAX_COOKIE_BYTES:
        return None
    logger.error("Session cookie %s would be %d bytes; not set.", cookie_name, size)
    response = JsonResponse(
        {
            "detail": f"The session no longer fits in its cookie ({size} bytes, the limit is "
            f"{MAX_COOKIE_BYTES}): nothing was saved. Keep less in the session, or use a "
            "server-side way.",
            "code": "session_too_large",
        },
        status=HTTPStatus.INSUFFICIENT_STORAGE,
    )
    add_never_cache_headers(response)
    return response


class WaySessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, choosing engine and cookie name by the way's URL prefix.

    Requests under a session way's prefix (/api/db/...) read and write that way's store and
    cookie, so one browser can be logged in through every way at once. Every other request,
    the admin's included, uses SESSION_ENGINE and SESSION_COOKIE_NAME as usual. Subclassing
    keeps Django's admin check (admin.E410) and the stock request-side behaviour.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.session_stores = {
            way.name: (import_module(way.session_engine).SessionStore, way.session_cookie_name)
            for way in SESSION_WAYS
        }

    def process_request(self, request):
        way = way_for_path(request.path_info)
        store, cookie_name = self.session_stores.get(
            way.name if way else None, (self.SessionStore, settings.SESSION_COOKIE_NAME)
        )
        request.session_cookie_name = cookie_name
        request.session = store(stored_session_key(store, request.COOKIES.get(cookie_name)))

    def process_response(self, request, response):
        # Django's process_response, with the request's cookie name in place of
        # settings.SESSION_COOKIE_NAME; Django offers no hook to change only the name.
        try:
            accessed = request.session.accessed
            modified = request.session.modified
            empty = request.session.is_empty()
            cookie_name = request.session_cookie_name
        except AttributeError:
            return response
        if cookie_name in request.COOKIES and empty:
            if response.status_code >= 500:
                # The request failed, and the session it came with may well live on: the
                # browser keeps its cookie, so that a retry after the outage finds it.
                return response
            response.delete_cookie(
                cookie_name,
                path=settings.SESSION_COOKIE_PATH,
                domain=settings.SESSION_COOKIE_DOMAIN,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
            need_vary_cookie = True
        else:
            need_vary_cookie = accessed
            if (modified or settings.SESSION_SAVE_EVERY_REQUEST) and not empty:
                if request.session.get_expire_at_browser_close():
                    max_age = None
                    expires = None
                else:
                    max_age = request.session.get_expiry_age()
                    expires = http_date(time.time() + max_age)
                if response.status_code < 500:
                    try:
                        request.session.save()
                    except SERVICE_OUTAGES as error:
                        # The view has answered, but what it put in the session was not
                        # stored: the client must not believe that its login happened.
                        return outage_response(error)
                    except UpdateError as error:
                        # The db backend reports any DatabaseError as UpdateError.
                        if isinstance(error.__context__, SERVICE_OUTAGES):
                            return outage_response(error.__context__)
                        raise SessionInterrupted(
                            "The request's session was deleted before the request completed. "
                            "The user may have logged out in a concurrent request, for example."
                        ) from error
                    if oversized := cookie_overflow(cookie_name, request.session.session_key):
                        return oversized
                    response.set_cookie(
                        cookie_name,
                        request.session.session_key,
                        max_age=max_age,
                        expires=expires,
                        domain=settings.SESSION_COOKIE_DOMAIN,
                        path=settings.SESSION_COOKIE_PATH,
                        secure=settings.SESSION_COOKIE_SECURE or None,
                        httponly=settings.SESSION_COOKIE_HTTPONLY or None,
                        samesite=settings.SESSION_COOKIE_SAMESITE,
                    )
                    need_vary_cookie = True
        if need_vary_cookie:
            patch_vary_headers(response, ("Cookie",))
        return response
