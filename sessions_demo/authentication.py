"""DRF authentication for the session ways."""

from django.contrib.auth import SESSION_KEY
from rest_framework.authentication import SessionAuthentication

from login_sessions.policy import is_managed
from login_sessions.services import login_session_check
from sessions_demo.selectors import session_refusal, session_user_refusal
from sessions_demo.services import GENERATION_KEY, LOGIN_SESSION_KEY
from ways.refusals import CredentialRefused, cookie_challenge
from ways.registry import Way


class WaySessionAuthentication(SessionAuthentication):
    """DRF's SessionAuthentication for one way: its own sessions only, refused with a reason.

    The session itself was loaded by WaySessionMiddleware from the way's own store and cookie.
    No cookie is "not my scheme" (None); a cookie that opens no session of this way is "my
    scheme, bad credentials": a 401 that says why. In the managed profile the session must
    name a live login session, whose cached snapshot of the user stands in for the user query.
    """

    def __init__(self, *, way: Way):
        self.way = way
        self.cookie_name = way.session_cookie_name

    def authenticate(self, request):
        value = request.COOKIES.get(self.cookie_name)
        if not value:  # absent, or emptied by a logout the client did not apply
            return None
        session = request._request.session
        # The db and cached-db ways, and the admin, share the django_session table: a key
        # issued for one of them must not open another (session puzzling).
        if refusal := session_refusal(session=session, value=value, way=self.way):
            raise CredentialRefused(refusal)
        if is_managed():
            login_session = login_session_check(
                login_session_id=session.get(LOGIN_SESSION_KEY),
                generation=session.get(GENERATION_KEY),
                way=self.way,
            )
            # The CSRF token is checked by the view's permissions, as for jwt-cookie.
            return login_session.user.as_user(), login_session
        # Read before the user is: Django flushes a session whose password hash is stale.
        user_id = session.get(SESSION_KEY)
        authenticated = super().authenticate(request)
        if authenticated is None:
            raise CredentialRefused(session_user_refusal(user_id=user_id))
        return authenticated

    def authenticate_header(self, request):
        return cookie_challenge(self.cookie_name)
