"""What a logged-in credential survives, per way, measured on real servers with this run's services.

The embedded run measures SQLite and the local-memory cache; the services run PostgreSQL and
Redis: the expected results differ only where the sessions cache decides them.
"""

import importlib.util
import json
import os
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from benchmarks.survival import SURVIVALS, credential_lifetime_s, measure_survival
from testing.clients import jwt_claims

from conftest import skip_or_fail_without
from security_catalogue import ALL

EVERYTHING = dict.fromkeys(SURVIVALS, True)
NOTHING = dict.fromkeys(SURVIVALS, False)
# SimpleJWT signs with SECRET_KEY when JWT_SIGNING_KEY is unset, and has no fallback keys.
ALL_BUT_KEY_ROTATION = {**EVERYTHING, "key_rotation": False}

USES_REDIS = bool(os.environ.get("REDIS_URL"))


@pytest.fixture(scope="module")
def survival() -> dict:
    if importlib.util.find_spec("gunicorn") is None:
        skip_or_fail_without("gunicorn")
    return measure_survival()  # this run's DATABASE_URL and REDIS_URL, as a user's would be


@pytest.mark.ways(*ALL)
def test_what_a_credential_survives_per_way(survival):
    assert survival["configuration"]["sessions_cache"] == (
        "Redis" if USES_REDIS else "local memory"
    )
    assert survival["survival"] == {
        "cookie": EVERYTHING,
        "db": EVERYTHING,
        # Local memory is one process's: neither a second process nor a restart sees it.
        "cache": EVERYTHING if USES_REDIS else NOTHING,
        # Its cache misses fall back to the database row.
        "cached-db": EVERYTHING,
        "jwt": ALL_BUT_KEY_ROTATION,
        "jwt-cookie": ALL_BUT_KEY_ROTATION,
    }


@pytest.mark.ways(*ALL)
def test_logout_revokes_server_side_sessions_at_once_and_self_contained_ones_not_before_expiry(
    survival,
):
    session_age = settings.SESSION_COOKIE_AGE
    access_lifetime = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    assert {way: delays["logout_s"] for way, delays in survival["revocation_delay"].items()} == {
        "cookie": f"not before expiry ({session_age} s)",
        "db": 0.0,
        "cache": 0.0,
        "cached-db": 0.0,
        "jwt": f"not before expiry ({access_lifetime} s)",
        "jwt-cookie": f"not before expiry ({access_lifetime} s)",
    }


@pytest.mark.ways(*ALL)
def test_password_change_revokes_every_credential_at_once(survival):
    # Django keeps a hash of the password in every session, the signed cookie's included;
    # SimpleJWT's CHECK_REVOKE_TOKEN keeps a hash of it in every token.
    assert {
        way: delays["password_change_s"] for way, delays in survival["revocation_delay"].items()
    } == dict.fromkeys(ALL, 0.0)


def test_survival_is_plain_data_ready_for_a_json_file(survival):
    assert json.loads(json.dumps(survival)) == survival
    assert survival["credential_lifetime_s"] == {
        **dict.fromkeys(("cookie", "db", "cache", "cached-db"), settings.SESSION_COOKIE_AGE),
        **dict.fromkeys(
            ("jwt", "jwt-cookie"),
            int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        ),
    }
    assert survival["poll"] == {"interval_s": 0.2, "bound_s": 3.0}
    assert set(survival["measures"]) == {*SURVIVALS, "revocation_delay"}
    assert len(survival["notes"]) == (0 if USES_REDIS else 1)


def test_a_token_pair_lives_its_configured_lifetime_across_a_second_boundary(monkeypatch):
    # SimpleJWT reads the clock once for the refresh token (the access token's expiry counts
    # from it) and again for the access token's own iat: here the two readings fall either
    # side of a second, as they did once in CI.
    issued = datetime(2026, 11, 26, 12, 0, 0, 999_999, tzinfo=UTC)
    readings = iter([issued, issued + timedelta(microseconds=2)])
    monkeypatch.setattr("rest_framework_simplejwt.tokens.aware_utcnow", lambda: next(readings))
    refresh = RefreshToken()
    client = SimpleNamespace(tokens={"access": str(refresh.access_token), "refresh": str(refresh)})
    access_lifetime = int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())

    access = jwt_claims(client.tokens["access"])
    assert access["exp"] - access["iat"] == access_lifetime - 1
    assert credential_lifetime_s(client) == access_lifetime
