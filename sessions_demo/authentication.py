"""DRF authentication for the session ways."""

from rest_framework.authentication import SessionAuthentication


class WaySessionAuthentication(SessionAuthentication):
    """DRF's SessionAuthentication, answering 401 (not 403) with a challenge naming the cookie.

    The session itself was loaded by WaySessionMiddleware from the way's own store and cookie.
    """

    def __init__(self, *, cookie_name: str):
        self.cookie_name = cookie_name

    def authenticate_header(self, request):
        return f'Session realm="api", cookie="{self.cookie_name}"'
