"""System checks that refuse to run production with a weak or well-known signing key."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5
# Values copied from tutorials, docs and .env templates; a leaked key signs any session.
WELL_KNOWN_KEYS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "your-secret-key",
        "your-secret-key-here",
        "django-insecure-development-only-key-never-use-in-production",
    }
)


def weakness(key: str) -> str | None:
    """Why a signing key is unfit for production, or None if it looks strong."""
    if key.lower() in WELL_KNOWN_KEYS or key.startswith("django-insecure-"):
        return "is a well-known or development key"
    if len(key) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {MIN_UNIQUE_CHARACTERS} different characters"
    return None


def signing_keys() -> dict[str, str]:
    """Every key that signs a credential: sessions, CSRF tokens, JWTs."""
    keys = {"SECRET_KEY": settings.SECRET_KEY}
    for index, key in enumerate(settings.SECRET_KEY_FALLBACKS):
        keys[f"SECRET_KEY_FALLBACKS[{index}]"] = key
    jwt_key = settings.SIMPLE_JWT.get("SIGNING_KEY", settings.SECRET_KEY)
    if jwt_key != settings.SECRET_KEY:
        keys["SIMPLE_JWT['SIGNING_KEY'] (JWT_SIGNING_KEY)"] = jwt_key
    return keys


@register(Tags.security)
def check_signing_keys(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    return [
        Error(
            f"{name} {reason}: anyone who knows it can forge sessions and tokens.",
            hint='Generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"',
            id="accounts.E001",
        )
        for name, key in signing_keys().items()
        if (reason := weakness(key))
    ]


def refuse_weak_signing_keys() -> None:
    """Stop a server that runs no system checks of its own (gunicorn, uvicorn)."""
    errors = check_signing_keys(None)
    if errors:
        raise ImproperlyConfigured("; ".join(error.msg for error in errors))
