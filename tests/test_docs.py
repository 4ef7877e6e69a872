"""The documented session policy is the configured one."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from benchmarks.cluster_report import cluster_markdown, readme_cluster
from benchmarks.report import readme_choose
from ways.choice import anchor
from ways.middleware import CODES
from ways.refusals import REASONS

from helpers import ways

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
COMPARISON = json.loads((ROOT / "docs" / "comparison.json").read_text())


def policy_row(way: str, session_policy: str) -> str:
    """The row of the README's lifetimes table for the way, in the session policy's table."""
    lifetimes = README.split("## Lifetimes and concurrent sessions")[1].split("\n## ")[0]
    stock, managed = lifetimes.split("In the managed profile")
    table = stock if session_policy == "stock" else managed
    rows = [line for line in table.splitlines() if line.startswith("| `") or "all six" in line]
    matching = [row for row in rows if f"`{way}`" in row or "all six" in row]
    assert len(matching) == 1, f"one row of the {session_policy} lifetimes table names {way}"
    return matching[0]


@pytest.mark.asvs("7.1.1")
def test_readme_documents_the_configured_lifetimes(way, session_policy):
    row = policy_row(way.name, session_policy)

    if session_policy == "managed":
        assert f"{settings.SESSION_ABSOLUTE_LIFETIME} s (`SESSION_ABSOLUTE_LIFETIME`)" in row
        assert f"{settings.SESSION_IDLE_TIMEOUT} s (`SESSION_IDLE_TIMEOUT`)" in row
        interval = settings.SESSION_ACTIVITY_WRITE_INTERVAL
        assert f"every {interval} s (`SESSION_ACTIVITY_WRITE_INTERVAL`)" in row
    elif way.kind == "session":
        assert f"{settings.SESSION_COOKIE_AGE} s" in row
        assert re.search(r"\| none \|", row)
    else:
        simple_jwt = settings.SIMPLE_JWT
        assert f"{int(simple_jwt['ACCESS_TOKEN_LIFETIME'].total_seconds())} s" in row
        assert f"{int(simple_jwt['REFRESH_TOKEN_LIFETIME'].total_seconds())} s" in row
        assert re.search(r"\| none \|", row)


@pytest.mark.asvs("7.1.2")
@pytest.mark.wstg("SESS-11")
def test_readme_documents_the_concurrent_session_policy(way, session_policy):
    row = policy_row(way.name, session_policy)

    assert "unlimited" in row
    if session_policy == "managed":
        assert settings.SESSION_MAX_PER_USER is None
        assert "`SESSION_MAX_PER_USER` unset" in row
        assert "a new login ends the oldest" in row
    assert "logging out of one leaves the others alone" in README


def test_readme_summary_matches_the_generated_matrix():
    matrix = (Path(__file__).resolve().parent.parent / "docs" / "security-matrix.md").read_text()
    summary = README.split("## Security: every claim is a test")[1].split("\n## ")[0]
    statuses = ("pass", "by design", "n/a", "not yet", "fails")

    for policy in ("stock", "managed"):
        table = matrix.split(f"## The `{policy}` profile")[1].split("\n## ")[0]
        ours = summary.split(f"`{policy}` profile")[1]
        for status in statuses:
            totals = re.search(rf"^\| \*\*{re.escape(status)}\*\* \| \| (.+) \|$", table, re.M)[1]
            claimed = re.search(rf"^\| \S+ {re.escape(status)} \| (.+) \|$", ours, re.M)[1]
            assert claimed == totals, (policy, status)


def test_readme_lists_every_refusal_code_with_its_reason():
    rows = re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", README, re.M)

    assert {code: why for code, why in rows if code in REASONS} == REASONS


@pytest.mark.asvs("6.1.1")
def test_readme_documents_the_configured_login_throttling(way):
    policy = README.split("## Login throttling")[1].split("\n## ")[0]

    assert f"| {settings.AXES_FAILURE_LIMIT} failures (`LOGIN_FAILURE_LIMIT`)" in policy
    lockout = int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert f"| {lockout} s (`LOGIN_LOCKOUT_SECONDS`)" in policy
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert "per account (username) and, separately, per client address" in policy
    # What resets a count, and why an attacker cannot make a lockout last longer.
    assert settings.AXES_RESET_ON_SUCCESS is False
    assert settings.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is False
    assert "| what resets it |" in policy
    assert "an attacker cannot extend it" in policy
    assert "LOGIN_FAILURE_LIMIT" in (ROOT / ".env.example").read_text()


def test_readme_lists_every_code_an_error_answer_carries():
    codes = {
        *CODES.values(),
        "invalid",
        "parse_error",
        "host_not_allowed",
        "csrf_failed",
        "unsupported_media_type",
        "throttled",
        "https_required",
        "session_store_unavailable",
        "database_unavailable",
        "session_too_large",
    }

    assert {code for code in codes if f"`{code}`" not in README} == set()


def logout_rows() -> dict[str, str]:
    """The rows of the README's logout table, by way (a row may name several)."""
    table = README.split("## What logout does per way, and why")[1].split("\n\n")[1]
    rows = {}
    for line in table.splitlines()[2:]:
        names, *_ = line.strip("|").split("|")
        rows |= dict.fromkeys(re.findall(r"`([a-z-]+)`", names), line)
    return rows


@pytest.mark.parametrize("way", ways())
def test_readme_logout_table_follows_the_measured_revocation_delays(way):
    measured = COMPARISON["survival"]["revocation_delay"][way.name]
    row = logout_rows()[way.name]
    # A row that names a first way and says "as `jwt`" follows that way's row.
    if re.search(r"\| as `([a-z-]+)` \|", row):
        row = logout_rows()[re.search(r"\| as `([a-z-]+)` \|", row)[1]]
    _, _, after_logout, after_password_change = row.strip("|").split("|")

    # The resource's answer to a copy taken before: refused at once (0.0 s), or still 200.
    assert ("still 200" in after_logout) == (measured["logout_s"] != 0.0)
    assert measured["password_change_s"] == 0.0
    assert "at once" in after_password_change


def readme_block(name: str) -> str:
    """What stands between the README's markers of a block that compare writes."""
    start = f"<!-- {name}: written by manage.py compare -->\n"
    return README.split(start)[1].split(f"\n<!-- end of {name} -->")[0]


def test_readme_which_to_choose_is_what_compare_writes_from_the_committed_figures():
    # After the answers or the security matrix changed: python manage.py compare --readme-only
    assert readme_block("choose") == readme_choose(COMPARISON)


def heading_anchors(markdown: str) -> set[str]:
    """The anchor of every heading, as GitHub numbers repeated ones (-1, -2, …)."""
    anchors, repeats = set(), {}
    for heading in re.findall(r"^#+ (.+)$", markdown, re.M):
        text = anchor(heading)
        repeats[text] = repeats.get(text, -1) + 1
        anchors.add(f"{text}-{repeats[text]}" if repeats[text] else text)
    return anchors


def test_the_cluster_docs_are_what_the_drill_writes_from_its_committed_figures():
    # After the templates changed: python manage.py cluster_drill --docs-only
    results = json.loads((ROOT / "docs" / "cluster.json").read_text())
    start = "<!-- cluster: written by manage.py cluster_drill -->\n"
    readme = README.split(start)[1].split("\n<!-- end of cluster -->")[0]

    assert (ROOT / "docs" / "cluster.md").read_text() == cluster_markdown(results)
    assert readme == readme_cluster(results)
    assert list(results["profiles"]) == ["stock", "managed"]


def test_every_link_of_which_to_choose_leads_to_its_evidence():
    targets = re.findall(r"\]\(([^)]+)\)", readme_block("choose"))

    assert len(targets) > 20
    for target in targets:
        path, _, fragment = target.partition("#")
        assert (ROOT / path).is_file(), target
        if fragment:
            assert fragment in heading_anchors((ROOT / path).read_text()), target
