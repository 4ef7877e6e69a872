"""Writing the cluster drill's results: docs/cluster.md and the README's table, from figures.

As in benchmarks/report.py, the template holds what is true whatever a run measures; every
sentence about results is computed here from the run's figures.
"""

from pathlib import Path

from benchmarks.report import code, measured_on, readme_block_write, render, table

OK = "200"
SCENARIO_TITLES = {
    "round_robin_local_memory": "1. round robin, local-memory cache per node",
    "sticky_node_killed": "2. sticky sessions, then a node killed",
    "shared_redis_node_killed": "3. shared Redis, a node killed mid-load",
    "redis_primary_killed": "4. Redis primary killed, Sentinel failover",
}


def names(ways: list[str]) -> str:
    quoted = [code(way) for way in ways]
    if len(quoted) < 2:
        return "".join(quoted) or "none"
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def survived_round_robin(row: dict) -> bool:
    return row["logged_in_on_every_node_clients"] == row["clients"]


def cell(scenario: str, row: dict) -> str:
    """One way's outcome in one scenario, in a few words."""
    clients = row["clients"]
    if scenario == "round_robin_local_memory":
        kept = row["logged_in_on_every_node_clients"]
        return f"{'kept' if kept == clients else 'lost'}: {kept}/{clients} logged in on every node"
    if scenario == "sticky_node_killed":
        return f"{row['logins_lost']}/{clients} must log in again"
    if scenario == "shared_redis_node_killed":
        return (
            f"{row['logins_lost']}/{clients} logins lost, {row['server_errors']} server errors, "
            f"{row['unanswered']} unanswered"
        )
    back = row["answered_again_seconds"]
    outage = "never stopped" if back == 0 else f"back after {back} s"
    return f"{outage}, {row['unavailable']}× 503, {row['logins_lost']}/{clients} lost"


def scenario_table(profile: dict) -> str:
    ways = profile["ways"]
    columns = [("scenario", lambda item: SCENARIO_TITLES[item[0]])] + [
        (code(way), lambda item, way=way: cell(item[0], item[1]["ways"][way])) for way in ways
    ]
    return table(columns, profile["scenarios"].items())


FAILOVER_COLUMNS = [
    ("way", lambda item: code(item[0])),
    ("answered again after (s)", lambda item: seconds_or_never(item[1]["answered_again_seconds"])),
    ("503 answers", lambda item: str(item[1]["unavailable"])),
    ("other 5xx", lambda item: str(item[1]["server_errors"])),
    ("unanswered", lambda item: str(item[1]["unanswered"])),
    ("earlier logins lost", lambda item: f"{item[1]['logins_lost']}/{item[1]['clients']}"),
    (
        "logins just before the kill lost",
        lambda item: f"{item[1]['last_moment_logins_lost']}/{item[1]['last_moment_clients']}",
    ),
    (
        "ended sessions back",
        lambda item: f"{item[1]['revocations_came_back']}/{item[1]['ended_clients']}",
    ),
]


def seconds_or_never(value) -> str:
    if value is None:
        return "not within the bound"
    return "never stopped" if value == 0 else str(value)


def failover_table(profile: dict) -> str:
    return table(FAILOVER_COLUMNS, profile["scenarios"]["redis_primary_killed"]["ways"].items())


def load_cell(load: dict | None) -> str:
    if load is None:
        return "—"
    cell = f"{round(load['requests_per_second'])} req/s, p99 {load['p99_ms']} ms"
    # The load's credential may be refused (the cache way's, on a node that never saw it).
    answers = sum(load["statuses"].values())
    if refused := answers - load["statuses"].get(OK, 0):
        cell += f", {refused / answers:.0%} not 200"
    return cell


def load_table(profile: dict) -> str:
    columns = [("scenario", lambda item: SCENARIO_TITLES[item[0]])] + [
        (code(way), lambda item, way=way: load_cell(item[1].get(way))) for way in profile["ways"]
    ]
    return table(columns, profile["load"].items())


def round_robin_sentence(profile: dict) -> str:
    rows = profile["scenarios"]["round_robin_local_memory"]["ways"]
    kept = [way for way in profile["ways"] if survived_round_robin(rows[way])]
    lost = [way for way in profile["ways"] if not survived_round_robin(rows[way])]
    return (
        f"Each client called the resource until every node had served it: {names(kept)} kept "
        f"every client logged in on every node" + (f"; {names(lost)} did not" if lost else "") + "."
    )


def sticky_sentence(profile: dict) -> str:
    scenario = profile["scenarios"]["sticky_node_killed"]
    rows = scenario["ways"]
    lost = [way for way in profile["ways"] if rows[way]["logins_lost"]]
    kept = [way for way in profile["ways"] if not rows[way]["logins_lost"]]
    before = all(rows[way]["logged_in_before_kill_clients"] == rows[way]["clients"] for way in rows)
    sentence = (
        f"Stuck to their node, {'every way' if before else 'not every way'} kept its clients "
        f"logged in. HAProxy saw {scenario['killed_node']}, the node most clients had stuck "
        f"to, down {scenario['balancer_noticed_seconds']} s after it was killed; then "
    )
    if lost:
        parts = [
            f"{rows[way]['logins_lost']} of {rows[way]['clients']} clients of {code(way)} "
            f"({rows[way]['share_logins_lost']:.0%}; {rows[way]['on_killed_node_clients']} had "
            f"been served by it)"
            for way in lost
        ]
        sentence += "; ".join(parts) + " had to log in again"
    else:
        served = sum(row["on_killed_node_clients"] for row in rows.values())
        sentence += f"no client had to log in again ({served} had been served by it)"
    return sentence + (f", and {names(kept)} lost none." if kept and lost else ".")


def node_killed_sentence(profile: dict) -> str:
    scenario = profile["scenarios"]["shared_redis_node_killed"]
    rows = scenario["ways"].values()
    lost = sum(row["logins_lost"] for row in rows)
    clients = sum(row["clients"] for row in rows)
    errors = sum(row["server_errors"] for row in rows)
    unanswered = sum(row["unanswered"] for row in rows)
    calls = sum(sum(row["answers_during_kill"].values()) for row in rows)
    return (
        f"With the cache shared, killing {scenario['killed_node']} lost {lost} of {clients} "
        f"logins. Of {calls} calls the clients made from the kill on, {errors} had a server "
        f"error (a 5xx other than the outage answer 503) and {unanswered} no answer; HAProxy "
        f"saw the node down after {scenario['balancer_noticed_seconds']} s."
    )


def failover_sentence(profile: dict) -> str:
    scenario = profile["scenarios"]["redis_primary_killed"]
    rows = scenario["ways"]
    stopped = [way for way in profile["ways"] if rows[way]["answered_again_seconds"] != 0]
    never = [way for way in profile["ways"] if rows[way]["answered_again_seconds"] == 0]
    times = [rows[way]["answered_again_seconds"] for way in stopped]
    promoted = scenario["sentinel_promoted_seconds"]
    sentence = (
        f"Every Sentinel named the replica the new primary {promoted} s after the primary was "
        "killed"
        if promoted is not None
        else "The Sentinels did not promote the replica within the drill's bound"
    )
    if stopped:
        known = [time for time in times if time is not None]
        span = f"{min(known)} to {max(known)} s" if known else "not within the bound"
        sentence += f". {names(stopped)} answered again after {span}"
        sentence += f"; {names(never)} never stopped" if never else ""
    else:
        sentence += "; no way stopped answering"
    unavailable = sum(row["unavailable"] for row in rows.values())
    errors = sum(row["server_errors"] for row in rows.values())
    unanswered = sum(row["unanswered"] for row in rows.values())
    last = sum(row["last_moment_logins_lost"] for row in rows.values())
    last_clients = sum(row["last_moment_clients"] for row in rows.values())
    back = sum(row["revocations_came_back"] for row in rows.values())
    ended = sum(row["ended_clients"] for row in rows.values())
    latest = min(row["last_moment_written_before_kill_ms"] for row in rows.values())
    return (
        f"{sentence}. In between, the clients had {unavailable} answers 503, {errors} other "
        f"server errors and {unanswered} calls unanswered. Of {last_clients} logins made just "
        f"before the kill (the last {latest} ms before it), {last} were lost; of {ended} "
        f"sessions ended just before it, {back} came back."
    )


def profile_context(name: str, profile: dict) -> dict:
    return {
        "name": name,
        "scenario_table": scenario_table(profile),
        "failover_table": failover_table(profile),
        "load_table": load_table(profile),
        "round_robin_sentence": round_robin_sentence(profile),
        "sticky_sentence": sticky_sentence(profile),
        "node_killed_sentence": node_killed_sentence(profile),
        "failover_sentence": failover_sentence(profile),
    }


def cluster_context(results: dict) -> dict:
    meta = results["meta"]
    return {
        "meta": meta,
        "measured_on": measured_on(meta["machine"]),
        "profiles": [
            profile_context(name, profile) for name, profile in results["profiles"].items()
        ],
    }


def write_cluster_markdown(results: dict, path: Path) -> None:
    path.write_text(cluster_markdown(results))


def cluster_markdown(results: dict) -> str:
    return render("cluster.md", **cluster_context(results))


def readme_cluster(results: dict) -> str:
    return render("readme_cluster.md", **cluster_context(results))


def write_readme_cluster(results: dict, readme: Path) -> None:
    readme_block_write(readme, "cluster", "cluster_drill", readme_cluster(results))
