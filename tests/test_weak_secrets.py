"""scripts/check_secrets.py: badsecrets finds a known signing key in a session cookie or a JWT."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from badsecrets.modules.passive.django_signedcookies import DjangoSignedCookies
from badsecrets.modules.passive.generic_jwt import Generic_JWT

from config import settings as project_settings

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_secrets.py"
DEVELOPMENT_KEY = project_settings._DEVELOPMENT_SECRET_KEY
# In badsecrets' Django keys and its JWT secrets alike: a key copied from a tutorial.
WELL_KNOWN_KEY = "secret"
COOKIE = "signed-cookie session (cookie way)"
JWT = "JWT access token (jwt, jwt-cookie ways)"

pytestmark = pytest.mark.ways("cookie", "jwt", "jwt-cookie")


def check_secrets(**environment: str) -> tuple[int, list[str]]:
    """Run the check in a fresh process configured by these variables; (status, lines)."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "JWT_SIGNING_KEY", "DEBUG"}
    }
    result = subprocess.run(  # noqa: S603 - this interpreter and the project's own script
        [sys.executable, SCRIPT],
        env={**inherited, **environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout.splitlines()


def production(secret_key: str, **more: str) -> dict[str, str]:
    """The variables of a production deployment, as the CI step sets them."""
    return {"DEBUG": "false", "ALLOWED_HOSTS": "example.com", "SECRET_KEY": secret_key, **more}


def strong_key() -> str:
    return secrets.token_urlsafe(50)


def wordlists(checker) -> set[str]:
    """The keys a badsecrets module tries: the same files its check_secret() reads."""
    files = {
        DjangoSignedCookies: ["django_secret_keys.txt", "top_250000_passwords.txt"],
        Generic_JWT: ["jwt_secrets.txt", "top_250000_passwords.txt"],
    }[checker]
    return {line.strip() for line in checker().load_resources(files)}


def test_badsecrets_does_not_know_the_development_key_so_the_check_adds_it():
    assert DEVELOPMENT_KEY not in wordlists(DjangoSignedCookies)
    assert DEVELOPMENT_KEY not in wordlists(Generic_JWT)
    assert WELL_KNOWN_KEY in wordlists(DjangoSignedCookies) & wordlists(Generic_JWT)


def test_check_flags_the_development_key_published_in_this_repository():
    # An empty SECRET_KEY counts as unset: DEBUG on, the development key signs everything.
    status, lines = check_secrets(DEBUG="true", SECRET_KEY="")

    assert status == 1
    assert lines[:2] == [
        f"{COOKIE}: KNOWN SECRET FOUND: djan... ({len(DEVELOPMENT_KEY)} characters)",
        f"{JWT}: KNOWN SECRET FOUND: djan... ({len(DEVELOPMENT_KEY)} characters)",
    ]


@pytest.mark.wstg("SESS-01", ways=("cookie",))
@pytest.mark.wstg("SESS-10", ways=("jwt", "jwt-cookie"))
def test_check_catches_a_well_known_key_in_the_cookie_and_the_jwt():
    status, lines = check_secrets(**production(WELL_KNOWN_KEY))

    assert status == 1
    assert lines[:2] == [
        f"{COOKIE}: KNOWN SECRET FOUND: secr... (6 characters)",
        f"{JWT}: KNOWN SECRET FOUND: secr... (6 characters)",
    ]


@pytest.mark.wstg("SESS-10", ways=("jwt", "jwt-cookie"))
def test_check_catches_a_well_known_jwt_key_behind_a_strong_secret_key():
    status, lines = check_secrets(**production(strong_key(), JWT_SIGNING_KEY=WELL_KNOWN_KEY))

    assert status == 1
    assert lines[:2] == [
        f"{COOKIE}: no known secret found",
        f"{JWT}: KNOWN SECRET FOUND: secr... (6 characters)",
    ]


def test_check_passes_a_fresh_random_key():
    status, lines = check_secrets(**production(strong_key()))

    assert (status, lines) == (
        0,
        [
            f"{COOKIE}: no known secret found",
            f"{JWT}: no known secret found",
            "no known secret found",
        ],
    )
