"""Endpoints of the token ways: log in, refresh, log out, change the password (the resource is
ways.views')."""

from rest_framework.permissions import IsAuthenticated

from accounts.services import credentials_check, password_change
from jwt_demo.services import token_login, token_logout, token_password_changed, token_refresh
from jwt_demo.transports import TRANSPORTS
from login_sessions.selectors import current_login_session_id
from playground.services import cart_of_user
from playground.views import PlaygroundCart
from ways.refusals import CredentialRefused
from ways.views import WayView


class TokenWayView(WayView):
    @property
    def transport(self):
        return TRANSPORTS[self.way.transport]


class LoginView(TokenWayView):
    def perform_authentication(self, request):
        """Credentials come in the body; a stale access token must not block a new login.

        A good one is replaced: in the managed profile its login session ends (ASVS 7.2.4).
        """

    def get(self, request):
        return self.login_hint()

    def post(self, request):
        user = credentials_check(request=request, data=request.data)
        tokens = token_login(
            request=request._request,
            user=user,
            way=self.way,
            replacing=self.transport.access_token(request),
        )
        body = self.logged_in_body(user)
        return self.transport.tokens_response(body, way=self.way, tokens=tokens)


class RefreshView(TokenWayView):
    def perform_authentication(self, request):
        """Only the refresh token counts here; the access token has usually expired."""

    def post(self, request):
        refresh = self.transport.refresh_token(request, way=self.way)
        tokens = token_refresh(refresh=refresh, way=self.way)
        body = {"way": self.way.name, "detail": "Refreshed."}
        return self.transport.tokens_response(body, way=self.way, tokens=tokens)


class LogoutView(TokenWayView):
    def perform_authentication(self, request):
        """Logging out needs the refresh token only; the access token may have expired."""

    def post(self, request):
        refresh = self.transport.refresh_token(request, way=self.way)
        try:
            token_logout(refresh=refresh, way=self.way)
        except CredentialRefused:
            if not self.transport.forgives_a_bad_logout:
                raise
        return self.transport.logged_out(self.logged_out_response(), way=self.way)


class PasswordView(TokenWayView):
    permission_classes = [IsAuthenticated]

    def post(self, request):
        tokens = password_change(
            request=request,
            user=request.user,
            data=request.data,
            renew=lambda user: token_password_changed(
                user=user, way=self.way, login_session_id=current_login_session_id(request)
            ),
        )
        body = self.password_changed_body(request.user)
        return self.transport.tokens_response(body, way=self.way, tokens=tokens)


# Where a token way's cart goes: a JWT holds what it was signed with, at login, and no more.
CART_KEPT = (
    "On the server, under your user id: a JWT is signed once, at login, and cannot grow a "
    "cart; adding to it would mean a new token, signed, sent and stored at every change."
)


class CartView(PlaygroundCart, TokenWayView):
    permission_classes = [IsAuthenticated]

    def cart_items(self, *, item: str | None) -> list[str]:
        return cart_of_user(user=self.request.user, item=item)

    def cart_kept(self) -> str:
        return CART_KEPT
