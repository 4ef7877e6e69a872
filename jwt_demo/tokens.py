"""The token ways' tokens: SimpleJWT's, bound to the way that issued them, refused with a reason."""

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, BlacklistMixin, RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import User
from login_sessions.models import LoginSession
from login_sessions.policy import is_managed
from ways.refusals import REASONS, CredentialRefused
from ways.registry import Way

# The way that issued a token, copied from the refresh token into its access tokens: a token
# of one way means nothing to another (session puzzling), as a session of one way does not.
WAY_CLAIM = "way"
# In the managed profile: the login session a token belongs to (as django-allauth's JWTs
# name theirs), and the generation of its credentials (login_sessions.models.LoginSession).
LOGIN_SESSION_CLAIM = "sid"
GENERATION_CLAIM = "gen"

# SimpleJWT's codes for a user it will not authenticate, and what this project calls them.
USER_REFUSALS = {
    "user_not_found": "account_disabled",
    "user_inactive": "account_disabled",
    "password_changed": "password_changed",
}


class RevokedTokenError(TokenError):
    """The token is on the blacklist: a logout, a rotation or an admin revoked it."""


class WayRefreshToken(RefreshToken):
    """SimpleJWT's refresh token, recorded as outstanding with its way claim already in it."""

    def check_blacklist(self) -> None:
        # In the managed profile the login session's refresh family decides which of its
        # tokens is current, and what a rotated one presented again means (reuse).
        if is_managed():
            return
        # SimpleJWT's check, raising an error of its own kind so the answer can say "revoked".
        if BlacklistedToken.objects.filter(token__jti=self[api_settings.JTI_CLAIM]).exists():
            raise RevokedTokenError(_("Token is blacklisted"))

    @classmethod
    def for_user(
        cls, user: User, *, way: Way, login_session: LoginSession | None = None
    ) -> "WayRefreshToken":
        # SimpleJWT's BlacklistMixin.for_user records the token before a claim can be added;
        # skip past it to Token.for_user, add the way, then record the token as it does.
        token = super(BlacklistMixin, cls).for_user(user)
        token[WAY_CLAIM] = way.name
        if login_session is not None:
            token[LOGIN_SESSION_CLAIM] = login_session.pk
            token[GENERATION_CLAIM] = login_session.generation
            # However often it is refreshed, the chain ends with its login session (ASVS 7.3.2).
            token["exp"] = min(token["exp"], int(login_session.expires_at.timestamp()))
        OutstandingToken.objects.create(
            user=user,
            jti=token[api_settings.JTI_CLAIM],
            token=str(token),
            created_at=token.current_time,
            expires_at=datetime_from_epoch(token["exp"]),
        )
        return token


def validated(token_class, raw_token, *, way: Way):
    """The token decoded and checked (signature, expiry, type, blacklist, way), or a 401."""
    try:
        token = token_class(raw_token)
    except ExpiredTokenError as error:
        raise CredentialRefused("credential_expired") from error
    except RevokedTokenError as error:
        raise CredentialRefused("token_revoked") from error
    except TokenError as error:
        detail = f"{REASONS['credential_invalid']} SimpleJWT says: {error}."
        raise CredentialRefused("credential_invalid", detail) from error
    if token.get(WAY_CLAIM) != way.name:
        raise CredentialRefused("wrong_way")
    return token


def access_token_validated(raw_token, *, way: Way) -> AccessToken:
    return validated(AccessToken, raw_token, way=way)


def refresh_token_validated(raw_token, *, way: Way) -> WayRefreshToken:
    return validated(WayRefreshToken, raw_token, way=way)


def token_user(token) -> User:
    """The active user a token names, as SimpleJWT checks it: present, active, same password.

    CHECK_REVOKE_TOKEN puts a hash of the password hash in every token; a password change
    makes every token issued before it refer to a password that no longer is.
    """
    try:
        return JWTAuthentication().get_user(token)
    except AuthenticationFailed as error:
        # SimpleJWT's own errors carry their code in a detail dict.
        code = str(error.detail.get("code", "")) if isinstance(error.detail, dict) else ""
        raise CredentialRefused(USER_REFUSALS.get(code, "credential_invalid")) from error
