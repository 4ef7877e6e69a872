"""Business logic shared by every way in."""

from django.contrib.auth import authenticate

from accounts.models import User
from accounts.refusals import CredentialRefused
from accounts.serializers import LoginSerializer
from accounts.throttling import login_throttled


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


def demo_user_ensure(*, username: str, password: str, email: str = "") -> tuple[User, bool]:
    """Create the demo user, or reset it to the given password; returns (user, created)."""
    user, created = User.objects.get_or_create(username=username)
    user.email = email
    user.is_active = True
    # The demo user opens the admin too, to inspect what each way stored.
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return user, created
