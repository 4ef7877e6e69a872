"""Session middleware that gives each session way its own store and cookie."""

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
from django.contrib.sessions.middleware import SessionMiddleware

from sessions_demo.selectors import is_session_key_shaped
from ways.exceptions import error_response
from ways.registry import SESSION_WAYS, way_for_path


def stored_session_key(store, value: str | None) -> str | None:
    """The cookie's value if it can name a stored session, else None (a new, empty session).

    Django looks any value up as it is: PostgreSQL refuses a NUL in a query (a 500), and the
    cache backends warn about every long or odd key. The signed cookie is checked by signature.
    """
    if value is None or issubclass(store, SignedCookieStore) or is_session_key_shaped(value):
        return value
    return None


class WaySessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, choosing engine and cookie name by the way's URL prefix.

    Requests under a session way's prefix (/api/db/...) read and write that way's store and
    cookie, so one browser can be logged in through every way at once. Every other request,
    the admin's included, uses SESSION_ENGINE and SESSION_COOKIE_NAME as usual. Subclassing
    keeps Django's admin check (admin.E410) and Django's own process_response, which runs
    with the way's cookie standing in for SESSION_COOKIE_NAME (see site_wide_name()).
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        # Each way's store, told the name of the cookie it travels in.
        self.session_stores = {
            way.name: type(
                way.session_store.__name__,
                (way.session_store,),
                {"cookie_name": way.session_cookie_name},
            )
            for way in SESSION_WAYS
        }

    def process_request(self, request):
        way = way_for_path(request.path_info)
        store = self.session_stores.get(way.name) if way else None
        if store is None:
            return super().process_request(request)
        value = request.COOKIES.get(store.cookie_name)
        request.session = store(stored_session_key(store, value))
        return None

    def process_response(self, request, response):
        cookie_name = getattr(getattr(request, "session", None), "cookie_name", None)
        if cookie_name is None:  # the site-wide session
            return super().process_response(request, response)
        if response.status_code >= 500:
            # The request failed, and the session it came with may well live on (an outage):
            # the browser keeps its cookie, so that a retry after the outage finds it.
            return response
        try:
            with site_wide_name(request, response, cookie_name):
                return super().process_response(request, response)
        except Exception as error:
            # A session that did not fit in its cookie, or a store unreachable on save: the
            # view has answered, but what it put in the session was not stored.
            if (answer := error_response(error)) is None:
                raise
            return answer


@contextlib.contextmanager
def site_wide_name(request, response, cookie_name: str) -> Iterator[None]:
    """Django's process_response reads and writes settings.SESSION_COOKIE_NAME: let the way's
    cookie stand in for it there, then give the cookie it set, or deleted, its own name back.

    Django offers no hook to change only the name; inside, request.COOKIES holds the way's
    cookie under the site-wide name, and no other.
    """
    site_wide, cookies = settings.SESSION_COOKIE_NAME, request.COOKIES
    request.COOKIES = {name: value for name, value in cookies.items() if name != site_wide}
    if cookie_name in cookies:
        request.COOKIES[site_wide] = cookies[cookie_name]
    try:
        yield
    finally:
        request.COOKIES = cookies
    if site_wide in response.cookies:
        morsel = response.cookies.pop(site_wide)
        response.cookies[cookie_name] = morsel.value
        response.cookies[cookie_name].update(morsel)
