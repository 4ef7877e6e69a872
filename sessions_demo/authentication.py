"""DRF authentication for the session ways."""

from rest_framework.authentication import SessionAuthentication

from accounts.ways import Way


class WaySessionAuthentication(SessionAuthentication):
    """DRF's SessionAuthentication for one way: its own sessions only, and 401 (not 403).

    The session itself was loaded by WaySessionMiddleware from the way's own store and cookie.
    """

    def __init__(self, *, way: Way):
        self.way = way
        self.cookie_name = way.session_cookie_name

    def authenticate(self, request):
        authenticated = super().authenticate(request)
        # The db and cached-db ways, and the admin, share the django_session table: a key
        # issued for one of them must not open another (session puzzling).
        if authenticated and request.session.get("way") != self.way.name:
            return None
        return authenticated

    def authenticate_header(self, request):
        return f'Session realm="api", cookie="{self.cookie_name}"'
