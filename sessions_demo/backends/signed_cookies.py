"""Django's signed-cookie session engine, refusing a session that no longer fits in its cookie."""

import logging
from http import HTTPStatus

from django.conf import settings
from django.contrib.sessions.backends import signed_cookies

from ways.exceptions import AnswerableError

logger = logging.getLogger(__name__)

# Browsers keep a cookie's name and value up to 4096 bytes together and silently drop a
# bigger one, and the session with it (RFC 6265, 6.1).
MAX_COOKIE_BYTES = 4096


class SessionTooLarge(AnswerableError):
    """The signed session would pass what a browser keeps: nothing was saved."""

    status = HTTPStatus.INSUFFICIENT_STORAGE
    code = "session_too_large"

    def __init__(self, *, size: int):
        super().__init__(size)
        self.size = size

    @property
    def detail(self) -> str:
        return (
            f"The session no longer fits in its cookie ({self.size} bytes, the limit is "
            f"{MAX_COOKIE_BYTES}): nothing was saved. Keep less in the session, or use a "
            "server-side way."
        )


class SessionStore(signed_cookies.SessionStore):
    """Django's signed-cookie SessionStore, failing loudly where a browser would drop it.

    Only this engine's sessions can grow that big: the others keep an id in the cookie.
    """

    # The cookie the session travels in: each session way's store is told its own.
    cookie_name: str | None = None

    def save(self, must_create=False):
        super().save(must_create)
        cookie_name = self.cookie_name or settings.SESSION_COOKIE_NAME
        size = len(cookie_name.encode()) + len(self.session_key.encode())
        if size > MAX_COOKIE_BYTES:
            logger.error("Session cookie %s would be %d bytes; not set.", cookie_name, size)
            raise SessionTooLarge(size=size)
