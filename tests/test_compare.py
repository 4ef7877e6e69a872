"""The compare command: a smoke run at a tiny size, and the counts it reports, exactly."""

import json
import re
import time
from http import HTTPStatus

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import override_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from benchmarks.harness import Configured, round_robin_microseconds
from benchmarks.measure import floor_call, peer_settings
from benchmarks.report import cleanup_sentences, measured_on, one_transaction_table
from ways.registry import SESSION_WAYS

from conftest import skip_or_fail_without
from helpers import MANAGED_QUERIES_PER_RESOURCE_REQUEST, QUERIES_PER_RESOURCE_REQUEST

# Cache calls one resource request makes: the cache ways read their session once.
CACHE_CALLS_PER_REQUEST = {
    "cookie": 0,
    "db": 0,
    "cache": 1,
    "cached-db": 1,
    "jwt": 0,
    "jwt-cookie": 0,
}
# Writes at login and logout: last_login, the session row or key, the outstanding token.
WRITES = {
    "cookie": {"rows_written_per_login": 1, "cache_writes_per_login": 0},
    "db": {"rows_written_per_login": 3, "rows_written_per_logout": 1},
    "cache": {"cache_writes_per_login": 2, "cache_writes_per_logout": 1},
    "cached-db": {"rows_written_per_login": 3, "cache_writes_per_logout": 1},
    "jwt": {"rows_written_per_login": 1, "rows_written_per_logout": 1},
    "jwt-cookie": {"rows_written_per_login": 1, "rows_written_per_logout": 1},
}


RUN = {}


@pytest.fixture
def comparison(transactional_db, tmp_path_factory):
    """The output directory of one compare --quick run, shared by this module's tests."""
    if not RUN:
        output = tmp_path_factory.mktemp("comparison")
        call_command("compare", "--quick", "--output-dir", str(output))
        RUN["output"] = output
        RUN["left_behind"] = {
            "users": User.objects.count(),
            "sessions": Session.objects.count(),
            "tokens": OutstandingToken.objects.count(),
        }
    return RUN["output"]


def test_compare_writes_markdown_json_and_a_png(comparison):
    results = json.loads((comparison / "comparison.json").read_text())
    markdown = (comparison / "comparison.md").read_text()

    assert [way["way"] for way in results["ways"]] == list(QUERIES_PER_RESOURCE_REQUEST)
    assert results["floor_us"] > 0
    # Timed in the same rounds as the requests: a figure for every way.
    assert all(way["primitive_us"] > 0 for way in results["ways"])
    assert markdown.startswith("# What each way in costs\n")
    assert "## How to read this" in markdown
    assert (comparison / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_measures_the_session_ways_against_a_drf_peer_too(comparison):
    results = json.loads((comparison / "comparison.json").read_text())
    markdown = (comparison / "comparison.md").read_text()

    drf_peers = {way["way"]: way["drf_peer_us"] for way in results["ways"]}
    peers = {way["way"]: way["peer_us"] for way in results["ways"]}
    # Measured apart for the session ways; the token ways' peer is the DRF view itself.
    assert all(drf_peers[name] > 0 for name in ("cookie", "db", "cache", "cached-db"))
    assert {name: drf_peers[name] for name in ("jwt", "jwt-cookie")} == {
        name: peers[name] for name in ("jwt", "jwt-cookie")
    }
    assert re.search(r"^\|.*\| × DRF peer +\|", markdown, re.MULTILINE)
    assert "DRF itself costs the session ways" in markdown


def test_compare_measures_drf_dispatch_alone_for_the_session_ways(comparison):
    results = json.loads((comparison / "comparison.json").read_text())
    markdown = (comparison / "comparison.md").read_text()

    dispatch = {way["way"]: way["drf_dispatch_us"] for way in results["ways"]}
    assert all(dispatch[name] > 0 for name in ("cookie", "db", "cache", "cached-db"))
    assert dispatch["jwt"] is dispatch["jwt-cookie"] is None
    assert "Of that, its dispatch by itself costs" in markdown


@pytest.mark.parametrize("way", SESSION_WAYS, ids=lambda way: way.name)
def test_the_session_ways_peers_answer_alike(db, client, way):
    """The plain view, the DRF peer and the plain view dispatched by DRF do the same work."""
    user = User.objects.create_user(username="peer", email="peer@example.com")

    with override_settings(**peer_settings(way)):
        anonymous = [
            client.get(f"/{peer}/{way.name}/session/") for peer in ("peer", "drf-dispatch")
        ]
        client.force_login(user)
        answers = [
            client.get(f"/{peer}/{way.name}/session/")
            for peer in ("peer", "drf-peer", "drf-dispatch")
        ]

    assert [response.status_code for response in anonymous] == [HTTPStatus.UNAUTHORIZED] * 2
    assert [response.status_code for response in answers] == [HTTPStatus.OK] * 3
    assert [response.json() for response in answers] == [
        {
            "way": way.name,
            "user": {"id": user.pk, "username": "peer", "email": "peer@example.com"},
            "resource": "The same protected resource, reached through every way in.",
        }
    ] * 3


def test_compare_counts_queries_and_cache_calls_per_request(comparison):
    results = json.loads((comparison / "comparison.json").read_text())

    assert {way["way"]: way["queries_per_request"] for way in results["ways"]} == (
        QUERIES_PER_RESOURCE_REQUEST
    )
    assert {way["way"]: way["cache_calls_per_request"] for way in results["ways"]} == (
        CACHE_CALLS_PER_REQUEST
    )


def test_compare_times_and_counts_the_managed_profile_beside_stock(comparison):
    results = json.loads((comparison / "comparison.json").read_text())
    markdown = (comparison / "comparison.md").read_text()

    managed = {way["way"]: way["managed"] for way in results["ways"]}
    assert {name: m["queries_per_request"] for name, m in managed.items()} == (
        MANAGED_QUERIES_PER_RESOURCE_REQUEST
    )
    # One cache read of the login session, beside the cache ways' read of their session.
    assert {name: m["cache_calls_per_request"] for name, m in managed.items()} == {
        name: calls + 1 for name, calls in CACHE_CALLS_PER_REQUEST.items()
    }
    assert {m["writes_per_request"] for m in managed.values()} == {0}
    for way in results["ways"]:
        assert way["managed"]["over_stock"] == round(way["managed_us"] / way["project_us"], 3)
    assert "## Stock and managed, per way" in markdown
    assert "what the stock profile of the same way costs" in markdown


def test_compare_measures_the_peer_libraries_and_their_revocation(comparison):
    peers = json.loads((comparison / "comparison.json").read_text())["peers"]
    markdown = (comparison / "comparison.md").read_text()

    assert [library["name"] for library in peers["libraries"]] == [
        "knox",
        "allauth",
        "user-sessions",
    ]
    # Each of them, and the managed profile, refuses a credential at once once it is ended.
    assert all(library["revoked_at_once"] for library in peers["libraries"])
    assert all(entry["revoked_at_once"] for entry in peers["managed"].values())
    assert {name: entry["queries_per_request"] for name, entry in peers["managed"].items()} == (
        MANAGED_QUERIES_PER_RESOURCE_REQUEST
    )
    assert set(peers["managed_over_library"]) == set(MANAGED_QUERIES_PER_RESOURCE_REQUEST)
    assert "## The managed profile against the libraries users pick" in markdown
    assert "django-rest-knox" in markdown


def test_compare_measures_revocation_after_every_event_in_both_profiles(comparison):
    survival = json.loads((comparison / "comparison.json").read_text())["survival"]

    events = {"logout_s", "user_end_s", "deactivation_s", "admin_end_s", "password_change_s"}
    for profile in ("revocation_delay", "managed_revocation_delay"):
        assert all(set(delays) == events for delays in survival[profile].values())
    # The managed profile ends every credential within a second, whatever ended its login
    # session (at once with Redis; a process's local memory keeps an entry up to a second).
    managed = [
        delay
        for delays in survival["managed_revocation_delay"].values()
        for delay in delays.values()
    ]
    assert all(isinstance(delay, float) and delay <= 1.0 for delay in managed), managed
    assert {delays["user_end_s"] for delays in survival["revocation_delay"].values()} == {
        "not possible: the stock profile records no sessions its user could end"
    }


def test_compare_counts_writes_per_login_and_logout(comparison):
    results = {
        way["way"]: way for way in json.loads((comparison / "comparison.json").read_text())["ways"]
    }

    for way, expected in WRITES.items():
        assert {key: results[way][key] for key in expected} == expected, way


def test_compare_reports_what_the_cookie_way_cannot_hold(comparison):
    growth = json.loads((comparison / "comparison.json").read_text())["growth"]
    cookie = next(entry["rows"] for entry in growth if entry["way"] == "cookie")

    assert [row["status"] for row in cookie] == [
        HTTPStatus.OK,
        HTTPStatus.OK,
        HTTPStatus.OK,
        HTTPStatus.INSUFFICIENT_STORAGE,
    ]
    assert all(row["cookie_bytes"] <= 4096 for row in cookie)


def test_compare_leaves_no_user_session_or_token_behind(comparison):
    assert RUN["left_behind"] == {"users": 0, "sessions": 0, "tokens": 0}


def test_compare_measures_every_way_over_http_without_errors(comparison):
    http = json.loads((comparison / "comparison.json").read_text())["http"]
    if "skipped" in http:
        skip_or_fail_without("wrk (apt-get install wrk)")

    assert list(http["rows"]) == ["floor", *QUERIES_PER_RESOURCE_REQUEST]
    # One worker: gunicorn spreads wrk's connections over two unevenly, run by run.
    assert http["gunicorn_workers"] == 1
    assert {name: row["errors"] for name, row in http["rows"].items()} == dict.fromkeys(
        http["rows"], 0
    )
    assert all(row["requests_per_second"] > 0 for row in http["rows"].values())


def test_compare_reports_what_each_way_survives(comparison):
    survival = json.loads((comparison / "comparison.json").read_text())["survival"]
    markdown = (comparison / "comparison.md").read_text()

    assert list(survival["survival"]) == list(QUERIES_PER_RESOURCE_REQUEST)
    assert survival["revocation_delay"]["db"]["logout_s"] == 0.0
    assert "## What a logged-in credential survives" in markdown


def table_rows(markdown_table: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in markdown_table.splitlines()[2:]
    ]


def test_report_puts_stock_and_ours_over_one_transaction_of_every_expired_row():
    cleanups = {
        "tokens": {
            "one_transaction": {"seconds": 2.0, "commit_seconds": 1.5},
            "stock_over_one_transaction": 10.5,
            "ours_over_one_transaction": 2.0,
        },
        # From a bench-scale that did not measure it yet: no row rather than a wrong one.
        "sessions": {"speedup": 0.5},
    }
    scale = {"databases": {"postgresql": {"database": "PostgreSQL 15", "cleanup": cleanups}}}

    assert table_rows(one_transaction_table(scale)) == [
        ["PostgreSQL 15", "tokens", "2.0", "1.5", "10.5×", "2.0×"]
    ]


def run(seconds: float, wait: float, failed: int) -> dict:
    logins = {"writes": 10, "failed": failed, "longest_wait_seconds": wait}
    return {"seconds": seconds, "peak_rss_mb": 80.0, "logins_while_running": logins}


def test_report_sentences_follow_the_figures_of_the_run():
    cleanups = {
        "sessions": {
            "speedup": 0.8,
            "stock": run(4.0, 3.5, 1),
            "ours": run(5.0, 0.2, 0),
            "one_transaction": {"seconds": 3.6, "commit_seconds": 0.5},
            "stock_over_one_transaction": 1.11,
            "ours_over_one_transaction": 1.39,
        },
        "tokens": {"speedup": 2.5, "stock": run(10.0, 0.1, 2), "ours": run(4.0, 0.3, 0)},
    }
    scale = {
        "targets": {
            "cleanup_speedup_min": 1.0,
            "cleanup_peak_rss_mb_max": 100,
            "login_wait_seconds_max": 0.5,
        },
        "databases": {"sqlite": {"database": "SQLite 3", "cleanup": cleanups}},
    }

    assert cleanup_sentences(scale) == (
        "Ours was at least as fast as stock in 1 of the 2 cleanups (speed-ups 0.80× to "
        "2.50×), with a peak of 80.0 MB. While they ran, the longest a login waited was 0.3 s "
        "during ours and 3.5 s during stock; 0 logins were refused during ours, 3 during stock. "
        "The targets (a speed-up of at least 1.0×, a peak of at most 100 MB, no login waiting "
        "longer than 0.5 s, none refused) were met by 1 of the 2 cleanups; not by SQLite 3 "
        "sessions. On SQLite 3, stock's sessions cleanup took 1.11× the least any cleanup of "
        "the same rows takes (one transaction, in-process, below); ours, in batches that each "
        "let the waiting logins in, took 1.39× it."
    )


def test_report_names_the_machine_bench_scale_ran_on_when_its_results_do():
    assert measured_on({"processor": "AMD EPYC", "cores": 2}) == "on AMD EPYC (2 cores), "
    assert measured_on({"cores": 2}) == ""


def test_round_robin_times_operations_beside_requests_and_refuses_a_failed_request(db):
    operations = []

    def operation():
        operations.append(1)
        time.sleep(0.001)

    costs = round_robin_microseconds(
        {"floor": floor_call(), "operation": Configured(operation)}, rounds=2, per_batch=3
    )

    assert costs["floor"] > 0
    assert costs["operation"] >= 1000  # µs: it sleeps a millisecond
    # Three rounds (one of them to warm up) of one untimed call and three timed ones.
    assert len(operations) == 3 * (1 + 3)
    missing = Configured.request("/no-such-page/", ROOT_URLCONF="benchmarks.peers")
    with pytest.raises(RuntimeError, match="missing: the request answered 404"):
        round_robin_microseconds({"missing": missing}, rounds=1, per_batch=1)
