"""The cluster drill, short: HAProxy, three gunicorn nodes and Redis Sentinel, started here.

What each way keeps behind a load balancer is counted, and asserted exactly: which ways stay
logged in across nodes with each node's own cache, what a killed node costs with sticky
sessions and with a shared Redis, and that a Redis failover completes with 503s, never a
500, and brings no ended session back. The figures of a full run are in docs/cluster.md.
"""

import os
import shutil
import time

import pytest

from benchmarks.cluster import SCENARIOS, DrillCounts, profile_drill, steady_load
from login_sessions.policy import POLICIES
from testing.clients import ways_served
from testing.cluster import missing_commands
from testing.servers import demo_serving, server_environment
from ways.registry import SESSIONS_CACHE, WAYS

from conftest import POSTGRESQL_URL, needs, skip_or_fail_without

pytestmark = pytest.mark.cluster

COUNTS = DrillCounts(clients=2, last_moment_clients=1, ended_clients=1, load_clients=0)
# Ways whose sessions live in the sessions cache alone: lost with the node that held them.
CACHE_ONLY = {way.name for way in WAYS if way.stores == (SESSIONS_CACHE,)}
# Ways that never touch Redis in the stock profile (the managed one checks every request there).
WITHOUT_REDIS = {way.name for way in WAYS if SESSIONS_CACHE not in way.stores}


@pytest.fixture(scope="module", params=POLICIES)
def drill(request) -> dict:
    if missing := missing_commands():
        skip_or_fail_without(", ".join(missing))
    needs("PostgreSQL", POSTGRESQL_URL)
    env = server_environment(os.environ)
    env = {key: value for key, value in env.items() if key not in {"REDIS_URL", "REDIS_SENTINELS"}}
    env |= {"DATABASE_URL": POSTGRESQL_URL, "SESSION_POLICY": request.param}
    return {"policy": request.param, **profile_drill(env, counts=COUNTS, say=print)}


def outcomes(drill: dict, scenario: str, figure: str) -> dict[str, int]:
    return {way: row[figure] for way, row in drill["scenarios"][scenario]["ways"].items()}


def test_the_drill_runs_every_way_the_server_lists(drill):
    assert drill["ways"] == [way.name for way in WAYS]
    assert list(drill["scenarios"]) == list(SCENARIOS)


def test_round_robin_over_local_memory_loses_only_the_ways_kept_in_the_cache_alone(drill):
    kept = outcomes(drill, "round_robin_local_memory", "logged_in_on_every_node_clients")

    assert kept == {way: 0 if way in CACHE_ONLY else COUNTS.clients for way in kept}


def test_sticky_sessions_lose_the_killed_nodes_cache_sessions_only(drill):
    rows = drill["scenarios"]["sticky_node_killed"]["ways"]

    assert {way: row["logged_in_before_kill_clients"] for way, row in rows.items()} == {
        way: COUNTS.clients for way in rows
    }
    assert {way: row["logins_lost"] for way, row in rows.items()} == {
        way: row["on_killed_node_clients"] if way in CACHE_ONLY else 0 for way, row in rows.items()
    }


def test_a_node_killed_with_a_shared_store_loses_no_login_and_answers_no_error(drill):
    lost = outcomes(drill, "shared_redis_node_killed", "logins_lost")
    errors = outcomes(drill, "shared_redis_node_killed", "server_errors")

    assert lost == dict.fromkeys(lost, 0)
    assert errors == dict.fromkeys(errors, 0)


def test_a_redis_failover_completes_with_503s_never_a_500_and_no_ended_session_back(drill):
    scenario = drill["scenarios"]["redis_primary_killed"]
    rows = scenario["ways"]

    assert scenario["sentinel_promoted_seconds"] is not None
    assert [way for way, row in rows.items() if row["answered_again_seconds"] is None] == []
    assert outcomes(drill, "redis_primary_killed", "server_errors") == dict.fromkeys(rows, 0)
    assert outcomes(drill, "redis_primary_killed", "logins_lost") == dict.fromkeys(rows, 0)
    assert outcomes(drill, "redis_primary_killed", "revocations_came_back") == dict.fromkeys(
        rows, 0
    )
    if drill["policy"] == "stock":
        never_stopped = {way for way, row in rows.items() if row["answered_again_seconds"] == 0}
        assert never_stopped >= WITHOUT_REDIS


def test_the_steady_load_counts_answers_by_status():
    if shutil.which("wrk") is None:
        skip_or_fail_without("wrk")
    # One gunicorn on a SQLite file of its own: what is tested is the counting.
    env = {
        key: value
        for key, value in server_environment(os.environ).items()
        if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_SENTINELS"}
    }
    with demo_serving(env, label="load") as base_url:
        ways = ways_served(base_url)
        with steady_load(base_url, ways, clients=1) as loads:
            time.sleep(1)

    assert set(loads) == set(ways)
    for load in loads.values():
        assert set(load["statuses"]) == {"200"}
        assert load["requests"] == load["statuses"]["200"] > 0
        assert load["server_errors"] == 0
        assert load["socket_errors"] == {}
