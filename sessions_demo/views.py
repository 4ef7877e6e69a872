"""Endpoints of the session ways: log in, log out, change the password (the resource is
ways.views')."""

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.services import credentials_check, password_change
from playground.services import cart_of_session
from playground.views import PlaygroundCart
from sessions_demo.services import session_login, session_logout, session_password_changed
from ways.views import WayView


class LoginView(WayView):
    def perform_authentication(self, request):
        """Credentials come in the body; whatever session came in is replaced."""

    def get(self, request):
        return self.login_hint()

    def post(self, request):
        user = credentials_check(request=request, data=request.data)
        # Django's login and logout take Django's request, whose session is the way's.
        session_login(request=request._request, user=user, way=self.way)
        return Response(self.logged_in_body(user))


class LogoutView(WayView):
    def perform_authentication(self, request):
        """Logging out ends whatever session came in, live, stale or none at all."""

    def post(self, request):
        session_logout(request=request._request)
        return self.logged_out_response()


class PasswordView(WayView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        password_change(
            request=request,
            user=request.user,
            data=request.data,
            renew=lambda user: session_password_changed(
                request=request._request, user=user, way=self.way
            ),
        )
        return Response(self.password_changed_body(request.user))


class CartView(PlaygroundCart, WayView):
    def perform_authentication(self, request):
        """A cart needs no login: it lives in the way's session, anonymous or not."""

    def cart_items(self, *, item: str | None) -> list[str]:
        return cart_of_session(request=self.request._request, item=item)

    def cart_kept(self) -> str:
        return f"In the session: {self.way.describe_state()}"
