"""Endpoints every way shares in the managed profile: list and end your own login sessions."""

from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.services import login_sessions_end_as_user
from login_sessions.policy import is_managed
from login_sessions.selectors import current_login_session_id, login_sessions_listed
from ways.views import WayView

MANAGED_PROFILE_REQUIRED = (
    "The stock profile records no login sessions: each way keeps its credentials as its "
    "library ships them, and only the managed profile (SESSION_POLICY=managed) can list and "
    "end them across the ways."
)


class ManagedOnlyView(WayView):
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        # Before authentication: the answer is the same with or without a credential. A
        # method the view does not have is still a 405, as on every other endpoint.
        if not is_managed() and request.method in self.allowed_methods:
            raise NotFound(MANAGED_PROFILE_REQUIRED, code="managed_profile_required")
        super().initial(request, *args, **kwargs)


class SessionsView(ManagedOnlyView):
    """GET: every live login session of the user, through every way; the current one marked."""

    def get(self, request):
        listed = login_sessions_listed(
            user_id=request.user.pk, current_id=current_login_session_id(request)
        )
        return Response({"sessions": listed})


class SessionsEndView(ManagedOnlyView):
    """POST {password, scope, id}: end one, the others or all, after the password again."""

    def post(self, request):
        ended = login_sessions_end_as_user(request=request, user=request.user, data=request.data)
        return Response({"ended": ended})
