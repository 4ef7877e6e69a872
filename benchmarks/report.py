"""Writing the comparison: Markdown for readers, JSON for machines, a PNG chart for both."""

import json
from pathlib import Path

from ways.batches import SQLITE_BATCH_PAUSE_SECONDS
from ways.registry import SESSION_WAYS

UNITS = {
    "_us": "µs",
    "_bytes": "bytes",
    "_seconds": "s",
    "_kb": "KB",
    "per_request": "per request",
    "per_login": "per login",
    "per_logout": "per logout",
}


def write_json(results: dict, path: Path) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base else "—"


README_START = "<!-- comparison: written by manage.py compare -->"
README_END = "<!-- end of comparison -->"


def cost_table(results: dict) -> list[str]:
    lines = [
        "| way | project µs | × floor | × peer (target ≤ 1.10) | × DRF peer | fast µs | fast ÷ "
        "(floor + primitive) (target ≤ 2) | primitive | primitive µs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for way in results["ways"]:
        floor = way["floor_us"]  # timed beside the way, in the same round-robin batches
        lines.append(
            f"| `{way['way']}` | {way['project_us']} | {ratio(way['project_us'], floor)} | "
            f"{ratio(way['project_us'], way['peer_us'])} | "
            f"{ratio(way['project_us'], way['drf_peer_us'])} | {way['fast_us']} | "
            f"{ratio(way['fast_us'], floor + way['primitive_us'])} | {way['primitive']} | "
            f"{way['primitive_us']} |"
        )
    return lines


def write_readme_table(results: dict, readme: Path) -> None:
    """Put the cost table, with the run's floor and machine, between the README's markers."""
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END)
    meta = results["meta"]
    block = [
        README_START,
        f"Floor (a bare JSON view): {results['floor_us']} µs; {meta['database']}, sessions cache "
        f"{meta['cache'].split(':')[0]}; {meta['machine']}, `{meta['command']}`.",
        "",
        *cost_table(results),
        "",
    ]
    readme.write_text(text[:start] + "\n".join(block) + text[end:])


def write_markdown(results: dict, path: Path) -> None:
    meta, floor = results["meta"], results["floor_us"]
    ways = results["ways"]
    lines = [
        "# What each way in costs",
        "",
        f"Measured by `{meta['command']}` on {meta['machine']} ({meta['cores']} cores), "
        f"Python {meta['python']}, Django {meta['django']}, {meta['database']}, sessions cache: "
        f"{meta['cache']}. Machine-readable: `docs/comparison.json` (every figure with its "
        "unit); chart: `docs/comparison.png`.",
        "",
        "## How to read this",
        "",
        "Every figure comes from one run, in-process: the WSGI application called directly "
        "with a prepared request, warm, the median of repeated batches, and each way's "
        "configurations (its endpoint, the floor, the peers, the fast profile) timed in "
        "round-robin batches, so that the machine's noise lands on all of them alike. Because "
        "the machine is shared and noisy, compare the ratios, not the microseconds: the "
        f"**floor** is a bare JSON view ({floor} µs here, the median over the ways), the "
        "**peer** is the same way set up the stock way "
        "(Django's SessionMiddleware with the way's engine and a plain view, or a plain DRF "
        "view with SimpleJWT), the **DRF peer** is a plain DRF view with DRF's own "
        "`SessionAuthentication` (the session ways' peer written in DRF, as this project's "
        "views are; the token ways' peer is one already), the **primitive** is the one "
        "operation the way cannot do "
        "without, and the **fast** profile is the way tuned for speed, with the trade-off "
        "stated below. Every configuration runs in Django's startproject middleware. "
        f"A primary-key SELECT of the user costs {results['user_lookup_us']} µs: every way but "
        "the fast profiles pays it on every request.",
        "",
        "## Cost per resource request",
        "",
        *cost_table(results),
        *drf_cost_lines(ways),
    ]
    lines += [
        "",
        "## What one request, login and logout do",
        "",
        "| way | queries / request | cache calls / request | credential on the wire (bytes) "
        "| Set-Cookie at login (bytes) | stored per session (bytes) | rows written: login, "
        "logout | cache writes: login, logout |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for way in ways:
        lines.append(
            f"| `{way['way']}` | {way['queries_per_request']} | {way['cache_calls_per_request']} "
            f"| {way['credential_bytes_on_wire']} | {way['set_cookie_bytes_at_login']} | "
            f"{way['stored_bytes_per_session']} | {way['rows_written_per_login']}, "
            f"{way['rows_written_per_logout']} | {way['cache_writes_per_login']}, "
            f"{way['cache_writes_per_logout']} |"
        )
    lines += [
        "",
        "## The fast profiles and what they give up",
        "",
        "Sessions keep a snapshot of the user (id, username, email) in the session at login and "
        "answer from it without a query; the db way's profile also reads through the cache "
        "(the cached_db engine), so it skips the db way's primitive, the session SELECT, and "
        "can cost less than floor + primitive. Tokens carry the same claims and use SimpleJWT's "
        "`JWTStatelessUserAuthentication`. The price, measured: a deactivated (or deleted) user "
        "keeps access until the session or token expires, and a password change goes unnoticed.",
        "",
        "| way | deactivated user keeps access | for up to |",
        "|---|---|---|",
    ]
    for way in ways:
        tradeoff = way["fast_tradeoff"]
        lines.append(
            f"| `{way['way']}` | {'yes' if tradeoff['deactivated_user_keeps_access'] else 'no'} | "
            f"{tradeoff['until_seconds']} s |"
        )
    lines += [
        "",
        "## How the credential grows with session data",
        "",
        "The same session holding 0 to 5 KB of data that does not compress. The signed cookie "
        "carries it all: past 4096 bytes a browser would silently drop the cookie, so the "
        'project refuses with `507` and `"code": "session_too_large"` instead. A JWT cannot '
        "hold session state at all: it is signed once at login.",
        "",
        "| way | "
        + " | ".join(f"{row['session_data_kb']} KB" for row in results["growth"][0]["rows"])
        + " |",
        "|---|" + "---|" * len(results["growth"][0]["rows"]),
    ]
    for growth in results["growth"]:
        cells = []
        for row in growth["rows"]:
            if row["status"] != 200:
                cells.append(f"**{row['status']}** (refused)")
            elif "stored_bytes" in row:
                cells.append(f"cookie {row['cookie_bytes']} B, stored {row['stored_bytes']} B")
            else:  # the signed cookie: nothing stored
                cells.append(f"cookie {row['cookie_bytes']} B")
        lines.append(f"| `{growth['way']}` | " + " | ".join(cells) + " |")
    lines += http_lines(results["http"])
    lines += survival_lines(results["survival"])
    if "scale" in results:
        lines += scale_lines(results["scale"])
    lines += [
        "",
        "## Reproduce",
        "",
        f"`{meta['command']}` (or `make compare`) writes these three files again.",
    ]
    path.write_text("\n".join(lines) + "\n")


def drf_cost_lines(ways: list[dict]) -> list[str]:
    """What DRF itself adds to a plain session view, and what the project adds to DRF."""
    names = {way.name for way in SESSION_WAYS}
    session_ways = [way for way in ways if way["way"] in names]
    if not session_ways:
        return []
    drf = [way["drf_peer_us"] / way["peer_us"] for way in session_ways]
    dispatch = [way["drf_dispatch_us"] / way["peer_us"] for way in session_ways]
    own = [way["project_us"] / way["drf_peer_us"] for way in ways]
    return [
        "",
        f"DRF itself costs the session ways {min(drf):.2f}× to {max(drf):.2f}× a plain view "
        "(DRF peer ÷ peer): the request and response wrappers, content negotiation, "
        "authentication and permission classes and the renderer, none of them expensive "
        f"alone. Of that, its dispatch by itself costs {min(dispatch):.2f}× to "
        f"{max(dispatch):.2f}× (the plain view called from an APIView that runs no "
        "authentication or permission class and no renderer, ÷ peer): what every view "
        "served through DRF, as all six of this project's are, pays before it authenticates "
        "anyone. This project's own code (its middleware: JSON for every answer, the CSP, "
        "static files, login throttling; way binding, CSRF on every cookie way, no-store and "
        "Vary headers, the checks that say why a credential is refused, six ways' URLs) costs "
        f"{min(own):.2f}× to {max(own):.2f}× a plain DRF view of the same way (× DRF peer).",
    ]


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


def http_lines(http: dict) -> list[str]:
    rows, floor = http["rows"], http["rows"]["floor"]["requests_per_second"]
    lines = [
        "",
        "## Over HTTP",
        "",
        f"gunicorn on loopback ({http['gunicorn_workers']} worker(s) × "
        f"{http['gunicorn_threads']} threads), {http['connections']} concurrent connections for "
        f"{http['seconds_per_way']} s per way, measured with {http['tool']}; the floor is "
        f"{http['floor']}. Client and server share this machine's cores.",
        "",
        "| way | requests/s | ÷ floor | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {'floor' if name == 'floor' else f'`{name}`'} | {row['requests_per_second']:.0f} "
            f"| {row['requests_per_second'] / floor:.2f} | {row['p50_ms']} | {row['p99_ms']} "
            f"| {row['errors']} |"
        )
    return lines


def survival_lines(survival: dict) -> list[str]:
    mark = {True: "yes", False: "**no**"}
    config = survival["configuration"]
    lines = [
        "",
        "## What a logged-in credential survives, and how long a revoked one lives",
        "",
        f"Two gunicorn servers sharing the database ({config['database']}) and the sessions "
        f"cache ({config['sessions_cache']}). Revocation delay: "
        f"{survival['measures']['revocation_delay']}.",
        "",
        "| way | server restart | SECRET_KEY rotation (old key in SECRET_KEY_FALLBACKS) | second "
        "app server | logout → copy refused | password change → copy refused |",
        "|---|---|---|---|---|---|",
    ]
    for way, survives in survival["survival"].items():
        delay = survival["revocation_delay"][way]
        lines.append(
            f"| `{way}` | {mark[survives['restart']]} | {mark[survives['key_rotation']]} | "
            f"{mark[survives['second_server']]} | {seconds(delay['logout_s'])} | "
            f"{seconds(delay['password_change_s'])} |"
        )
    return lines + [f"\n{note}" for note in survival["notes"]]


def seconds(value) -> str:
    return f"{value} s" if isinstance(value, int | float) else value


def measured_on(machine: dict) -> str:
    """Where bench-scale ran, if its results name the processor (those written before did not)."""
    if "processor" not in machine:
        return ""
    return f"on {machine['processor']} ({machine['cores']} cores), "


def scale_lines(scale: dict) -> list[str]:
    """The bench-scale results: cleanup against stock, and cost at 1k and at N stored."""
    count, small = scale["count"], scale["small_count"]
    lines = [
        "",
        f"## At scale: {count:,} stored sessions and tokens",
        "",
        f"From `{scale['command']}` (`docs/scale.json`, every figure with its unit), "
        f"{measured_on(scale['machine'])}{scale['measured_at']}. Half the rows expired; "
        "cleanup is measured as the wall clock and peak resident memory of the whole command "
        "process. Targets: cleanup "
        f"≥ {scale['targets']['cleanup_speedup_min']}× faster than stock with peak memory "
        f"≤ {scale['targets']['cleanup_peak_rss_mb_max']} MB; cost per request at {count:,} "
        f"stored ≤ {scale['targets']['cost_ratio_max']}× the cost at {small:,}.",
        "",
        "| database | cleanup | stock s | stock MB | ours s | ours MB | speed-up | longest "
        "batch s | longest login wait s: stock, ours | failed logins: stock, ours |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for database in scale["databases"].values():
        for kind, cleanup in database["cleanup"].items():
            stock, ours = cleanup["stock"], cleanup["ours"]
            stock_logins, our_logins = stock["logins_while_running"], ours["logins_while_running"]
            lines.append(
                f"| {database['database']} | {kind}: `{stock['command']}` vs "
                f"`{ours['command']}` | {stock['seconds']} | {stock['peak_rss_mb']} | "
                f"{ours['seconds']} | {ours['peak_rss_mb']} | {cleanup['speedup']}× | "
                f"{ours['longest_batch_seconds']} | {stock_logins['longest_wait_seconds']}, "
                f"{our_logins['longest_wait_seconds']} | {stock_logins['failed']} of "
                f"{stock_logins['writes']}, {our_logins['failed']} of {our_logins['writes']} |"
            )
    lines += [
        "",
        f"While each command runs, a login's write (a session row, or an outstanding token) "
        f"is made every {scale.get('login_interval_seconds', 0.05)} s on a connection of its "
        "own and timed: the longest wait is how long a user's login hung, and a failed one "
        'is a login refused (SQLite gives up after 5 s: "database is locked").',
        "",
        "Why the cleanup is not 10× faster than stock: the table below deletes the same "
        "expired rows, freshly seeded again, in one transaction from a process already "
        "running: no start-up, no batches, no pauses, no rows loaded. For sessions that is "
        "`clearsessions`' own `DELETE` (Django 5.2's), and stock's time over it is all there "
        "is to gain: batches, which let logins in, only add to it. `flushexpiredtokens` "
        "loads every token into memory and deletes through the ORM, which the purge avoids "
        "(an order of magnitude less memory); what no cleanup avoids is the database's check "
        "of the foreign key from each blacklist row to its token, for every token deleted. "
        "PostgreSQL runs those checks at commit: the commit column is what they cost, "
        "batched or not.",
        *one_transaction_lines(scale),
        "",
        "What batching buys is in the login columns. PostgreSQL locks rows, not the table: "
        "there neither command refuses a login, and what waits there are stay under half a "
        "second. SQLite has one write lock for the whole "
        "database and no queue for it (in the WAL mode this project sets, readers need no "
        "lock): a single `DELETE` makes every login wait for as long "
        "as it runs, and `flushexpiredtokens` can hold the lock long enough for SQLite to "
        'refuse logins ("database is locked" after 5 s). The purges hold it for one batch at a '
        f"time and, on SQLite only, pause {SQLITE_BATCH_PAUSE_SECONDS} s between batches: a "
        "waiting login retries every "
        "100 ms, and back-to-back batches kept it waiting (for seconds, in SQLite's default "
        "rollback-journal mode). The pauses (one per 10,000 rows) and writing the pages of "
        "the table and its indexes once per batch instead of once are what the purges pay on "
        "SQLite.",
    ]
    ways = list(next(iter(scale["databases"].values()))["per_request"]["ways"])
    lines += [
        "",
        f"Cost per resource request with {small:,} and with {count:,} stored, each relative to "
        "the floor of its own phase:",
        "",
        "| database | " + " | ".join(f"`{way}`" for way in ways) + " |",
        "|---|" + "---|" * len(ways),
    ]
    for database in scale["databases"].values():
        rows = database["per_request"]["ways"]
        lines.append(
            f"| {database['database']} | "
            + " | ".join(
                f"{rows[way]['us_per_request_small']} → {rows[way]['us_per_request_large']} µs "
                f"({rows[way]['ratio']}×)"
                for way in ways
            )
            + " |"
        )
    return lines


def one_transaction_lines(scale: dict) -> list[str]:
    """Every expired row deleted in one transaction, against the stock command and ours."""
    lines = [
        "",
        "| database | cleanup | one transaction s | of which commit s | stock ÷ one transaction "
        "| ours ÷ one transaction |",
        "|---|---|---|---|---|---|",
    ]
    for database in scale["databases"].values():
        for kind, cleanup in database["cleanup"].items():
            fastest = cleanup.get("one_transaction")
            if fastest is None:  # results of a bench-scale from before it measured this
                continue
            lines.append(
                f"| {database['database']} | {kind} | {fastest['seconds']} | "
                f"{fastest['commit_seconds']} | {cleanup['stock_over_one_transaction']}× | "
                f"{cleanup['ours_over_one_transaction']}× |"
            )
    return lines
