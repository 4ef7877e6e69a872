"""What the cache session ways really keep in Redis."""

import json
from http import HTTPStatus

import pytest
import redis
from django.contrib.sessions.backends.cache import KEY_PREFIX as CACHE_KEY_PREFIX
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as CACHED_DB_KEY_PREFIX
from django.contrib.sessions.models import Session

from helpers import WayClient, way_named


@pytest.fixture
def redis_client(redis_test_url):
    client = redis.Redis.from_url(redis_test_url)
    yield client
    client.close()


def stored(redis_client, cache, key: str) -> bytes | None:
    return redis_client.get(cache.make_key(key))


def test_cache_login_stores_the_session_in_redis_as_json(
    redis_sessions, redis_client, user, settings
):
    cache_way = WayClient(way_named("cache"))
    assert cache_way.login().status_code == HTTPStatus.OK
    session_key = cache_way.credential

    raw = stored(redis_client, redis_sessions, CACHE_KEY_PREFIX + session_key)

    data = json.loads(raw)  # JSON, not pickle: reading Redis must never run code
    assert data["_auth_user_id"] == str(user.pk)
    assert data["way"] == "cache"
    ttl = redis_client.ttl(redis_sessions.make_key(CACHE_KEY_PREFIX + session_key))
    assert settings.SESSION_COOKIE_AGE - 5 <= ttl <= settings.SESSION_COOKIE_AGE
    assert cache_way.resource().status_code == HTTPStatus.OK


def test_cache_logout_deletes_the_redis_key(redis_sessions, redis_client, user):
    cache_way = WayClient(way_named("cache"))
    assert cache_way.login().status_code == HTTPStatus.OK
    session_key = cache_way.credential

    assert cache_way.logout().status_code == HTTPStatus.OK

    assert stored(redis_client, redis_sessions, CACHE_KEY_PREFIX + session_key) is None


def test_cached_db_login_writes_redis_and_the_database(redis_sessions, redis_client, user):
    cached_db = WayClient(way_named("cached-db"))
    assert cached_db.login().status_code == HTTPStatus.OK
    session_key = cached_db.credential

    raw = stored(redis_client, redis_sessions, CACHED_DB_KEY_PREFIX + session_key)

    assert json.loads(raw)["way"] == "cached-db"
    assert Session.objects.get(session_key=session_key).get_decoded()["way"] == "cached-db"


def test_cached_db_survives_losing_its_cache_copy(redis_sessions, redis_client, user):
    cached_db = WayClient(way_named("cached-db"))
    assert cached_db.login().status_code == HTTPStatus.OK
    redis_client.delete(redis_sessions.make_key(CACHED_DB_KEY_PREFIX + cached_db.credential))

    assert cached_db.resource().status_code == HTTPStatus.OK  # read back from the database
