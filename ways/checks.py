"""System checks that refuse to run production with a weak or well-known signing key, or with
the plain-cookie way, insecure on purpose, switched on."""

import functools
import hashlib
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

# SHA-256 digests of every key that badsecrets publishes for Django and for JWTs: a key
# anyone can look up signs any session and any token. The file ships with the project, so
# the check needs nothing else wherever it runs; scripts/published_keys.py writes it.
PUBLISHED_KEY_DIGESTS = Path(__file__).resolve().parent / "published_signing_keys.sha256"

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


@functools.cache
def published_key_digests() -> frozenset[str]:
    lines = PUBLISHED_KEY_DIGESTS.read_text().splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_published(key: str) -> bool:
    """Whether the key is in badsecrets' published lists (which it reads stripped)."""
    return hashlib.sha256(key.strip().encode()).hexdigest() in published_key_digests()


def weakness(key: str) -> str | None:
    """Why a signing key is unfit for production, or None if it looks strong."""
    if key.lower() in WELL_KNOWN_KEYS or key.startswith("django-insecure-"):
        return "is a well-known or development key"
    if len(key) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    if len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {MIN_UNIQUE_CHARACTERS} different characters"
    if is_published(key):
        return "is a published key (in badsecrets' lists of known Django and JWT keys)"
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
            id="ways.E001",
        )
        for name, key in signing_keys().items()
        if (reason := weakness(key))
    ]


@register(Tags.security)
def check_plain_cookie_way_off(app_configs, **kwargs):
    if settings.DEBUG or not settings.PLAIN_COOKIE_WAY:
        return []
    return [
        Error(
            "PLAIN_COOKIE_WAY is on with DEBUG off: its cookie says which user you are, and "
            "anyone can rewrite it into another user's id.",
            hint="Unset PLAIN_COOKIE_WAY (it follows DEBUG) or set it to false.",
            id="ways.E002",
        )
    ]


def refuse_unsafe_production() -> None:
    """Stop a server that runs no system checks of its own (gunicorn, uvicorn)."""
    errors = check_signing_keys(None) + check_plain_cookie_way_off(None)
    if errors:
        raise ImproperlyConfigured("; ".join(error.msg for error in errors))
