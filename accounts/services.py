"""Business logic shared by every way in."""

from django.contrib.auth import authenticate

from accounts.models import User
from accounts.throttling import login_throttled
from ways.refusals import CredentialRefused
from ways.serializers import LoginSerializer


def credentials_check(*, request, data) -> User:
    """The active user whose username and password are in the body, or 400 / 401 / 429."""
    serializer = LoginSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    user = authenticate(request, **serializer.validated_data)
    if user is None:
        # django-axes marks the request when it refused the login, or when this failure
        # reached the limit: the answer is then 429, whatever the password was.
        if getattr(request, "axes_locked_out", False):
            raise login_throttled(request, serializer.validated_data)
        raise CredentialRefused("wrong_credentials")
    return user


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
