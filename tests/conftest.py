"""Fixtures shared by every suite: services, the demo user, and a client for each way in."""

import os
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from accounts.models import User
from config.profiles import security_profile
from login_sessions.policy import POLICIES, STOCK
from testing.servers import address, is_postgresql, own_redis_keys, reachable, services
from ways.registry import WAYS, Way, cache_description, database_description

from helpers import PASSWORD, WayClient

pytest_plugins = ["security_matrix"]

# With REQUIRE_SERVICES=1 (set by .ci/run) a service that cannot be reached is a failure:
# a skipped Redis or PostgreSQL test in CI would be a failure nobody sees.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"

# Redis for the tests that need Redis itself, whichever cache the run configured; its own
# db number, and only keys under its own prefix are ever written or deleted.
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/11")
# The run's PostgreSQL if it has one, else the one `make test` uses: tests that need
# PostgreSQL whatever the run (races SQLite would hide) create databases of their own there.
POSTGRESQL_URL = (
    os.environ["DATABASE_URL"]
    if is_postgresql(os.environ.get("DATABASE_URL", ""))
    else "postgres://postgres@127.0.0.1:5432/sessions_cookies_jwt"
)


def skip_or_fail_without(service: str) -> None:
    """Skip the test on a laptop without the service; fail it when REQUIRE_SERVICES=1."""
    message = f"{service} is not reachable"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}, and REQUIRE_SERVICES=1 forbids skipping")
    pytest.skip(message)


# A test that drives a way, or proves a security requirement, runs in both session policies:
# what it claims must hold of each profile, and the matrix has a table for each.
WAY_FIXTURES = frozenset({"way", "way_name", "way_client", "logged_in"})
SECURITY_MARKERS = ("asvs", "wstg", "outage")


def pytest_generate_tests(metafunc):
    definition = metafunc.definition
    if marker := definition.get_closest_marker("policy"):
        policies = marker.args  # a test of what one profile does, and the other does not
    elif WAY_FIXTURES & set(metafunc.fixturenames) or any(
        definition.get_closest_marker(name) for name in SECURITY_MARKERS
    ):
        policies = POLICIES
    else:
        return
    metafunc.parametrize("session_policy", policies, indirect=True)


@pytest.fixture(autouse=True)
def session_policy(request, settings) -> str:
    """The session policy the test runs under: stock, unless the test runs in both."""
    settings.SESSION_POLICY = getattr(request, "param", STOCK)
    return settings.SESSION_POLICY


def needs(service: str, url: str) -> None:
    """Skip or fail the test (as skip_or_fail_without) unless the service at url answers."""
    if not reachable(url):
        skip_or_fail_without("{} at {}:{}".format(service, *address(url)))


def pytest_report_header(config):
    return f"database: {database_description()}; sessions cache: {cache_description()}"


def pytest_collection_modifyitems(config, items):
    # The cluster drill's test takes a minute and measures nothing of the run's own settings:
    # it runs once, in the services run (DATABASE_URL on PostgreSQL), not in the embedded one.
    if not is_postgresql(os.environ.get("DATABASE_URL", "")):
        cluster = [item for item in items if item.get_closest_marker("cluster")]
        if cluster:
            config.hook.pytest_deselected(items=cluster)
            items[:] = [item for item in items if not item.get_closest_marker("cluster")]
    # The services the run's settings were made from: DATABASE_URL's PostgreSQL, REDIS_URL.
    down = [name for name, url in services(os.environ).items() if not reachable(url)]
    if not down:
        return
    message = f"{', '.join(down)} not reachable"
    if REQUIRE_SERVICES:
        raise pytest.UsageError(f"{message}, and REQUIRE_SERVICES=1 forbids skipping")
    for item in items:
        item.add_marker(pytest.mark.skip(reason=message))


@pytest.fixture
def redis_test_url():
    """A reachable Redis for tests about Redis itself, or a skip (a failure in CI)."""
    needs("Redis", REDIS_TEST_URL)
    return REDIS_TEST_URL


@pytest.fixture
def redis_sessions(settings, redis_test_url):
    """Point the sessions cache at Redis through django-redis, as REDIS_URL does."""
    prefix = f"{settings.CACHE_KEY_PREFIX}-test-{os.getpid()}"
    settings.REDIS_URL = redis_test_url
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_test_url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"SERIALIZER": "django_redis.serializers.json.JSONSerializer"},
        },
    }
    cache = caches["sessions"]
    yield cache
    cache.delete_pattern("*")  # only this run's keys: the pattern is under its own prefix


@pytest.fixture(scope="session", autouse=True)
def redis_keys_of_this_run():
    """With REDIS_URL, write only under a prefix of this run's own, and delete it afterwards."""
    if not settings.REDIS_URL:
        yield
        return
    with own_redis_keys({"REDIS_URL": settings.REDIS_URL}, label="test") as prefix:
        aliases = settings.CACHES.items()
        own = {alias: {**cache, "KEY_PREFIX": f"{prefix}-{alias}"} for alias, cache in aliases}
        with override_settings(CACHES=own):
            yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Django's production hasher is slow by design; the tests log in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def production_profile(settings):
    """The settings DEBUG=false selects: HTTPS only, __Host- cookies, HSTS, Clear-Site-Data."""
    for name, value in security_profile(production=True).items():
        setattr(settings, name, value)
    settings.PLAIN_COOKIE_WAY = False  # it follows DEBUG, and refuses to run without it
    return settings


@pytest.fixture
def user(db):
    return User.objects.create_user(username="alice", email="alice@example.com", password=PASSWORD)


@pytest.fixture(params=WAYS, ids=[way.name for way in WAYS])
def way(request) -> Way:
    return request.param


@pytest.fixture
def way_client(way, user) -> WayClient:
    return WayClient(way)


@pytest.fixture
def logged_in(way_client) -> WayClient:
    response = way_client.login()
    assert response.status_code == HTTPStatus.OK, response.content
    return way_client
