"""scripts/check_secrets.py: badsecrets finds a known signing key in a session cookie or a JWT."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from badsecrets.modules.passive.django_signedcookies import DjangoSignedCookies
from badsecrets.modules.passive.generic_jwt import Generic_JWT
from django.conf import settings as django_settings
from django.test import override_settings
from test_production_profile import check_output

from config import settings as project_settings
from scripts.published_keys import digests_text, published_keys
from ways.checks import (
    MIN_LENGTH,
    MIN_UNIQUE_CHARACTERS,
    PUBLISHED_KEY_DIGESTS,
    check_signing_keys,
    weakness,
)

from test_settings import STRONG_KEY, settings_under

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


# --- The start-up check refuses every published key -------------------------------------------


def test_the_shipped_digests_are_exactly_badsecrets_published_keys():
    # When badsecrets publishes more keys: .venv/bin/python scripts/published_keys.py
    assert PUBLISHED_KEY_DIGESTS.read_text() == digests_text(published_keys())


def caught_only_as_published(key: str) -> bool:
    """Long and varied enough that only the published lists tell it apart from a good key."""
    return (
        len(key) >= MIN_LENGTH
        and len(set(key)) >= MIN_UNIQUE_CHARACTERS
        and not (key.startswith("django-insecure-"))
    )


def test_hundreds_of_published_keys_would_pass_every_other_rule():
    # What the lists add: without them, these would sign production sessions and tokens.
    assert sum(caught_only_as_published(key) for key in published_keys()) > 900


def refusals(**changes) -> list[str]:
    """The check's messages in the production profile, with these settings changed."""
    simple_jwt = {**django_settings.SIMPLE_JWT, "SIGNING_KEY": STRONG_KEY}
    changes = {"DEBUG": False, "SECRET_KEY": STRONG_KEY, "SIMPLE_JWT": simple_jwt, **changes}
    with override_settings(**changes):
        return [error.msg for error in check_signing_keys(None)]


def jwt_signed_with(key: str) -> dict:
    return {**django_settings.SIMPLE_JWT, "SIGNING_KEY": key}


PUBLISHED = "is a published key (in badsecrets' lists of known Django and JWT keys)"


@pytest.mark.wstg("SESS-01", ways=("cookie",))
@pytest.mark.wstg("SESS-10", ways=("jwt", "jwt-cookie"))
def test_every_published_key_is_refused_as_secret_key():
    # As settings.py derives it: SimpleJWT signs with SECRET_KEY when JWT_SIGNING_KEY is unset.
    refused = {
        key: refusals(SECRET_KEY=key, SIMPLE_JWT=jwt_signed_with(key))
        for key in sorted(published_keys())
    }

    assert refused == {
        key: [f"SECRET_KEY {weakness(key)}: anyone who knows it can forge sessions and tokens."]
        for key in refused
    }


# SimpleJWT has no fallback keys: the fallbacks verify Django's signed values only.
@pytest.mark.wstg("SESS-01", ways=("cookie",))
def test_every_published_key_is_refused_as_a_fallback():
    keys = sorted(published_keys())

    messages = refusals(SECRET_KEY_FALLBACKS=keys)

    assert messages == [
        f"SECRET_KEY_FALLBACKS[{index}] {weakness(key)}: anyone who knows it can forge "
        "sessions and tokens."
        for index, key in enumerate(keys)
    ]


@pytest.mark.wstg("SESS-10", ways=("jwt", "jwt-cookie"))
def test_every_published_key_is_refused_as_jwt_signing_key():
    refused = {key: refusals(SIMPLE_JWT=jwt_signed_with(key)) for key in sorted(published_keys())}

    assert refused == {
        key: [
            f"SIMPLE_JWT['SIGNING_KEY'] (JWT_SIGNING_KEY) {weakness(key)}: anyone who knows it "
            "can forge sessions and tokens."
        ]
        for key in refused
    }


@pytest.mark.parametrize("variable", ["SECRET_KEY", "SECRET_KEY_FALLBACKS", "JWT_SIGNING_KEY"])
@pytest.mark.parametrize("entry_point", ["manage.py check --deploy", "config.wsgi"])
def test_a_published_key_stops_every_entry_point(variable, entry_point):
    key = min(key for key in published_keys() if caught_only_as_published(key))
    environment = {"SECRET_KEY": STRONG_KEY, variable: key}

    if entry_point == "config.wsgi":
        result = settings_under({"DEBUG": "false", **environment}, "DEBUG", module="config.wsgi")
    else:
        result = check_output(environment, "--deploy")

    assert result.returncode != 0
    assert PUBLISHED in result.stderr


def test_the_readme_counts_the_published_keys_it_refuses():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()

    assert f"any of the {len(published_keys()):,} keys badsecrets publishes" in readme
