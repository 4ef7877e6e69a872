"""The one protected resource, built the same way for every way in."""

from accounts.models import User
from ways.registry import Way


def protected_resource(*, user: User, way: Way) -> dict:
    """The body every way returns to an authenticated user; only "way" differs between ways."""
    return {
        "way": way.name,
        "user": {"id": user.pk, "username": user.username, "email": user.email},
        "resource": "The same protected resource, reached through every way in.",
    }
