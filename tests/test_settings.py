"""Settings come from the environment: profiles, engines and services are swapped there."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 20 + "-production-test-key-" + "z" * 20


PROJECT_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "REDIS_SENTINELS",
    "NODE_NAME",
    "SESSION_BACKEND",
    "CACHE_KEY_PREFIX",
    "JWT_SIGNING_KEY",
    "ALLOWED_HOSTS",
}


def environment_without_project_variables() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in PROJECT_VARIABLES}


def settings_under(
    environment: dict[str, str], *names: str, module: str = "django"
) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with the given variables, print some as JSON.

    With another module (config.wsgi starts the application), import that one first.
    """
    env = environment_without_project_variables()
    code = (
        f"import json, django, {module}; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(names)!r}}}, "
        "default=str))"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def loaded(environment: dict[str, str], *names: str) -> dict:
    result = settings_under(environment, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_embedded_default_is_sqlite_local_memory_and_debug():
    values = loaded({}, "DEBUG", "DATABASES", "CACHES", "SESSION_ENGINE", "SESSION_COOKIE_SECURE")

    assert values["DEBUG"] is True
    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["CACHES"]["sessions"]["BACKEND"].endswith("LocMemCache")
    assert values["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"
    assert values["SESSION_COOKIE_SECURE"] is False


@pytest.mark.asvs("3.3.1")
@pytest.mark.ways("cookie", "db", "cache", "cached-db", "jwt-cookie")
def test_production_profile_makes_cookies_secure():
    values = loaded(
        {"DEBUG": "false", "SECRET_KEY": STRONG_KEY}, "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"
    )

    assert values == {"SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True}


def test_production_profile_refuses_to_start_without_secret_key():
    result = settings_under({"DEBUG": "false", "SECRET_KEY": ""}, "SECRET_KEY")

    assert result.returncode != 0
    assert "Set SECRET_KEY: it is required when DEBUG is off." in result.stderr


@pytest.mark.parametrize(
    ("backend", "engine"),
    [
        ("cookie", "sessions_demo.backends.signed_cookies"),
        ("db", "django.contrib.sessions.backends.db"),
        ("cache", "sessions_demo.backends.cache"),
        ("cached-db", "django.contrib.sessions.backends.cached_db"),
    ],
)
def test_session_backend_chooses_the_engine_django_itself_uses(backend, engine):
    assert loaded({"SESSION_BACKEND": backend}, "SESSION_ENGINE") == {"SESSION_ENGINE": engine}


def test_unknown_session_backend_is_a_clear_error():
    result = settings_under({"SESSION_BACKEND": "memcached"}, "SESSION_ENGINE")

    assert result.returncode != 0
    assert (
        "SESSION_BACKEND='memcached' is not one of cookie, db, cache, cached-db." in result.stderr
    )


def test_database_url_selects_postgresql():
    values = loaded({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/example"}, "DATABASES")

    assert values["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert values["DATABASES"]["default"]["NAME"] == "example"
    assert "init_command" not in values["DATABASES"]["default"].get("OPTIONS", {})


def test_sqlite_runs_in_wal_mode_and_takes_the_write_lock_when_a_transaction_begins(tmp_path):
    database = tmp_path / "db.sqlite3"
    code = textwrap.dedent(
        """
        import json, sqlite3, django
        from django.db import connection, transaction
        django.setup()
        cursor = connection.cursor()
        pragmas = {
            name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous")
        }
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
        with transaction.atomic():
            try:
                other.execute("BEGIN IMMEDIATE")
                locked = False
            except sqlite3.OperationalError:
                locked = True
        print(json.dumps({**pragmas, "locked_at_begin": locked}))
        """
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={
            **environment_without_project_variables(),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{database}",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    # synchronous 1 is NORMAL. An empty transaction.atomic() already holds the write lock:
    # another connection cannot begin writing, and would wait there, not fail mid-way.
    assert json.loads(result.stdout) == {
        "journal_mode": "wal",
        "synchronous": 1,
        "locked_at_begin": True,
    }


def test_redis_url_selects_django_redis_storing_json_not_pickle():
    values = loaded({"REDIS_URL": "redis://127.0.0.1:6379/3"}, "CACHES")

    for alias in ("default", "sessions"):
        assert values["CACHES"][alias]["BACKEND"] == "django_redis.cache.RedisCache"
        assert values["CACHES"][alias]["LOCATION"] == "redis://127.0.0.1:6379/3"
        assert (
            values["CACHES"][alias]["OPTIONS"]["SERIALIZER"]
            == "django_redis.serializers.json.JSONSerializer"
        )


def test_redis_sentinels_reach_the_primary_they_name_through_django_redis_sentinel_support():
    values = loaded(
        {"REDIS_URL": "redis://scj-cluster/2", "REDIS_SENTINELS": "127.0.0.1:26379,[::1]:26380"},
        "CACHES",
        "DJANGO_REDIS_CONNECTION_FACTORY",
    )

    assert (
        values["DJANGO_REDIS_CONNECTION_FACTORY"] == "django_redis.pool.SentinelConnectionFactory"
    )
    for alias in ("default", "sessions"):
        cache = values["CACHES"][alias]
        # One LOCATION, the primary: sessions are never read from an asynchronous replica.
        assert cache["LOCATION"] == "redis://scj-cluster/2"
        assert cache["OPTIONS"]["CLIENT_CLASS"] == "django_redis.client.DefaultClient"
        assert cache["OPTIONS"]["SENTINELS"] == [["127.0.0.1", 26379], ["::1", 26380]]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"REDIS_SENTINELS": "127.0.0.1:26379"}, "REDIS_SENTINELS needs REDIS_URL"),
        (
            {"REDIS_URL": "redis://scj-cluster/0", "REDIS_SENTINELS": "127.0.0.1"},
            "REDIS_SENTINELS: '127.0.0.1' is not host:port.",
        ),
    ],
)
def test_redis_sentinels_misconfigured_is_a_clear_error(variables, message):
    result = settings_under(variables, "CACHES")

    assert result.returncode != 0
    assert message in result.stderr


def test_cache_key_prefix_with_a_colon_is_a_clear_error():
    # django-redis recovers key names by splitting at colons; the admin's cache page needs them.
    result = settings_under({"CACHE_KEY_PREFIX": "my:app"}, "CACHES")

    assert result.returncode != 0
    assert "CACHE_KEY_PREFIX='my:app' must not contain ':'." in result.stderr


@pytest.mark.parametrize("debug", ["true", "false"])
def test_every_log_record_is_printed_once(debug):
    code = (
        "import logging, django; django.setup(); "
        "logging.getLogger('django.request').warning('one record'); "
        "logging.getLogger('accounts').error('another record')"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={
            **environment_without_project_variables(),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": debug,
            "SECRET_KEY": STRONG_KEY,
            "ALLOWED_HOSTS": "example.com",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["one record", "another record"]


def test_the_benchmarks_are_installed_in_the_development_profile_only():
    development = loaded({}, "INSTALLED_APPS")["INSTALLED_APPS"]
    production = loaded({"DEBUG": "false", "SECRET_KEY": STRONG_KEY}, "INSTALLED_APPS")

    assert "benchmarks" in development
    # Test support is a package the tests import, never an app.
    assert "testing" not in development
    assert {"benchmarks", "testing"}.isdisjoint(production["INSTALLED_APPS"])


def test_the_playground_is_on_in_the_development_profile_only_unless_set():
    development = loaded({}, "PLAYGROUND")
    production = loaded({"DEBUG": "false", "SECRET_KEY": STRONG_KEY}, "PLAYGROUND")
    chosen = loaded(
        {"DEBUG": "false", "SECRET_KEY": STRONG_KEY, "PLAYGROUND": "true"}, "PLAYGROUND"
    )

    assert (development, production, chosen) == (
        {"PLAYGROUND": True},
        {"PLAYGROUND": False},
        {"PLAYGROUND": True},
    )
