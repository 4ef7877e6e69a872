"""Which way to choose, by situation: the answers, with this project's measurements as evidence.

What each answer recommends, and why, is the project's reading of how the ways work; what it
quotes as measured is computed here from the files `make compare` and `make security-matrix`
write (docs/comparison.json, docs/security-matrix.md), never written as prose. The page
/choose/ reads them when it is served; `manage.py compare` writes the README's copy of the
same answers.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

COMPARISON = "docs/comparison.md"
MATRIX = "docs/security-matrix.md"
STOCK, MANAGED = "stock", "managed"


@dataclass(frozen=True)
class Link:
    """Evidence: a sentence and where it stands, a path from the project's root with an anchor."""

    text: str
    target: str

    @property
    def document(self) -> str:
        return self.target.split("#")[0]

    @property
    def static_path(self) -> str | None:
        """The target's path among the static files, when the server serves it itself."""
        return self.target.removeprefix("static/") if self.target.startswith("static/") else None


@dataclass(frozen=True)
class Answer:
    situation: str
    use: str
    why: str
    measured: str  # computed from the figures; empty without them
    evidence: tuple[Link, ...]


# --- Reading the evidence --------------------------------------------------------------------


def comparison_read() -> dict | None:
    """The last `make compare` run's figures, or None where it was never run."""
    try:
        return json.loads(Path(settings.COMPARISON_RESULTS).read_text())
    except FileNotFoundError:
        return None


def cluster_read() -> dict | None:
    """The last `make cluster-drill` run's figures, or None where it was never run."""
    try:
        return json.loads(Path(settings.CLUSTER_RESULTS).read_text())
    except FileNotFoundError:
        return None


def security_matrix_read() -> str | None:
    try:
        return Path(settings.SECURITY_MATRIX).read_text()
    except FileNotFoundError:
        return None


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")


@dataclass(frozen=True)
class Cell:
    statuses: dict[str, str]  # way → "pass", "by design", "n/a" or "not yet"
    anchor: str  # of the heading that lists the tests behind the row


def matrix_cells(matrix: str) -> dict[tuple[str, str], Cell]:
    """Every row of the security matrix, per profile: (profile, requirement) → its cells."""
    rows, anchors, repeats, profile, ways = {}, {}, {}, None, []
    for line in matrix.splitlines():
        if heading := re.match(r"#+ (.+)", line):
            # GitHub numbers a repeated heading: the managed profile's repeat the stock one's.
            text = anchor(heading[1])
            repeats[text] = repeats.get(text, -1) + 1
            text += f"-{repeats[text]}" if repeats[text] else ""
            if found := re.fullmatch(r"The `(\w+)` profile", heading[1]):
                profile = found[1]
            for of, requirement in rows:
                if of == profile and heading[1].startswith(f"{requirement}: "):
                    anchors[profile, requirement] = text
        elif line.startswith("| requirement |"):
            ways = re.findall(r"`([^`]+)`", line)
        elif profile and (row := re.match(r"\| ([^|*]+?) \| [^|]* \|(.+)\|$", line)):
            # The word alone ("pass", "by design"): its emoji is not in every font.
            statuses = [re.sub(r"^\W+", "", status.strip()) for status in row[2].split("|")]
            rows[profile, row[1]] = dict(zip(ways, statuses, strict=True))
    return {key: Cell(statuses, anchors.get(key, "")) for key, statuses in rows.items()}


# --- Figures, as the answers quote them ------------------------------------------------------


class Figures:
    """The figures of one compare run, by way, worded as the answers quote them."""

    def __init__(self, results: dict, cluster: dict | None = None):
        self.results, self.cluster = results, cluster
        self.ways = {way["way"]: way for way in results["ways"]}
        self.survival = results["survival"]

    def cost(self, way: str) -> str:
        figures = self.ways[way]
        over_floor = figures["project_us"] / figures["floor_us"]
        return f"{figures['project_us']} µs ({over_floor:.2f}× the floor)"

    def after(self, way: str, event: str = "logout_s", profile: str = STOCK) -> str:
        """What became of a copy of the credential taken before the event."""
        key = "revocation_delay" if profile == STOCK else "managed_revocation_delay"
        return refused(self.survival[key][way][event])

    def after_on(self, ways: list[str], event: str = "logout_s") -> str:
        """What became of a copy on each of the ways, those alike said once."""
        alike: dict[str, list[str]] = {}
        for way in ways:
            alike.setdefault(self.after(way, event), []).append(way)
        return "; ".join(f"{after} on {names(group)}" for after, group in alike.items())

    def delays(self, profile: str) -> dict[str, list]:
        """Per way, how long a copy lived after each event the profile has (seconds or why)."""
        key = "revocation_delay" if profile == STOCK else "managed_revocation_delay"
        return {
            way: [delay for delay in delays.values() if not is_impossible(delay)]
            for way, delays in self.survival[key].items()
        }

    def ended_within(self, profile: str) -> tuple[list[str], float]:
        """The ways that refused a copy within the measured bound after every event, and the
        longest a copy lived on them.
        """
        ended = {
            way: delays
            for way, delays in self.delays(profile).items()
            if all(isinstance(delay, int | float) for delay in delays)
        }
        return list(ended), max((max(delays) for delays in ended.values()), default=0.0)

    def survived(self, measure: str) -> tuple[list[str], list[str]]:
        """The ways whose credential survived the measure, and those whose did not."""
        outcome = self.survival["survival"]
        kept = [way for way, survived in outcome.items() if survived[measure]]
        return kept, [way for way in outcome if way not in kept]

    def managed_over_stock(self) -> str:
        return span([way["managed"]["over_stock"] for way in self.ways.values()])

    def first_refused_growth(self, way: str) -> dict | None:
        rows = next(growth["rows"] for growth in self.results["growth"] if growth["way"] == way)
        return next((row for row in rows if row["status"] != 200), None)


def refused(delay, *, within: bool = False) -> str:
    """When a copy was refused: seconds after the event, or why not (a sentence of compare's)."""
    if not isinstance(delay, int | float):
        return f"refused {delay}"
    if delay == 0:
        return "refused at the first replay"
    return f"refused {'within' if within else 'after'} {delay} s"


def is_impossible(delay) -> bool:
    """A delay the profile cannot have: no such event (users cannot end their own in stock)."""
    return isinstance(delay, str) and delay.startswith("not possible")


def span(values: list[float]) -> str:
    low, high = f"{min(values):.2f}×", f"{max(values):.2f}×"
    return low if low == high else f"{low} to {high}"


def names(ways: list[str], *, of: dict | None = None) -> str:
    """`a`, `b` and `c`; "every way" when they are all the ways of `of`."""
    if of is not None and ways and set(ways) == set(of):
        return "every way"
    quoted = [f"`{way}`" for way in ways]
    if len(quoted) < 2:
        return "".join(quoted) or "none"
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


# --- The answers -----------------------------------------------------------------------------


def same_site(figures: Figures) -> str:
    return (
        f"A copy of the cookie taken before logout was {figures.after_on(['db', 'cached-db'])}. "
        f"A request cost {figures.cost('db')} on "
        f"`db` and {figures.cost('cached-db')} on `cached-db`, which reads the session from "
        "the cache."
    )


def spa_on_a_subdomain(figures: Figures) -> str:
    return (
        f"A request cost {figures.cost('jwt-cookie')} on `jwt-cookie`. A copy of its access "
        f"cookie taken before logout was {figures.after('jwt-cookie')}; of a `db` session "
        f"cookie, {figures.after('db')}."
    )


def api_client(figures: Figures) -> str:
    over_stock = figures.ways["jwt"]["managed"]["over_stock"]
    return (
        f"A request cost {figures.cost('jwt')}. A copy of the access token taken before "
        f"logout was {figures.after('jwt')}; in the managed profile it was "
        f"{figures.after('jwt', profile=MANAGED)}, at {over_stock:.2f}× the stock cost."
    )


def several_services(figures: Figures) -> str:
    second, _ = figures.survived("second_server")
    kept, lost = figures.survived("key_rotation")
    return (
        f"A second server with the same settings accepted the credentials of "
        f"{names(second, of=figures.ways)}. "
        f"Across a SECRET_KEY rotation with the old key in SECRET_KEY_FALLBACKS, {names(kept)} "
        f"kept working and {names(lost)} did not: SimpleJWT has no fallback keys, so every "
        "service must change its key at once."
    )


def instant_revocation(figures: Figures) -> str:
    stock, stock_longest = figures.ended_within(STOCK)
    managed, managed_longest = figures.ended_within(MANAGED)
    return (
        "After every event measured (logout, an administrator's end, the account's "
        f"deactivation, a password change), a copy was {refused(stock_longest, within=True)} "
        f"on {names(stock, of=figures.ways)} in the stock profile, and "
        f"{refused(managed_longest, within=True)} on {names(managed, of=figures.ways)} in the "
        f"managed profile, which costs {figures.managed_over_stock()} what the stock profile "
        "does per request."
    )


def no_shared_store(figures: Figures) -> str:
    cookie = figures.ways["cookie"]
    sentence = (
        f"The server stored {cookie['stored_bytes_per_session']} bytes per session; verifying "
        f"the cookie ({cookie['primitive']}) cost {cookie['primitive_us']} µs. A copy taken "
        f"before logout was {figures.after('cookie')}."
    )
    if refused := figures.first_refused_growth("cookie"):
        sentence += (
            f" Session data of {refused['session_data_kb']} KB was refused with "
            f"{refused['status']}: a cookie holds at most 4096 bytes."
        )
    return sentence


def scale_out(figures: Figures) -> str:
    second, lost = figures.survived("second_server")
    sentence = (
        "A second server sharing the database and Redis accepted the credentials of "
        f"{names(second, of=figures.ways)}" + (f", not of {names(lost)}" if lost else "") + "."
    )
    if figures.cluster is None:
        return sentence + " Not measured yet: what each way loses behind a load balancer."
    return f"{sentence} {behind_a_balancer(figures.cluster['profiles'][STOCK])}"


def behind_a_balancer(profile: dict) -> str:
    """What `make cluster-drill` counted, in the stock profile, in three sentences."""
    scenarios = profile["scenarios"]
    local = scenarios["round_robin_local_memory"]["ways"]
    broke = [
        way for way, row in local.items() if row["logged_in_on_every_node_clients"] < row["clients"]
    ]
    sticky = scenarios["sticky_node_killed"]["ways"]
    sticky_lost = [
        f"{row['logins_lost']} of {row['clients']} clients of `{way}`"
        for way, row in sticky.items()
        if row["logins_lost"]
    ]
    shared = scenarios["shared_redis_node_killed"]["ways"].values()
    failover = scenarios["redis_primary_killed"]
    waits = [
        row["answered_again_seconds"]
        for row in failover["ways"].values()
        if row["answered_again_seconds"]
    ]
    return (
        "Behind HAProxy, with each node's own local-memory cache, "
        + (
            f"{names(broke)} lost its clients from node to node"
            if broke
            else "no way lost a client"
        )
        + "; with sticky sessions, a killed node made "
        + (" and ".join(sticky_lost) if sticky_lost else "no client")
        + " log in again. With Redis shared, a killed node lost "
        f"{sum(row['logins_lost'] for row in shared)} of {sum(row['clients'] for row in shared)} "
        "logins, and when the Redis primary was killed, every Sentinel named its replica the "
        f"new primary after {failover['sentinel_promoted_seconds']} s"
        + (f"; the ways that need Redis answered 503 for up to {max(waits)} s" if waits else "")
        + f", with {sum(row['server_errors'] for row in failover['ways'].values())} other "
        "server errors."
    )


COST = f"{COMPARISON}#cost-per-resource-request"
MANAGED_COST = f"{COMPARISON}#stock-and-managed-per-way"
GROWTH = f"{COMPARISON}#how-the-credential-grows-with-session-data"
REVOCATION = f"{COMPARISON}#what-a-logged-in-credential-survives-and-how-long-a-revoked-one-lives"
CLUSTER = "docs/cluster.md"

# Each situation: what to use, why (how the ways work), what the figures show, and the cells
# of the security matrix that are its evidence, as (requirement, profile, ways).
SITUATIONS = (
    {
        "situation": "A browser app on the same site as its API",
        "use": "`db` or `cached-db`",
        "why": (
            "The browser sends an HttpOnly cookie by itself and scripts cannot read it; the "
            "session lives on the server, so logging out deletes it. Every POST carries "
            "Django's CSRF token."
        ),
        "measured": same_site,
        "cells": (
            ("ASVS 7.4.1", STOCK, ("db", "cached-db")),
            ("ASVS 3.3.4", STOCK, ("db", "cached-db")),
            ("ASVS 3.5.1", STOCK, ("db", "cached-db")),
        ),
        "documents": (COST, REVOCATION, "static/diagrams/db.svg"),
    },
    {
        "situation": "A single-page app on another subdomain (app.example.com → api.example.com)",
        "use": "`jwt-cookie`, or a session way",
        "why": (
            "Two subdomains are one site: a SameSite=Lax cookie of the API's host goes with the "
            "app's requests made with credentials, once the API allows them by CORS (not set "
            "up here) and trusts the app's origin for CSRF (CSRF_TRUSTED_ORIGINS). The token "
            "stays in an HttpOnly cookie, out of reach of injected script; `jwt` would keep it "
            "in the page's memory."
        ),
        "measured": spa_on_a_subdomain,
        "cells": (
            ("ASVS 3.3.2", STOCK, ("jwt-cookie",)),
            ("ASVS 3.3.3", STOCK, ("jwt-cookie",)),
            ("ASVS 3.5.1", STOCK, ("jwt-cookie",)),
        ),
        "documents": (COST, REVOCATION, "static/diagrams/jwt-cookie.svg"),
    },
    {
        "situation": "A mobile app or a third-party API client",
        "use": "`jwt`",
        "why": (
            "No cookie jar and no browser to forge its requests: the client sends "
            "`Authorization: Bearer`, and needs no CSRF token. Access tokens are short; "
            "refresh tokens rotate, and logout blacklists them."
        ),
        "measured": api_client,
        "cells": (
            ("WSTG-SESS-10", STOCK, ("jwt",)),
            ("ASVS 7.4.1", STOCK, ("jwt",)),
            ("ASVS 7.4.1", MANAGED, ("jwt",)),
        ),
        "documents": (COST, MANAGED_COST, REVOCATION, "static/diagrams/jwt.svg"),
    },
    {
        "situation": "Several services verifying one token",
        "use": "`jwt`",
        "why": (
            "Each service checks the signature and the claims (exp, aud, iss) itself, with no "
            "store shared between them. This project signs with HS256: every service that "
            "verifies could also sign. Across services, sign with an asymmetric key "
            "(SimpleJWT's ALGORITHM and VERIFYING_KEY), so that only the issuer can."
        ),
        "measured": several_services,
        "cells": (
            ("ASVS 9.1.1", STOCK, ("jwt",)),
            ("ASVS 9.2.3", STOCK, ("jwt",)),
            ("ASVS 9.2.4", STOCK, ("jwt",)),
        ),
        "documents": (REVOCATION,),
    },
    {
        "situation": "Logout, an administrator or a password change must end a session at once",
        "use": "`db` or `cached-db`; any way with `SESSION_POLICY=managed`",
        "why": (
            "A session the server keeps ends when the server forgets it. A self-contained "
            "credential (the signed cookie, a JWT access token) ends at its expiry unless the "
            "server keeps state again: the managed profile's login sessions."
        ),
        "measured": instant_revocation,
        "cells": (
            ("ASVS 7.4.1", STOCK, ("db", "cached-db")),
            ("ASVS 7.4.5", STOCK, ("db", "cached-db", "cache")),
            ("ASVS 7.4.1", MANAGED, ("cookie", "jwt", "jwt-cookie")),
        ),
        "documents": (REVOCATION, MANAGED_COST),
    },
    {
        "situation": "No shared store for sessions",
        "use": "`cookie`",
        "why": (
            "The signed cookie carries the session itself, so the server keeps nothing to "
            "share; it cannot be ended before it expires, and it must fit in a cookie. (`jwt` "
            "access tokens need no store either, but its refresh tokens are rows.)"
        ),
        "measured": no_shared_store,
        "cells": (("ASVS 7.4.1", STOCK, ("cookie",)), ("ASVS 3.3.5", STOCK, ("cookie",))),
        "documents": (COST, GROWTH, "static/diagrams/cookie.svg"),
    },
    {
        "situation": "Scaling out behind a load balancer",
        "use": "any way, with its store shared",
        "why": (
            "A session way needs its store shared by every node (the database, or Redis for "
            "`cache` and `cached-db`; never one process's memory) or sticky sessions; "
            "`cookie` and `jwt` need only the same signing key on every node."
        ),
        "measured": scale_out,
        "cells": (
            ("Outage: Redis", STOCK, ("cookie", "db", "cache", "cached-db", "jwt", "jwt-cookie")),
        ),
        "documents": (CLUSTER, REVOCATION),
    },
)

DOCUMENT_TITLES = {
    COST: "the cost per request of every way",
    MANAGED_COST: "the managed profile's cost beside stock's",
    REVOCATION: "what a credential survives, and how long a revoked copy lives",
    GROWTH: "how the credential grows with session data",
    CLUSTER: "what each way loses behind a load balancer, when a node or Redis dies",
}


def cell_link(cells: dict, requirement: str, profile: str, ways: tuple[str, ...]) -> Link:
    """The matrix cells of these ways, grouped by status, linked to their tests."""
    cell = cells.get((profile, requirement))
    if cell is None:  # no matrix, or one without this row: cite it without a status
        return Link(f"{requirement} ({profile})", MATRIX)
    by_status: dict[str, list[str]] = {}
    for way in ways:
        by_status.setdefault(cell.statuses[way], []).append(way)
    statuses = "; ".join(f"{status}: {names(group)}" for status, group in by_status.items())
    return Link(f"{requirement} ({profile}): {statuses}", f"{MATRIX}#{cell.anchor}")


def document_link(target: str) -> Link:
    if target.startswith("static/diagrams/"):
        return Link(f"sequence diagram of `{Path(target).stem}`", target)
    return Link(DOCUMENT_TITLES[target], target)


def choice_answers(results: dict | None, matrix: str | None) -> list[Answer]:
    """The decision table; without results, the answers quote no figures."""
    figures = Figures(results, cluster_read()) if results else None
    cells = matrix_cells(matrix) if matrix else {}
    answers = []
    for situation in SITUATIONS:
        evidence = [cell_link(cells, *cell) for cell in situation["cells"]]
        evidence += [document_link(target) for target in situation["documents"]]
        answers.append(
            Answer(
                situation=situation["situation"],
                use=situation["use"],
                why=situation["why"],
                measured=situation["measured"](figures) if figures else "",
                evidence=tuple(evidence),
            )
        )
    return answers


def choice_context(results: dict | None = None, matrix: str | None = None) -> dict:
    """What the page and the README's block show: the answers and where their figures are from."""
    results = results if results is not None else comparison_read()
    matrix = matrix if matrix is not None else security_matrix_read()
    return {
        "answers": choice_answers(results, matrix),
        "meta": results["meta"] if results else None,
        "comparison_missing": results is None,
        "matrix_missing": matrix is None,
    }
