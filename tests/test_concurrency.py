"""Concurrent requests against a multi-worker gunicorn: what happens when they truly overlap.

SQLite's single writer serialises every write and hides races that PostgreSQL, with its
row-level locks and several connections at once, lets through. Each test here starts gunicorn
with several worker processes and threads on a fresh database of its own (PostgreSQL, and
SQLite beside it for comparison), and fires its requests at the same moment from threads of
the test, each on its own connection, so that the server handles them in parallel on
separate database connections.
"""

import contextlib
import importlib.util
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
import requests

from testing.clients import WayHttpClient, ways_served
from testing.servers import (
    demo_database,
    gunicorn_serving,
    own_redis_keys,
    server_environment,
)

from conftest import POSTGRESQL_URL, REDIS_TEST_URL, needs, skip_or_fail_without
from helpers import ways


def refresh_token_held(client: WayHttpClient) -> str:
    """The refresh token a client holds: in its body's tokens, or in its cookie."""
    return client.tokens.get("refresh") or client.cookie("jwt-refresh")


WORKERS, THREADS = 4, 4
CONCURRENT_REFRESHES = 20


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def server(request) -> Iterator[Callable[[str], tuple[str, dict[str, dict]]]]:
    """gunicorn, 4 workers x 4 threads, on a fresh database with the demo user; Redis too.

    One server per session policy, started when a test first asks for it.
    """
    if importlib.util.find_spec("gunicorn") is None:
        skip_or_fail_without("gunicorn")
    env = server_environment(os.environ)
    needs("PostgreSQL", POSTGRESQL_URL)
    needs("Redis", REDIS_TEST_URL)
    env["DATABASE_URL"] = POSTGRESQL_URL if request.param == "postgresql" else ""
    env["REDIS_URL"] = REDIS_TEST_URL
    servers: dict[str, tuple[str, dict[str, dict]]] = {}
    with contextlib.ExitStack() as started:
        database_url = started.enter_context(demo_database(env, label="race"))
        prefix = started.enter_context(own_redis_keys(env, label="race"))

        def serving(policy: str) -> tuple[str, dict[str, dict]]:
            if policy not in servers:
                base_url = started.enter_context(
                    gunicorn_serving(
                        {
                            **env,
                            "DATABASE_URL": database_url,
                            "CACHE_KEY_PREFIX": f"{prefix}-{policy}",
                            "SESSION_POLICY": policy,
                        },
                        workers=WORKERS,
                        threads=THREADS,
                    )
                )
                servers[policy] = base_url, ways_served(base_url)
            return servers[policy]

        yield serving


def all_at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call in a thread of its own, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(released, calls))


@contextlib.contextmanager
def copies_of_one_login(base_url: str, way: dict) -> Iterator[list[WayHttpClient]]:
    """CONCURRENT_REFRESHES clients holding the same fresh login's tokens, each with the
    CSRF cookie in hand, so that a refresh is one request."""
    holder = WayHttpClient(base_url, way)
    holder.log_in()
    copies = [holder.copy() for _ in range(CONCURRENT_REFRESHES)]
    holder.close()
    try:
        for copy in copies:
            copy.csrf_headers()
        yield copies
    finally:
        for client in copies:
            client.close()


@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.policy("stock")
def test_concurrent_refreshes_of_one_token_leave_at_most_one_live_chain(server, way):
    base_url, listing = server("stock")
    # The real client and a thief who copied its refresh token, many times over.
    with copies_of_one_login(base_url, listing[way.name]) as copies:
        answers = all_at_once([copy.refresh for copy in copies])

        statuses = sorted(answer.status_code for answer in answers)
        assert all(status < HTTPStatus.INTERNAL_SERVER_ERROR for status in statuses), statuses
        winners = [copy for copy, answer in zip(copies, answers, strict=True) if answer.ok]
        # A chain is live when its new refresh token refreshes again.
        live_chains = [winner for winner in winners if winner.refresh().ok]
        assert (len(winners), len(live_chains)) == (1, 1), statuses
        for answer in answers:
            if not answer.ok:
                assert answer.status_code == HTTPStatus.UNAUTHORIZED
                assert answer.json()["code"] == "token_revoked", answer.content


@pytest.mark.asvs("10.4.5")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.policy("managed")
def test_concurrent_refreshes_in_the_grace_window_share_one_successor(server, way):
    base_url, listing = server("managed")
    # A client's own refreshes, sent at once (several tabs, a retry): within the grace
    # window each one gets the same successor, and no second chain starts.
    with copies_of_one_login(base_url, listing[way.name]) as copies:
        answers = all_at_once([copy.refresh for copy in copies])

        statuses = [answer.status_code for answer in answers]
        assert statuses == [HTTPStatus.OK] * CONCURRENT_REFRESHES, statuses
        successors = {refresh_token_held(copy) for copy in copies}
        assert len(successors) == 1
        assert copies[0].refresh().ok  # the one chain goes on
