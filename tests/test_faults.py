"""Faults: Redis or the database unreachable gives clear 503 JSON, and nothing lost or half-done."""

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from http import HTTPStatus
from importlib import import_module

import pytest
import redis
import requests
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.utils.crypto import get_random_string
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from config.profiles import security_profile
from jwt_demo.tokens import WAY_CLAIM
from login_sessions.models import LoginSession
from login_sessions.selectors import cache_key, login_session_cache
from testing.servers import gunicorn_serving
from ways.exceptions import DATABASE_UNAVAILABLE, SESSION_STORE_UNAVAILABLE
from ways.registry import PLAIN_COOKIE, WAYS, Way

from conftest import skip_or_fail_without
from helpers import WayClient, way_named


def keeps_sessions_in_the_cache(way: Way) -> bool:
    return way.name in {"cache", "cached-db"}


def params(selected) -> list:
    return [pytest.param(way, id=way.name) for way in selected]


CACHE_WAYS = params(way for way in WAYS if keeps_sessions_in_the_cache(way))
WAYS_WITHOUT_REDIS = params(way for way in WAYS if not keeps_sessions_in_the_cache(way))
DATABASE_SESSION_WAYS = params(way for way in WAYS if way.name in {"db", "cached-db"})


def free_port() -> int:
    """A loopback port nothing listens on (now): a service there refuses every connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on loopback, to kill, pause and resume at will.

    The shared Redis (6379) is never touched: an outage is only ever this server's.
    """

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(  # noqa: S603 - the machine's redis-server, fixed arguments
            [
                shutil.which("redis-server"),
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_until_ready()

    def wait_until_ready(self, timeout: float = 10) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        self.process.kill()  # SIGKILL ends a paused server too
        self.process.wait()

    def pause(self) -> None:
        """Connections are still accepted, but nothing is answered: a hung Redis."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        skip_or_fail_without("redis-server")
    server = RedisServer()
    yield server
    server.kill()


def django_redis(url: str, key_prefix: str) -> dict:
    """A cache on Redis through django-redis, as settings.py configures one for REDIS_URL."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
            # Shorter than settings.py's 1 s and 2 s, to keep the suite quick.
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }


@pytest.fixture
def caches_on_own_redis(settings, redis_server) -> RedisServer:
    """Both caches, the sessions cache included, on the test's own Redis."""
    settings.REDIS_URL = redis_server.url
    settings.CACHES = {
        alias: django_redis(redis_server.url, f"{settings.CACHE_KEY_PREFIX}-{alias}")
        for alias in ("default", "sessions")
    }
    return redis_server


class DatabaseOutage:
    """Makes the default database refuse every connection until it ends, as a dead server does.

    Every query, savepoint and transaction asks the connection to ensure it is connected
    first; refusing there is what an unreachable server looks like to Django.
    """

    def __init__(self):
        self.connection = connections[DEFAULT_DB_ALIAS]

    def begin(self) -> None:
        def refuse():
            raise OperationalError(
                'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
            )

        self.connection.ensure_connection = refuse

    def end(self) -> None:
        self.connection.__dict__.pop("ensure_connection", None)


@pytest.fixture
def database_outage(db):
    outage = DatabaseOutage()
    yield outage
    outage.end()  # before pytest-django rolls the test's transaction back


def status_and_body(response) -> tuple[int, dict]:
    return response.status_code, response.json()


@pytest.fixture
def on_login():
    """Run a function when a session way's login() has done its work, before the response."""
    receivers = []

    def connect(function) -> None:
        def receiver(**kwargs):
            function()

        receivers.append(receiver)
        user_logged_in.connect(receiver, weak=False)

    yield connect
    for receiver in receivers:
        user_logged_in.disconnect(receiver)


def login_resource_logout(way: Way) -> list[int]:
    """The statuses of a login, a resource request and a logout, by a fresh client."""
    client = WayClient(way)
    statuses = [client.login().status_code, client.resource().status_code]
    return [*statuses, client.logout().status_code]


# --- Redis down ------------------------------------------------------------------------------


@pytest.mark.outage("Redis")
@pytest.mark.by_design("its sessions live in Redis")
@pytest.mark.parametrize("way", CACHE_WAYS)
def test_redis_outage_answers_503_json_on_every_verb_and_logs_it(
    way, user, caches_on_own_redis, caplog
):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK
    cookie = client.credential
    caches_on_own_redis.kill()

    with caplog.at_level(logging.ERROR, logger="ways.exceptions"):
        responses = {
            "resource": client.resource(),
            "logout": client.logout(),
            "login": WayClient(way).login(),
        }

    assert {verb: status_and_body(response) for verb, response in responses.items()} == {
        verb: (HTTPStatus.SERVICE_UNAVAILABLE, SESSION_STORE_UNAVAILABLE) for verb in responses
    }
    # Nothing lost: the browser was not told to drop its session, which Redis still holds.
    assert [r for r in responses.values() if way.session_cookie_name in r.cookies] == []
    assert client.credential == cookie
    logged = [r.getMessage() for r in caplog.records if r.name == "ways.exceptions"]
    assert [message.split(":")[0] for message in logged] == ["session_store_unavailable"] * 3


@pytest.mark.parametrize("way", CACHE_WAYS)
def test_login_refused_by_a_redis_outage_writes_nothing(way, user, caches_on_own_redis):
    caches_on_own_redis.kill()

    response = WayClient(way).login()

    assert status_and_body(response) == (
        HTTPStatus.SERVICE_UNAVAILABLE,
        SESSION_STORE_UNAVAILABLE,
    )
    assert Session.objects.count() == 0
    user.refresh_from_db()
    assert user.last_login is None


@pytest.mark.asvs("7.4.1")
@pytest.mark.wstg("SESS-06")
@pytest.mark.parametrize("way", CACHE_WAYS)
def test_logout_during_a_redis_outage_refuses_rather_than_leave_the_session_alive(
    way, user, caches_on_own_redis
):
    # Django's cache backend reads an unreachable Redis as "no session": logout would answer
    # 200 and drop the cookie while Redis kept the session, for any copy to resume later.
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK
    copy = client.replaying(client.credential)
    caches_on_own_redis.pause()  # a hung Redis: it accepts connections, answers nothing

    during = [client.resource().status_code, client.logout().status_code]
    caches_on_own_redis.resume()
    after = [client.resource().status_code, client.logout().status_code]

    assert during == [HTTPStatus.SERVICE_UNAVAILABLE] * 2
    assert after == [HTTPStatus.OK] * 2  # the same cookie, the same session: nothing lost
    assert copy.resource().status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.outage("Redis")
@pytest.mark.parametrize("way", WAYS_WITHOUT_REDIS)
@pytest.mark.policy("stock")  # the managed profile reads every login session through Redis
def test_ways_without_redis_keep_working_while_it_is_down(way, user, caches_on_own_redis):
    caches_on_own_redis.kill()

    assert login_resource_logout(way) == [HTTPStatus.OK] * 3


@pytest.mark.ways("cache")
def test_redis_dying_before_the_session_is_saved_answers_503_without_a_cookie(
    user, caches_on_own_redis, on_login
):
    # cached-db is not here: its save() logs a failed cache write and keeps the database row.
    on_login(caches_on_own_redis.kill)
    client = WayClient(way_named("cache"))

    response = client.login()

    assert status_and_body(response) == (
        HTTPStatus.SERVICE_UNAVAILABLE,
        SESSION_STORE_UNAVAILABLE,
    )
    assert way_named("cache").session_cookie_name not in response.cookies


@pytest.mark.outage("Redis")
@pytest.mark.by_design("the managed profile reads every login session through Redis")
@pytest.mark.parametrize("way", params(WAYS))
@pytest.mark.policy("managed")
def test_managed_ways_answer_503_while_redis_is_down_and_lose_nothing(
    way, user, caches_on_own_redis
):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK
    copy = client.replaying(client.credential)
    caches_on_own_redis.pause()  # a hung Redis: it accepts connections, answers nothing

    during = {
        "resource": client.resource(),
        "logout": client.logout(),
        "login": WayClient(way).login(),
    }
    caches_on_own_redis.resume()

    assert {verb: status_and_body(response) for verb, response in during.items()} == {
        verb: (HTTPStatus.SERVICE_UNAVAILABLE, SESSION_STORE_UNAVAILABLE) for verb in during
    }
    # The logout that could not reach Redis ended nothing: the login session goes on, and a
    # later logout ends every copy of its credential.
    assert [client.resource().status_code, client.logout().status_code] == [HTTPStatus.OK] * 2
    assert copy.resource().status_code == HTTPStatus.UNAUTHORIZED


# --- The database down -----------------------------------------------------------------------


@pytest.mark.outage("Redis")
@pytest.mark.parametrize("way", [PLAIN_COOKIE], ids=[PLAIN_COOKIE.name])
def test_the_plain_cookie_way_never_needs_redis(way, user, caches_on_own_redis, settings):
    """Nor a login session, in either profile: it keeps nothing anywhere."""
    settings.PLAIN_COOKIE_WAY = True
    caches_on_own_redis.kill()

    assert login_resource_logout(way) == [HTTPStatus.OK] * 3


@pytest.mark.outage("database")
@pytest.mark.by_design("it loads the user from the database")
@pytest.mark.parametrize("way", [PLAIN_COOKIE], ids=[PLAIN_COOKIE.name])
def test_the_plain_cookie_way_answers_503_json_without_its_database(
    way, user, database_outage, settings
):
    settings.PLAIN_COOKIE_WAY = True
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK

    database_outage.begin()
    during = client.resource()
    database_outage.end()

    assert status_and_body(during) == (HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE)
    assert client.resource().status_code == HTTPStatus.OK


@pytest.mark.outage("database")
@pytest.mark.policy("stock")
@pytest.mark.by_design("every way loads the user from the database")
def test_database_outage_answers_503_json_then_sessions_resume(way, logged_in, database_outage):
    database_outage.begin()
    during = logged_in.resource()
    database_outage.end()

    assert status_and_body(during) == (HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE)
    assert logged_in.resource().status_code == HTTPStatus.OK


@pytest.mark.outage("database")
@pytest.mark.policy("managed")
@pytest.mark.by_design(
    "login sessions live in the database: the cache answers for one only until its entry "
    "expires or its activity is due to be written"
)
def test_managed_requests_ride_out_a_database_outage_on_the_cache_until_it_misses(
    way, logged_in, database_outage
):
    login_session_id = LoginSession.objects.get().pk
    database_outage.begin()
    from_the_cache = logged_in.resource()
    # What expiry does to the entry (a second later with local memory).
    login_session_cache().delete(cache_key(login_session_id))
    missed = logged_in.resource()
    database_outage.end()

    # Only the db way reads a row (its session) on every request.
    expected = HTTPStatus.SERVICE_UNAVAILABLE if way.name == "db" else HTTPStatus.OK
    assert from_the_cache.status_code == expected
    assert status_and_body(missed) == (HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE)
    assert logged_in.resource().status_code == HTTPStatus.OK


@pytest.mark.parametrize("way", DATABASE_SESSION_WAYS)
def test_database_failing_before_the_session_is_saved_answers_503_without_a_cookie(
    way, user, database_outage, on_login
):
    # The view has logged in; the middleware's save after it is what fails.
    on_login(database_outage.begin)
    client = WayClient(way)

    response = client.login()
    database_outage.end()

    assert status_and_body(response) == (HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE)
    assert way.session_cookie_name not in response.cookies


def minted_credentials(settings, *, user_id: int) -> dict[str, dict[str, str]]:
    """A credential for every way, made without the server or its database.

    Signed cookies and JWTs need only the keys; the cache ways' sessions are written into the
    Redis the server reads; a db session id the server cannot even look up is enough.
    """

    def session_of(way_name: str) -> str:
        store = import_module(settings.SESSION_ENGINES[way_name]).SessionStore()
        store.update(
            {
                SESSION_KEY: str(user_id),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: "never checked: the user cannot be loaded",
                "way": way_name,
            }
        )
        store.save()
        return store.session_key

    def access_of(way_name: str) -> str:
        token = AccessToken.for_user(User(pk=user_id))
        token[WAY_CLAIM] = way_name
        return str(token)

    credentials = {
        way.name: {"cookies": {way.session_cookie_name: session_of(way.name)}}
        for way in WAYS
        if way.kind == "session" and way.name != "db"
    }
    credentials["db"] = {
        "cookies": {way_named("db").session_cookie_name: get_random_string(32, VALID_KEY_CHARS)}
    }
    credentials["jwt"] = {"headers": {"Authorization": f"Bearer {access_of('jwt')}"}}
    credentials["jwt-cookie"] = {
        "cookies": {settings.JWT_ACCESS_COOKIE_NAME: access_of("jwt-cookie")}
    }
    return credentials


@pytest.fixture
def server_without_database(settings, caches_on_own_redis, db):
    """gunicorn with DATABASE_URL on a closed port, sharing the test's own Redis."""
    for name, value in security_profile(production=False).items():
        setattr(settings, name, value)  # the server's DEBUG=true cookie names
    prefix = f"scj-faults-{secrets.token_hex(4)}"
    settings.CACHES = {
        alias: django_redis(caches_on_own_redis.url, f"{prefix}-{alias}")
        for alias in ("default", "sessions")
    }
    env = {
        **os.environ,
        "DEBUG": "true",
        "SECRET_KEY": settings.SECRET_KEY,
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT["SIGNING_KEY"],
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/unreachable",
        "REDIS_URL": caches_on_own_redis.url,
        "CACHE_KEY_PREFIX": prefix,
        "LOG_LEVEL": "CRITICAL",
    }
    with gunicorn_serving(env, threads=4) as base_url:
        yield base_url


@pytest.mark.outage("database")
@pytest.mark.by_design("every way loads the user from the database")
@pytest.mark.ways(*(way.name for way in WAYS))
@pytest.mark.policy("stock")  # the server runs the default profile
def test_a_server_without_its_database_answers_503_json_on_every_way(
    server_without_database, settings
):
    credentials = minted_credentials(settings, user_id=1)

    def login_status(way: Way) -> tuple[int, dict]:
        session = requests.Session()
        headers = {}
        if way.transport == "cookie":
            session.get(server_without_database + way.path("login"), timeout=10)
            headers["X-CSRFToken"] = session.cookies["csrftoken"]
        body = {"username": "demo", "password": "demo-password"}
        response = session.post(
            server_without_database + way.path("login"), json=body, headers=headers, timeout=10
        )
        return response.status_code, response.json()

    def resource_status(way: Way) -> tuple[int, dict]:
        response = requests.get(
            server_without_database + way.path("resource"), timeout=10, **credentials[way.name]
        )
        return response.status_code, response.json()

    everywhere = {way.name: (HTTPStatus.SERVICE_UNAVAILABLE, DATABASE_UNAVAILABLE) for way in WAYS}
    assert {way.name: resource_status(way) for way in WAYS} == everywhere
    assert {way.name: login_status(way) for way in WAYS} == everywhere
