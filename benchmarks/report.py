"""Writing the comparison: Markdown from templates for readers, JSON for machines, a PNG chart.

The templates (benchmarks/templates/) hold what is true whatever a run measures; every
sentence about results is computed here from the run's figures, so that a rerun cannot print
a document that contradicts its own numbers.
"""

import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

from django.template import Context, Engine
from tabulate import tabulate

from ways.batches import BATCH_SECONDS, SQLITE_BATCH_PAUSE_SECONDS
from ways.choice import choice_context

TEMPLATES = Engine(dirs=[Path(__file__).resolve().parent / "templates"], autoescape=False)


def render(template: str, **context) -> str:
    """The template rendered as Markdown: nothing escaped, at most one blank line in a row."""
    text = TEMPLATES.get_template(template).render(Context(context, autoescape=False))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def table(columns: list[tuple], items) -> str:
    """A Markdown table of a row per item; a column is a header and a cell: a function of the
    item, or a format string of its fields.
    """
    return tabulate(
        [
            [cell.format_map(item) if isinstance(cell, str) else cell(item) for _, cell in columns]
            for item in items
        ],
        headers=[header for header, _ in columns],
        tablefmt="github",
        disable_numparse=True,
    )


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base else "—"


def span(values: list[float], unit: str = "×") -> str:
    """'a× to b×', or 'a×' when they are one."""
    low, high = f"{min(values):.2f}{unit}", f"{max(values):.2f}{unit}"
    return low if low == high else f"{low} to {high}"


def code(name: str) -> str:
    return f"`{name}`"


def seconds(value) -> str:
    return f"{value} s" if isinstance(value, int | float) else value


def write_json(results: dict, path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


# --- The tables ------------------------------------------------------------------------------

WAY = ("way", "`{way}`")
COST_COLUMNS = [
    WAY,
    ("project µs", "{project_us}"),
    # The floor timed beside the way, in the same round-robin batches.
    ("× floor", lambda way: ratio(way["project_us"], way["floor_us"])),
    ("× peer (target ≤ 1.10)", lambda way: ratio(way["project_us"], way["peer_us"])),
    ("× DRF peer", lambda way: ratio(way["project_us"], way["drf_peer_us"])),
    ("fast µs", "{fast_us}"),
    (
        "fast ÷ (floor + primitive) (target ≤ 2)",
        lambda way: ratio(way["fast_us"], way["floor_us"] + way["primitive_us"]),
    ),
    ("primitive", "{primitive}"),
    ("primitive µs", "{primitive_us}"),
]
COUNTS_COLUMNS = [
    WAY,
    ("queries / request", "{queries_per_request}"),
    ("cache calls / request", "{cache_calls_per_request}"),
    ("credential on the wire (bytes)", "{credential_bytes_on_wire}"),
    ("Set-Cookie at login (bytes)", "{set_cookie_bytes_at_login}"),
    ("stored per session (bytes)", "{stored_bytes_per_session}"),
    ("rows written: login, logout", "{rows_written_per_login}, {rows_written_per_logout}"),
    ("cache writes: login, logout", "{cache_writes_per_login}, {cache_writes_per_logout}"),
]
FAST_COLUMNS = [
    WAY,
    (
        "deactivated user keeps access",
        lambda way: "yes" if way["fast_tradeoff"]["deactivated_user_keeps_access"] else "no",
    ),
    ("for up to", lambda way: seconds(way["fast_tradeoff"]["until_seconds"])),
]


def growth_table(growth: list[dict]) -> str:
    def cell(way: dict, index: int) -> str:
        row = way["rows"][index]
        if row["status"] != 200:
            return f"**{row['status']}** (refused)"
        if "stored_bytes" in row:
            return f"cookie {row['cookie_bytes']} B, stored {row['stored_bytes']} B"
        return f"cookie {row['cookie_bytes']} B"  # the signed cookie: nothing stored

    sizes = [
        (f"{row['session_data_kb']} KB", partial(cell, index=index))
        for index, row in enumerate(growth[0]["rows"])
    ]
    return table([WAY, *sizes], growth)


def http_table(http: dict) -> str:
    floor = http["rows"]["floor"]["requests_per_second"]
    columns = [
        ("way", lambda row: "floor" if row["name"] == "floor" else code(row["name"])),
        ("requests/s", "{requests_per_second:.0f}"),
        ("÷ floor", lambda row: f"{row['requests_per_second'] / floor:.2f}"),
        ("p50 ms", "{p50_ms}"),
        ("p99 ms", "{p99_ms}"),
        ("errors", "{errors}"),
    ]
    return table(columns, [{**row, "name": name} for name, row in http["rows"].items()])


def survival_table(survival: dict) -> str:
    def survives(measure: str) -> Callable[[str], str]:
        return lambda way: "yes" if survival["survival"][way][measure] else "**no**"

    def refused(after: str) -> Callable[[str], str]:
        return lambda way: seconds(survival["revocation_delay"][way][after])

    columns = [
        ("way", code),
        ("server restart", survives("restart")),
        ("SECRET_KEY rotation (old key in SECRET_KEY_FALLBACKS)", survives("key_rotation")),
        ("second app server", survives("second_server")),
        ("logout → copy refused", refused("logout_s")),
        ("password change → copy refused", refused("password_change_s")),
    ]
    return table(columns, survival["survival"])


MANAGED_COLUMNS = [
    WAY,
    ("stock µs", "{project_us}"),
    ("managed µs", "{managed_us}"),
    ("managed ÷ stock (target ≤ 1.0)", lambda way: f"{way['managed']['over_stock']:.2f}×"),
    (
        "queries / request: stock, managed",
        lambda way: f"{way['queries_per_request']}, {way['managed']['queries_per_request']}",
    ),
    (
        "cache calls / request: stock, managed",
        lambda way: (
            f"{way['cache_calls_per_request']}, {way['managed']['cache_calls_per_request']}"
        ),
    ),
    (
        "writes / request: stock, managed",
        lambda way: f"{way['writes_per_request']}, {way['managed']['writes_per_request']}",
    ),
    (
        "rows written: login, logout (managed)",
        lambda way: (
            f"{way['managed']['rows_written_per_login']}, "
            f"{way['managed']['rows_written_per_logout']}"
        ),
    ),
]
EVENT_HEADERS = {
    "logout_s": "logout",
    "user_end_s": "its user ends it",
    "deactivation_s": "deactivation",
    "admin_end_s": "an admin ends it",
    "password_change_s": "password change",
}


def revocation_table(delays: dict) -> str:
    """Seconds until a copy of a credential is refused, per way and event, for one profile."""
    columns = [("way", code)] + [
        (header, lambda way, event=event: seconds(delays[way][event]))
        for event, header in EVENT_HEADERS.items()
    ]
    return table(columns, delays)


def peers_table(peers: dict) -> str:
    """The peer libraries beside the managed profile: cost, and what each can do."""
    columns = [
        ("", "{label}"),
        ("µs / request", "{us_per_request}"),
        ("× floor", lambda row: f"{row['over_floor']:.2f}×"),
        ("queries / request", "{queries_per_request}"),
        ("ends a credential at once (measured)", lambda row: yesno(row["revoked_at_once"])),
        ("lists sessions", "{lists_sessions}"),
        ("inactivity timeout", "{idle_timeout}"),
        ("refresh token reuse", "{reuse_detection}"),
    ]
    managed = [
        {
            "label": f"this project, managed `{name}`",
            **entry,
            "lists_sessions": "yes: every way's, from any way, and the admin",
            "idle_timeout": "yes: `SESSION_IDLE_TIMEOUT` on every way",
            "reuse_detection": (
                "the whole login session ends; a grace window for concurrent refreshes"
                if entry["refresh_tokens"]
                else "n/a: no refresh tokens"
            ),
        }
        for name, entry in peers["managed"].items()
    ]
    libraries = [{**row, "label": f"{row['package']}"} for row in peers["libraries"]]
    return table(columns, [*managed, *libraries])


def yesno(value: bool) -> str:
    return "yes" if value else "**no**"


# --- Sentences computed from the figures -----------------------------------------------------


def managed_sentence(ways: list[dict]) -> str:
    """Whether the managed profile costs no more than stock, way by way."""
    ratios = {way["way"]: way["managed"]["over_stock"] for way in ways}
    dearer = [code(name) for name, value in ratios.items() if value > 1.0]
    met = (
        f"It is at most the stock way's cost on all {len(ratios)} ways"
        if not dearer
        else f"It costs more than the stock way on {', '.join(dearer)}"
    )
    return (
        f"The managed profile costs {span(list(ratios.values()))} what the stock profile of "
        f"the same way costs, timed in the same batches. {met} (the target: at most 1.0×)."
    )


def peers_sentence(peers: dict) -> str:
    """Whether every managed way costs no more than each peer library, and which revoke."""
    ratios = [value for row in peers["managed_over_library"].values() for value in row.values()]
    over = [
        f"{code(way)} ÷ {library} {value:.2f}×"
        for way, row in peers["managed_over_library"].items()
        for library, value in row.items()
        if value > 1.0
    ]
    met = (
        "Every managed way costs at most what each library does"
        if not over
        else f"Dearer than a library: {', '.join(over)}"
    )
    revoking = [row["package"] for row in peers["libraries"] if row["revoked_at_once"]]
    managed_revoke = sum(entry["revoked_at_once"] for entry in peers["managed"].values())
    return (
        f"Managed way ÷ library, per request: {span(ratios)}. {met} (the target: at most "
        f"1.0× each). Ended as its documentation ends it, a credential was refused at once by "
        f"{len(revoking)} of the {len(peers['libraries'])} libraries, and by the managed "
        f"profile on {managed_revoke} of its {len(peers['managed'])} ways."
    )


def revocation_sentence(survival: dict) -> str:
    """How many event and way pairs each profile ends at once."""
    counts = []
    for profile, key in (("stock", "revocation_delay"), ("managed", "managed_revocation_delay")):
        delays = [value for way in survival[key].values() for value in way.values()]
        at_once = sum(value == 0.0 for value in delays)
        counts.append(f"{at_once} of {len(delays)} in the {profile} profile")
    return "A copy was refused at the first replay in " + " and ".join(counts) + "."


def drf_sentence(ways: list[dict]) -> str:
    """What DRF itself adds to a plain session view, and what the project adds to DRF."""
    sessions = [way for way in ways if way["drf_dispatch_us"]]  # measured for sessions only
    if not sessions:
        return ""
    drf = [way["drf_peer_us"] / way["peer_us"] for way in sessions]
    dispatch = [way["drf_dispatch_us"] / way["peer_us"] for way in sessions]
    own = [way["project_us"] / way["drf_peer_us"] for way in ways]
    return (
        f"DRF itself costs the session ways {span(drf)} a plain view (DRF peer ÷ peer). Of "
        f"that, its dispatch by itself costs {span(dispatch)} (the plain view called from an "
        "APIView that runs no authentication or permission class and no renderer, ÷ peer): "
        "what every view served through DRF pays before it authenticates anyone. This "
        f"project's own code costs {span(own)} a plain DRF view of the same way (× DRF peer)."
    )


def fast_sentence(ways: list[dict]) -> str:
    kept = sum(way["fast_tradeoff"]["deactivated_user_keeps_access"] for way in ways)
    return (
        f"Measured: a deactivated user kept access through {kept} of the {len(ways)} "
        "fast profiles, for as long as the credential lives."
    )


# --- At scale --------------------------------------------------------------------------------

SIDES = ("stock", "ours")


def measured_on(machine: dict) -> str:
    """Where bench-scale ran, if its results name the processor (those written before did not)."""
    if "processor" not in machine:
        return ""
    return f"on {machine['processor']} ({machine['cores']} cores), "


def measured_databases(scale: dict) -> list[dict]:
    return [database for database in scale["databases"].values() if "cleanup" in database]


def measured_cleanups(scale: dict) -> list[dict]:
    """Every cleanup's figures, with the name of its database and its kind (sessions, tokens)."""
    return [
        {**cleanup, "database": database["database"], "kind": kind}
        for database in measured_databases(scale)
        for kind, cleanup in database["cleanup"].items()
    ]


def logins(cleanup: dict, template: str) -> str:
    """The logins made while stock's cleanup ran, then while ours did, each as template says."""
    return ", ".join(template.format_map(cleanup[side]["logins_while_running"]) for side in SIDES)


CLEANUP_COLUMNS = [
    ("database", "{database}"),
    ("cleanup", "{kind}: `{stock[command]}` vs `{ours[command]}`"),
    ("stock s", "{stock[seconds]}"),
    ("stock MB", "{stock[peak_rss_mb]}"),
    ("ours s", "{ours[seconds]}"),
    ("ours MB", "{ours[peak_rss_mb]}"),
    ("speed-up", "{speedup}×"),
    ("longest batch s", lambda cleanup: cleanup["ours"].get("longest_batch_seconds", "—")),
    (
        "longest login wait s: stock, ours",
        lambda cleanup: logins(cleanup, "{longest_wait_seconds}"),
    ),
    ("failed logins: stock, ours", lambda cleanup: logins(cleanup, "{failed} of {writes}")),
]
ONE_TRANSACTION_COLUMNS = [
    ("database", "{database}"),
    ("cleanup", "{kind}"),
    ("one transaction s", "{one_transaction[seconds]}"),
    ("of which commit s", "{one_transaction[commit_seconds]}"),
    ("stock ÷ one transaction", "{stock_over_one_transaction}×"),
    ("ours ÷ one transaction", "{ours_over_one_transaction}×"),
]


def one_transaction_table(scale: dict) -> str:
    """Every expired row deleted in one transaction, against the stock command and ours."""
    # Results of a bench-scale from before it measured this have no row, not a wrong one.
    measured = [cleanup for cleanup in measured_cleanups(scale) if "one_transaction" in cleanup]
    return table(ONE_TRANSACTION_COLUMNS, measured)


def cleanup_sentences(scale: dict) -> str:
    """What the cleanup table says, as sentences computed from it."""
    cleanups = measured_cleanups(scale)
    if not cleanups:
        return ""
    speedups = [cleanup["speedup"] for cleanup in cleanups]
    peak = max(cleanup["ours"]["peak_rss_mb"] for cleanup in cleanups)
    logins = {side: [c[side]["logins_while_running"] for c in cleanups] for side in SIDES}
    waits = {side: max(run["longest_wait_seconds"] for run in logins[side]) for side in SIDES}
    refused = {side: sum(run["failed"] for run in logins[side]) for side in SIDES}
    sentences = [
        f"Ours was at least as fast as stock in {sum(speedup >= 1 for speedup in speedups)} "
        f"of the {len(cleanups)} cleanups "
        f"(speed-ups {span(speedups)}), with a peak of {peak} MB. While they ran, the longest "
        f"a login waited was {waits['ours']} s during ours and {waits['stock']} s during "
        f"stock; {refused['ours']} logins were refused during ours, {refused['stock']} during "
        "stock."
    ]
    targets = scale["targets"]
    missed = [
        f"{cleanup['database']} {cleanup['kind']}"
        for cleanup in cleanups
        if not cleanup_targets_met(cleanup, targets)
    ]
    sentences.append(
        f"The targets (a speed-up of at least {targets['cleanup_speedup_min']}×, a peak of at "
        f"most {targets['cleanup_peak_rss_mb_max']} MB, no login waiting longer than "
        f"{targets['login_wait_seconds_max']} s, none refused) were met by "
        f"{len(cleanups) - len(missed)} of the {len(cleanups)} cleanups"
        + (f"; not by {', '.join(missed)}." if missed else ".")
    )
    sentences += [
        f"On {cleanup['database']}, stock's {cleanup['kind']} cleanup took "
        f"{cleanup['stock_over_one_transaction']}× the least any cleanup of the same "
        "rows takes (one transaction, in-process, below); ours, in batches that each "
        f"let the waiting logins in, took {cleanup['ours_over_one_transaction']}× it."
        for cleanup in cleanups
        if cleanup["speedup"] < 1 and "one_transaction" in cleanup
    ]
    return " ".join(sentences)


def cleanup_targets_met(cleanup: dict, targets: dict) -> bool:
    logins = cleanup["ours"]["logins_while_running"]
    return (
        cleanup["speedup"] >= targets["cleanup_speedup_min"]
        and cleanup["ours"]["peak_rss_mb"] <= targets["cleanup_peak_rss_mb_max"]
        and logins["longest_wait_seconds"] <= targets["login_wait_seconds_max"]
        and not logins["failed"]
    )


def cost_at_scale_table(scale: dict) -> str:
    databases = [db for db in measured_databases(scale) if "per_request" in db]
    ways = list(databases[0]["per_request"]["ways"]) if databases else []

    def cost(database: dict, way: str) -> str:
        figures = database["per_request"]["ways"][way]
        small, large = figures["us_per_request_small"], figures["us_per_request_large"]
        return f"{small} → {large} µs ({figures['ratio']}×)"

    columns = [(code(way), partial(cost, way=way)) for way in ways]
    return table([("database", "{database}"), *columns], databases)


def cost_at_scale_sentence(scale: dict) -> str:
    ratios = [
        costs["ratio"]
        for database in measured_databases(scale)
        for costs in database.get("per_request", {}).get("ways", {}).values()
    ]
    if not ratios:
        return ""
    return (
        f"A request cost {span(ratios)} as much with {scale['count']:,} stored as with "
        f"{scale['small_count']:,}, each against the floor of its own phase (the target is "
        f"{scale['targets']['cost_ratio_max']}× at most)."
    )


def scale_context(scale: dict) -> dict:
    return {
        "scale": scale,
        "count": f"{scale['count']:,}",
        "small_count": f"{scale['small_count']:,}",
        "measured_on": measured_on(scale["machine"]),
        "cleanup_table": table(CLEANUP_COLUMNS, measured_cleanups(scale)),
        "cleanup_sentences": cleanup_sentences(scale),
        "one_transaction_table": one_transaction_table(scale),
        "cost_at_scale_table": cost_at_scale_table(scale),
        "cost_at_scale_sentence": cost_at_scale_sentence(scale),
        "batch_seconds": BATCH_SECONDS,
        "sqlite_pause": SQLITE_BATCH_PAUSE_SECONDS,
    }


# --- The files -------------------------------------------------------------------------------


def write_markdown(results: dict, path: Path) -> None:
    context = {
        "results": results,
        "meta": results["meta"],
        "cost_table": table(COST_COLUMNS, results["ways"]),
        "drf_sentence": drf_sentence(results["ways"]),
        "counts_table": table(COUNTS_COLUMNS, results["ways"]),
        "fast_table": table(FAST_COLUMNS, results["ways"]),
        "fast_sentence": fast_sentence(results["ways"]),
        "growth_table": growth_table(results["growth"]),
        "http": results["http"],
        "http_table": "" if "skipped" in results["http"] else http_table(results["http"]),
        "survival": results["survival"],
        "survival_table": survival_table(results["survival"]),
        "managed_table": table(MANAGED_COLUMNS, results["ways"]),
        "managed_sentence": managed_sentence(results["ways"]),
        "peers": results["peers"],
        "peers_table": peers_table(results["peers"]),
        "peers_sentence": peers_sentence(results["peers"]),
        "stock_revocation_table": revocation_table(results["survival"]["revocation_delay"]),
        "managed_revocation_table": revocation_table(
            results["survival"]["managed_revocation_delay"]
        ),
        "revocation_sentence": revocation_sentence(results["survival"]),
    }
    if "scale" in results:
        context |= scale_context(results["scale"])
    path.write_text(render("comparison.md", **context))


def write_readme_blocks(results: dict, readme: Path) -> None:
    """Put the run's cost tables, which way to choose, and the scale table, between the
    README's markers.
    """
    body = render(
        "readme_costs.md",
        results=results,
        cache=results["meta"]["cache"].split(":")[0],
        cost_table=table(COST_COLUMNS, results["ways"]),
    )
    readme_block_write(readme, "comparison", "compare", body)
    managed = render(
        "readme_managed.md",
        results=results,
        managed_table=table(MANAGED_COLUMNS, results["ways"]),
        managed_sentence=managed_sentence(results["ways"]),
        peers_table=peers_table(results["peers"]),
        peers_sentence=peers_sentence(results["peers"]),
        revocation_sentence=revocation_sentence(results["survival"]),
    )
    readme_block_write(readme, "managed costs", "compare", managed)
    # The answers /choose/ shows, from the same figures, and the security matrix as committed.
    readme_block_write(readme, "choose", "compare", readme_choose(results))
    if "scale" in results:
        write_readme_scale(results["scale"], readme)


def readme_choose(results: dict) -> str:
    return render("readme_choose.md", **choice_context(results=results))


def scale_summary(scale: dict) -> str:
    """The results for a terminal: the docs' section on them, and the databases skipped."""
    skipped = [
        f"{name}: skipped: {database['skipped']}"
        for name, database in scale["databases"].items()
        if "skipped" in database
    ]
    return "\n".join([render("scale.md", **scale_context(scale)), *skipped])


def write_readme_scale(scale: dict, readme: Path) -> None:
    body = render("readme_scale.md", **scale_context(scale))
    readme_block_write(readme, "scale", "bench_scale", body)


def readme_block_write(readme: Path, name: str, command: str, body: str) -> None:
    """Replace what stands between the README's markers of a block a command writes."""
    text = readme.read_text()
    start_marker = f"<!-- {name}: written by manage.py {command} -->"
    start, end = text.index(start_marker), text.index(f"<!-- end of {name} -->")
    readme.write_text(text[:start] + start_marker + "\n" + body + "\n" + text[end:])


def write_chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    ways = results["ways"]
    names = [way["way"] for way in ways]
    series = [
        ("this project", "project_us", "#1f77b4"),
        ("stock peer", "peer_us", "#ff7f0e"),
        ("stock DRF peer", "drf_peer_us", "#9467bd"),
        ("fast profile", "fast_us", "#2ca02c"),
    ]
    figure, axes = pyplot.subplots(figsize=(10, 5), dpi=110)
    width = 0.2
    for index, (label, key, color) in enumerate(series):
        positions = [n + (index - 1.5) * width for n in range(len(names))]
        axes.bar(positions, [way[key] for way in ways], width, label=label, color=color)
    axes.axhline(results["floor_us"], color="black", linestyle="--", linewidth=1)
    axes.text(
        len(names) - 0.5, results["floor_us"], " floor: bare JSON view", va="bottom", ha="right"
    )
    axes.set_xticks(range(len(names)), names)
    axes.set_ylabel("µs per resource request (in-process, median)")
    axes.set_title("Cost of one protected request, per way in")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)
