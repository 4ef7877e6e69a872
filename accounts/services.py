"""Business logic shared by every way in."""

from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.models import User
from accounts.throttling import login_throttled
from login_sessions.models import EndReason, LoginSession
from login_sessions.policy import is_managed
from login_sessions.selectors import current_login_session_id
from login_sessions.services import login_sessions_end, login_sessions_rebind
from ways.refusals import CredentialRefused
from ways.serializers import LoginSerializer, PasswordChangeSerializer, SessionsEndSerializer

Renewed = TypeVar("Renewed")

WRONG_OLD_PASSWORD = "The old password is not the account's password."  # noqa: S105 - a sentence
REAUTHENTICATION_FAILED = "The password is not the account's password: nothing was ended."
NO_SUCH_LOGIN_SESSION = "None of your live login sessions has this id."
# Both stock mechanisms that end other sessions derive from the password hash: Django's
# session auth hash, checked on every request of a session way, and SimpleJWT's
# CHECK_REVOKE_TOKEN claim. A new hash ends every credential issued before it, at once.
OTHER_SESSIONS_END = (
    "In the stock profile a password change ends every other session of the account: each "
    "session and token is tied to the password hash. Keeping them needs the managed profile."
)


def authenticated(request, credentials: dict) -> User | None:
    """The active user these credentials name, None for wrong ones, or 429 when locked out."""
    user = authenticate(request, **credentials)
    # django-axes marks the request when it refused the attempt, or when this failure
    # reached the limit: the answer is then 429, whatever the password was.
    if user is None and getattr(request, "axes_locked_out", False):
        raise login_throttled(request, credentials)
    return user


def credentials_check(*, request, data) -> User:
    """The active user whose username and password are in the body, or 400 / 401 / 429."""
    serializer = LoginSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    user = authenticated(request, serializer.validated_data)
    if user is None:
        raise CredentialRefused("wrong_credentials")
    return user


def password_change(*, request, user: User, data, renew: Callable[[User], Renewed]) -> Renewed:
    """Set the user's new password after checking the old one; 400 per field, or 429.

    The old password is checked as a login checks it, through authenticate(), so that
    django-axes counts a wrong one: a stolen session cannot be used to guess the password
    any faster than the login allows. Django's password validators judge the new one.
    `renew` gives the client the credential it goes on with; it and the new password are
    one transaction, so that neither comes without the other. The checks stay outside it:
    a refusal rolls back what it holds, and the failure django-axes recorded would go too.

    In the managed profile the request's login session, and every other one of the user's
    unless `end_other_sessions` is false, is bound to the new password before it is saved:
    saving it ends every login session that was not (login_sessions.signals).
    """
    serializer = PasswordChangeSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    old, new = serializer.validated_data["old_password"], serializer.validated_data["new_password"]
    end_others = serializer.validated_data["end_other_sessions"]
    if not end_others and not is_managed():
        raise ValidationError({"end_other_sessions": [OTHER_SESSIONS_END]})
    # The user as the database has it: in the managed profile request.user is a snapshot.
    user = authenticated(request, {"username": user.get_username(), "password": old})
    if user is None:
        raise ValidationError({"old_password": [WRONG_OLD_PASSWORD]})
    try:
        validate_password(new, user)
    except DjangoValidationError as error:
        raise ValidationError({"new_password": list(error.messages)}) from error
    with transaction.atomic():
        user.set_password(new)
        if is_managed():
            kept = LoginSession.objects.filter(user=user)
            if end_others:
                kept = kept.filter(pk=current_login_session_id(request))
            login_sessions_rebind(user=user, login_sessions=kept)
        user.save(update_fields=["password"])
        return renew(user)


def login_sessions_end_as_user(*, request, user: User, data) -> int:
    """End one, the others or all of the user's live login sessions; returns how many.

    The password is asked again (ASVS 7.5.2), and checked as a login checks it: a wrong one
    counts toward the lockout, so a stolen session cannot guess it any faster, and ends
    nothing (403). One names a live login session of the user's own, else 404.
    """
    serializer = SessionsEndSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    credentials = {
        "username": user.get_username(),
        "password": serializer.validated_data["password"],
    }
    if authenticated(request, credentials) is None:
        raise PermissionDenied(REAUTHENTICATION_FAILED, code="reauthentication_failed")
    live = LoginSession.objects.live().filter(user_id=user.pk)
    current = current_login_session_id(request)
    scope = serializer.validated_data["scope"]
    if scope == "one":
        live = live.filter(pk=serializer.validated_data["id"])
        if not live.exists():
            raise NotFound(NO_SUCH_LOGIN_SESSION, code="session_not_found")
    elif scope == "others":
        live = live.exclude(pk=current)
    return login_sessions_end(login_sessions=live, reason=EndReason.USER_ENDED)


def demo_user_ensure(*, username: str, password: str, email: str = "") -> tuple[User, str]:
    """Create the demo user, or bring it back to these values; returns (user, what it did).

    What it did is "created", "updated" or "kept". It changes nothing when the user already
    is as asked: setting the same password again would hash it with a new salt, which changes
    every session's hash of it and so logs out every session way (and, with
    CHECK_REVOKE_TOKEN, every token) at each `make run`.
    """
    user, created = User.objects.get_or_create(username=username)
    # The demo user opens the admin too, to inspect what each way stored.
    wanted = {"email": email, "is_active": True, "is_staff": True, "is_superuser": True}
    changed = any(getattr(user, name) != value for name, value in wanted.items())
    for name, value in wanted.items():
        setattr(user, name, value)
    if not user.check_password(password):
        user.set_password(password)
        changed = True
    if created or changed:
        user.save()
    return user, "created" if created else "updated" if changed else "kept"
