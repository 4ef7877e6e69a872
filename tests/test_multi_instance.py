"""Two app server processes sharing one database: which ways in, and which logouts, cross over.

The article's scaling problem: a session store must be shared when there is more than one
server. Here two gunicorn processes share one PostgreSQL database of their own and, in the
first pair, one Redis (under a key prefix of their own); in the second pair each keeps its
sessions cache in its own local memory. A login on server A, a call and a logout on server B,
then the credential as it was before the logout replayed on server A. The pair sharing Redis
runs in both session policies: in the managed one, a login session ended on one server is
refused on the other at once, on every way.
"""

import contextlib
import importlib.util
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus

import pytest

from testing.clients import WayHttpClient, ways_served
from testing.servers import (
    demo_database,
    gunicorn_serving,
    own_redis_keys,
    server_environment,
)

from conftest import POSTGRESQL_URL, REDIS_TEST_URL, needs, skip_or_fail_without
from helpers import ways

OK, UNAUTHORIZED = HTTPStatus.OK, HTTPStatus.UNAUTHORIZED


@dataclass(frozen=True)
class ServerPair:
    a: str
    b: str
    ways: dict[str, dict]  # the listing of GET /api/ways/, by name


@contextlib.contextmanager
def two_servers(env: dict[str, str]) -> Iterator[ServerPair]:
    """Two gunicorn processes (one worker each) with the same settings, on free ports."""
    with gunicorn_serving(env, threads=4) as a, gunicorn_serving(env, threads=4) as b:
        yield ServerPair(a=a, b=b, ways=ways_served(a))


@pytest.fixture(scope="module")
def shared_database() -> Iterator[dict[str, str]]:
    """The servers' environment, with a migrated PostgreSQL database holding the demo user."""
    if importlib.util.find_spec("gunicorn") is None:
        skip_or_fail_without("gunicorn")
    needs("PostgreSQL", POSTGRESQL_URL)
    env = {
        key: value
        for key, value in server_environment(os.environ).items()
        if key not in {"REDIS_URL", "CACHE_KEY_PREFIX"}
    }
    with demo_database({**env, "DATABASE_URL": POSTGRESQL_URL}, label="multi") as database_url:
        yield {**env, "DATABASE_URL": database_url}


@pytest.fixture(scope="module")
def sharing_redis(shared_database) -> Iterator[Callable[[str], ServerPair]]:
    """The pair of servers sharing Redis that runs a session policy, started when first asked."""
    needs("Redis", REDIS_TEST_URL)
    env = {**shared_database, "REDIS_URL": REDIS_TEST_URL}
    pairs: dict[str, ServerPair] = {}
    with contextlib.ExitStack() as started:
        prefix = started.enter_context(own_redis_keys(env, label="multi"))

        def pair_running(policy: str) -> ServerPair:
            if policy not in pairs:
                # Each policy's servers keep their cache entries under a prefix of their own.
                policy_env = {**env, "CACHE_KEY_PREFIX": f"{prefix}-{policy}"}
                pairs[policy] = started.enter_context(
                    two_servers({**policy_env, "SESSION_POLICY": policy})
                )
            return pairs[policy]

        yield pair_running


@pytest.fixture(scope="module")
def with_local_memory(shared_database) -> Iterator[ServerPair]:
    # No REDIS_URL: each process's sessions cache is its own memory; nothing to clean up.
    with two_servers(
        {**shared_database, "CACHE_KEY_PREFIX": f"scj-multi-{secrets.token_hex(4)}"}
    ) as pair:
        yield pair


def across(pair: ServerPair, way_name: str) -> dict[str, int]:
    """Log in on A; call the resource and log out on B; replay the credential on A and B."""
    on_a = WayHttpClient(pair.a, pair.ways[way_name])
    on_a.log_in()
    on_b = on_a.copy(base_url=pair.b)
    # The credential as it was before the logout, as a thief keeps it, for either server.
    kept, kept_on_b = on_a.copy(), on_a.copy(base_url=pair.b)
    try:
        statuses = {"resource on A": on_a.resource().status_code}
        on_b_resource = on_b.resource()
        if on_b_resource.status_code == OK:
            assert on_b_resource.json()["way"] == way_name
            assert on_b_resource.json()["user"]["username"] == "demo"
        statuses["resource on B"] = on_b_resource.status_code
        statuses["logout on B"] = on_b.logout().status_code
        statuses["replay on A"] = kept.resource().status_code
        statuses["replay on B"] = kept_on_b.resource().status_code
        if pair.ways[way_name]["refresh"]:
            statuses["refresh on A"] = kept.refresh().status_code
        return statuses
    finally:
        for client in (on_a, on_b, kept, kept_on_b):
            client.close()


SHARED = {"resource on A": OK, "resource on B": OK, "logout on B": OK}
THROUGH_POSTGRESQL_AND_REDIS = {
    # Self-contained: nothing on any server to forget, so a copy lives until it expires.
    "cookie": {**SHARED, "replay on A": OK, "replay on B": OK},
    # The session lives in the shared database or Redis: B's logout deletes it for A too.
    "db": {**SHARED, "replay on A": UNAUTHORIZED, "replay on B": UNAUTHORIZED},
    "cache": {**SHARED, "replay on A": UNAUTHORIZED, "replay on B": UNAUTHORIZED},
    "cached-db": {**SHARED, "replay on A": UNAUTHORIZED, "replay on B": UNAUTHORIZED},
    # The access token lives until it expires; the refresh token is blacklisted in the
    # shared database, so A refuses to refresh it.
    "jwt": {**SHARED, "replay on A": OK, "replay on B": OK, "refresh on A": UNAUTHORIZED},
    "jwt-cookie": {**SHARED, "replay on A": OK, "replay on B": OK, "refresh on A": UNAUTHORIZED},
}


# A logout ends the login session on every server at once, for every way.
MANAGED_THROUGH_POSTGRESQL_AND_REDIS = {
    name: {**SHARED, "replay on A": UNAUTHORIZED, "replay on B": UNAUTHORIZED}
    | ({"refresh on A": UNAUTHORIZED} if "refresh on A" in expected else {})
    for name, expected in THROUGH_POSTGRESQL_AND_REDIS.items()
}


@pytest.mark.parametrize("way", ways())
def test_two_servers_sharing_postgresql_and_redis_share_every_way_and_stateful_logouts(
    way, sharing_redis, session_policy
):
    expected = {
        "stock": THROUGH_POSTGRESQL_AND_REDIS,
        "managed": MANAGED_THROUGH_POSTGRESQL_AND_REDIS,
    }[session_policy]

    assert across(sharing_redis(session_policy), way.name) == expected[way.name]


WITH_LOCAL_MEMORY = {
    **THROUGH_POSTGRESQL_AND_REDIS,
    # The session is in A's memory only: B does not know it (the article's "session
    # synchronisation" problem), so B's logout ends nothing and A still accepts it.
    "cache": {
        "resource on A": OK,
        "resource on B": UNAUTHORIZED,
        "logout on B": OK,
        "replay on A": OK,
        "replay on B": UNAUTHORIZED,
    },
    # B misses its own cache and reads the database row, so the session crosses over; B's
    # logout deletes the row and B's copy, but A still answers from the copy in its memory.
    "cached-db": {**SHARED, "replay on A": OK, "replay on B": UNAUTHORIZED},
}


@pytest.mark.parametrize("way", ways())
@pytest.mark.policy("stock")  # the servers run the default profile
def test_two_processes_with_local_memory_split_cache_sessions_and_cached_db_logouts(
    way, with_local_memory
):
    assert across(with_local_memory, way.name) == WITH_LOCAL_MEMORY[way.name]
