"""Business logic of the token ways: issue, refresh and blacklist SimpleJWT tokens."""

from django.contrib.auth.models import update_last_login
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User


@transaction.atomic
def token_pair_issue(*, user: User) -> dict[str, str]:
    """A new refresh token (recorded as outstanding) and its access token."""
    refresh = RefreshToken.for_user(user)
    if api_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


@transaction.atomic
def token_pair_refresh(*, refresh: str) -> dict[str, str]:
    """Exchange a refresh token for a new pair; the old refresh token is blacklisted.

    One transaction: if recording the new token fails, the old one is not blacklisted either,
    and the client can retry instead of having to log in again.
    """
    serializer = TokenRefreshSerializer(data={"refresh": refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as error:
        raise InvalidToken(error.args[0]) from error
    except User.DoesNotExist as error:
        # SimpleJWT looks the user up without catching this: a deleted user's valid token
        # would otherwise be a 500.
        raise AuthenticationFailed(
            "No active account found for the given token.", code="no_active_account"
        ) from error
    return serializer.validated_data


def token_blacklist(*, refresh: str) -> None:
    """Blacklist a refresh token, so that it can no longer be refreshed."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as error:
        raise InvalidToken(error.args[0]) from error


def token_blacklist_many(*, outstanding_tokens) -> int:
    """Blacklist outstanding tokens; returns how many were not blacklisted before."""
    already = set(
        BlacklistedToken.objects.filter(token__in=outstanding_tokens).values_list(
            "token_id", flat=True
        )
    )
    new = [BlacklistedToken(token=token) for token in outstanding_tokens if token.pk not in already]
    BlacklistedToken.objects.bulk_create(new)
    return len(new)
