"""Session middleware that gives each session way its own store and cookie."""

import time
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

from accounts.ways import SESSION_WAYS, way_for_path


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
        request.session = store(request.COOKIES.get(cookie_name))

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
                    except UpdateError as error:
                        raise SessionInterrupted(
                            "The request's session was deleted before the request completed. "
                            "The user may have logged out in a concurrent request, for example."
                        ) from error
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
