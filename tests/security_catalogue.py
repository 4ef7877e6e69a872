"""The requirements the security matrix reports on, and how each applies to each way in.

A way is expected to pass a requirement, proved by at least one passing test tagged with it,
unless the entry says otherwise: n/a (with why), by design (a weakness some test tagged
`by_design` demonstrates) or not yet (planned, with where). Each holds for both session
policies, but where an entry says what the managed profile changes (managed_by_design,
managed_not_yet): there every way not named passes. The plain-cookie way, insecure on
purpose, has a column too: what it fails (each shown by a test tagged `fails`) is listed at
the end; the session policy changes nothing of it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ways.registry import (
    DEMONSTRATION_WAYS,
    SESSION_WAYS,
    SESSIONS_CACHE,
    TOKEN_WAYS,
    WAYS,
    Way,
    ways_where,
)


def names(ways: Iterable[Way]) -> tuple[str, ...]:
    return tuple(way.name for way in ways)


# The classes of ways the requirements speak of, all from the registry.
ALL = names(WAYS)
SESSIONS = names(SESSION_WAYS)
TOKENS = names(TOKEN_WAYS)
SERVER_SIDE = names(ways_where(self_contained=False))
SELF_CONTAINED = names(ways_where(self_contained=True))
SIGNED_COOKIE = names(ways_where(kind="session", self_contained=True))
IN_THE_CACHE = names(way for way in WAYS if SESSIONS_CACHE in way.stores)
CACHE_ONLY = names(way for way in WAYS if way.stores == (SESSIONS_CACHE,))
IN_A_HEADER = names(ways_where(transport="header"))
TOKENS_IN_COOKIES = names(ways_where(kind="token", transport="cookie"))
# Not among ALL: the tests that claim every way claim the ways worth deploying.
PLAIN = names(DEMONSTRATION_WAYS)
COLUMNS = ALL + PLAIN

NO_COOKIE = "the credential travels in a header; no cookie carries it"
NO_BROWSER_CSRF = "a browser never attaches an Authorization header on its own"
REFERENCE_TOKEN = "a random id looked up on the server: nothing in it to sign or check"
NO_FEDERATION = "no federated identity or single sign-on: the project is its own identity store"


@dataclass(frozen=True)
class Requirement:
    standard: str  # "asvs", "wstg" or "outage": the marker that tags its tests
    id: str
    text: str
    not_applicable: dict[str, str] = field(default_factory=dict)
    by_design: dict[str, str] = field(default_factory=dict)
    not_yet: dict[str, str] = field(default_factory=dict)
    fails: dict[str, str] = field(default_factory=dict)
    # In the managed profile, when it differs from stock; None: as in the stock profile.
    managed_by_design: dict[str, str] | None = None
    managed_not_yet: dict[str, str] | None = None

    @property
    def label(self) -> str:
        return {"asvs": "ASVS {}", "wstg": "WSTG-{}", "outage": "Outage: {}"}[self.standard].format(
            self.id
        )

    def statuses(self, policy: str) -> tuple[tuple[str, dict[str, str]], ...]:
        managed = policy == "managed"
        by_design = self.by_design
        not_yet = self.not_yet
        if managed and self.managed_by_design is not None:
            by_design = self.managed_by_design
        if managed and self.managed_not_yet is not None:
            not_yet = self.managed_not_yet
        return (
            ("fails", self.fails),
            ("n/a", self.not_applicable),
            ("by design", by_design),
            ("not yet", not_yet),
        )

    def expected(self, way: str, policy: str = "stock") -> str:
        for status, reasons in self.statuses(policy):
            if way in reasons:
                return status
        return "pass"

    def reason(self, way: str, policy: str = "stock") -> str:
        for _, reasons in self.statuses(policy):
            if way in reasons:
                return reasons[way]
        return ""


def each(ways, why: str) -> dict[str, str]:
    return dict.fromkeys(ways, why)


CATALOGUE = (
    # ASVS 5.0 V7 Session Management
    Requirement(
        "asvs",
        "7.1.1",
        "Inactivity period and maximum session lifetime are documented",
    ),
    Requirement(
        "asvs",
        "7.1.2",
        "The number of concurrent sessions per account, and what happens at the limit, is "
        "documented",
    ),
    Requirement(
        "asvs",
        "7.1.3",
        "Federated (SSO) session lifetimes and termination are documented and coordinated",
        not_applicable=each(ALL, NO_FEDERATION),
    ),
    Requirement("asvs", "7.2.1", "Session tokens are verified by a trusted backend service"),
    Requirement(
        "asvs",
        "7.2.2",
        "Session tokens are generated dynamically, never static API secrets or keys",
    ),
    Requirement(
        "asvs",
        "7.2.3",
        "Reference tokens are unique, from a CSPRNG, with at least 128 bits of entropy",
        not_applicable=each(
            SELF_CONTAINED, "a self-contained token: its strength is its signature (V9)"
        ),
    ),
    Requirement(
        "asvs",
        "7.2.4",
        "Authentication issues a new session token and terminates the current one",
        by_design=each(
            SELF_CONTAINED,
            "a new credential is issued, but one issued earlier stays valid until it "
            "expires: the server keeps no list of what it issued",
        ),
        managed_by_design={},
    ),
    Requirement(
        "asvs",
        "7.3.1",
        "An inactivity timeout enforces re-authentication",
        not_yet=each(ALL, "lifetimes are absolute only: the managed profile has an idle timeout"),
        managed_not_yet={},
    ),
    Requirement(
        "asvs",
        "7.3.2",
        "An absolute maximum session lifetime enforces re-authentication",
        not_yet=each(
            TOKENS,
            "each refresh restarts the refresh token's lifetime, so a chain of refreshes "
            "has no end: the managed profile ends it at its login session's limit",
        ),
        managed_not_yet={},
    ),
    Requirement(
        "asvs",
        "7.4.1",
        "Logout and expiry terminate the session; nothing can resume it",
        by_design=each(
            SELF_CONTAINED,
            "logout makes this client forget the credential, but a copy stays valid until "
            "it expires (the jwt ways do blacklist the refresh token)",
        ),
        managed_by_design={},
    ),
    Requirement("asvs", "7.4.2", "Disabling or deleting an account terminates all its sessions"),
    Requirement("asvs", "7.4.3", "After a password change, all other sessions can be terminated"),
    Requirement(
        "asvs",
        "7.4.4",
        "Every authenticated page gives easy, visible access to logout",
        not_applicable=each(
            ALL, "an API without pages: every logout endpoint is listed by /api/ways/"
        ),
    ),
    Requirement(
        "asvs",
        "7.4.5",
        "Administrators can terminate the sessions of one user or of all users",
        by_design={
            **each(
                SIGNED_COOKIE,
                "nothing is stored on the server to end: only a new SECRET_KEY ends "
                "signed-cookie sessions, and it ends all of them",
            ),
            **each(
                TOKENS,
                "the admin blacklists refresh tokens; an access token lives until it expires",
            ),
        },
        not_yet=each(
            CACHE_ONLY,
            "the admin lists cache sessions but cannot end them: the managed profile's login "
            "sessions page can",
        ),
        managed_by_design={},
        managed_not_yet={},
    ),
    Requirement(
        "asvs",
        "7.5.1",
        "Re-authentication before changing sensitive account attributes",
        not_applicable=each(ALL, "no account attribute can be changed through this API"),
    ),
    Requirement(
        "asvs",
        "7.5.2",
        "Users can view and (after re-authenticating) terminate their active sessions",
        not_yet=each(
            ALL, "the stock profile records no sessions to list: the managed profile does"
        ),
        managed_not_yet={},
    ),
    Requirement(
        "asvs",
        "7.5.3",
        "Re-authentication before highly sensitive operations",
        not_applicable=each(ALL, "the API offers no highly sensitive operation"),
    ),
    Requirement(
        "asvs",
        "7.6.1",
        "Session lifetime and termination between relying parties and identity providers",
        not_applicable=each(ALL, NO_FEDERATION),
    ),
    Requirement(
        "asvs",
        "7.6.2",
        "Creating a session requires the user's consent or an explicit action",
        not_applicable=each(ALL, NO_FEDERATION),
    ),
    # ASVS 5.0 V10 OAuth: the refresh token rotation this project's token ways use
    Requirement(
        "asvs",
        "10.4.5",
        "Refresh tokens rotate, and a rotated one presented again revokes every token of its grant",
        not_applicable=each(SESSIONS, "no refresh token"),
        by_design=each(
            TOKENS,
            "SimpleJWT refuses a rotated refresh token presented again, but the chain it "
            "started lives on: the managed profile ends the whole login session",
        ),
        managed_by_design={},
    ),
    # ASVS 5.0 V6 Authentication: brute force, on every way's login
    Requirement(
        "asvs",
        "6.1.1",
        "How rate limiting defends against credential stuffing and brute force is documented, "
        "with its configuration and how it prevents malicious account lockout",
    ),
    Requirement(
        "asvs",
        "6.3.1",
        "Controls prevent credential stuffing and password brute force",
    ),
    # ASVS 5.0 V6.2 Password security: a password change through every way's credential
    Requirement("asvs", "6.2.2", "Users can change their password"),
    Requirement(
        "asvs", "6.2.3", "Changing the password requires the user's current and new password"
    ),
    # ASVS 5.0 V9 Self-contained Tokens
    Requirement(
        "asvs",
        "9.1.1",
        "The signature or MAC is checked before the token's contents are trusted",
        not_applicable=each(SERVER_SIDE, REFERENCE_TOKEN),
    ),
    Requirement(
        "asvs",
        "9.1.2",
        "Only allowlisted algorithms create and verify tokens; never 'none'",
        not_applicable=each(SERVER_SIDE, REFERENCE_TOKEN),
    ),
    Requirement(
        "asvs",
        "9.1.3",
        "Keys come from trusted, pre-configured sources; jku, x5u and jwk are not trusted",
        not_applicable={
            **each(SERVER_SIDE, REFERENCE_TOKEN),
            **each(
                SIGNED_COOKIE,
                "Django's signed value names no key: the key is always from settings",
            ),
        },
    ),
    Requirement(
        "asvs",
        "9.2.1",
        "A token is accepted only within its validity period (nbf, exp)",
        not_applicable=each(SERVER_SIDE, REFERENCE_TOKEN),
    ),
    Requirement(
        "asvs",
        "9.2.2",
        "A token is accepted only for its type and purpose",
        not_applicable=each(SERVER_SIDE, REFERENCE_TOKEN),
    ),
    Requirement(
        "asvs",
        "9.2.3",
        "A token is accepted only by the audience it was issued for",
        not_applicable={
            **each(SERVER_SIDE, REFERENCE_TOKEN),
            **each(
                SIGNED_COOKIE, "only this service reads it; its salt binds it to sessions (9.2.2)"
            ),
        },
    ),
    Requirement(
        "asvs",
        "9.2.4",
        "A key shared across audiences issues tokens restricted to one audience",
        not_applicable={
            **each(SERVER_SIDE, REFERENCE_TOKEN),
            **each(SIGNED_COOKIE, "the signing key issues session cookies for this service only"),
        },
    ),
    # ASVS 5.0 V3.3 Cookie Setup
    Requirement(
        "asvs",
        "3.3.1",
        "Cookies are Secure, with a __Host- or __Secure- prefix",
        not_applicable=each(IN_A_HEADER, NO_COOKIE),
    ),
    Requirement(
        "asvs",
        "3.3.2",
        "Each cookie's SameSite value suits its purpose",
        not_applicable=each(IN_A_HEADER, NO_COOKIE),
    ),
    Requirement(
        "asvs",
        "3.3.3",
        "Cookies carry the __Host- prefix unless shared with other hosts",
        not_applicable=each(IN_A_HEADER, NO_COOKIE),
        by_design=each(
            TOKENS_IN_COOKIES,
            "the refresh cookie keeps a narrow Path, which __Host- forbids: it is __Secure- "
            "instead",
        ),
    ),
    Requirement(
        "asvs",
        "3.3.4",
        "Credentials in cookies are HttpOnly and sent only in Set-Cookie",
        not_applicable=each(IN_A_HEADER, NO_COOKIE),
    ),
    Requirement(
        "asvs",
        "3.3.5",
        "A cookie's name and value together stay within 4096 bytes",
        not_applicable=each(IN_A_HEADER, NO_COOKIE),
    ),
    # ASVS 5.0 V3.4 and V3.5, where the ways in differ or a test proves it
    Requirement("asvs", "3.4.1", "Strict-Transport-Security for a year, subdomains included"),
    Requirement(
        "asvs",
        "3.4.3",
        "A Content-Security-Policy on every response: trusted sources only, object-src and "
        "base-uri 'none'",
    ),
    Requirement("asvs", "3.4.4", "X-Content-Type-Options: nosniff on every response"),
    Requirement("asvs", "3.4.5", "A Referrer-Policy that keeps URLs from other parties"),
    Requirement(
        "asvs", "3.4.6", "The Content-Security-Policy's frame-ancestors forbids framing by others"
    ),
    Requirement(
        "asvs",
        "3.5.1",
        "Anti-forgery tokens on requests a browser sends with cookie credentials",
        not_applicable=each(IN_A_HEADER, NO_BROWSER_CSRF),
    ),
    Requirement(
        "asvs", "3.5.3", "State changes only on unsafe methods, never on GET, HEAD or OPTIONS"
    ),
    # OWASP WSTG session management tests
    Requirement("wstg", "SESS-01", "Session management schema: tokens unguessable and checked"),
    Requirement(
        "wstg", "SESS-02", "Cookie attributes", not_applicable=each(IN_A_HEADER, NO_COOKIE)
    ),
    Requirement(
        "wstg",
        "SESS-03",
        "Session fixation",
        not_applicable=each(
            IN_A_HEADER, "the client sets its own header: no token exists before login"
        ),
    ),
    Requirement("wstg", "SESS-04", "Exposed session variables"),
    Requirement(
        "wstg",
        "SESS-05",
        "Cross-site request forgery",
        not_applicable=each(IN_A_HEADER, NO_BROWSER_CSRF),
    ),
    Requirement(
        "wstg",
        "SESS-06",
        "Logout functionality",
        by_design=each(
            SELF_CONTAINED, "a copy of the credential taken before logout works until expiry"
        ),
        managed_by_design={},
    ),
    Requirement("wstg", "SESS-07", "Session timeout"),
    Requirement("wstg", "SESS-08", "Session puzzling"),
    Requirement("wstg", "SESS-09", "Session hijacking"),
    Requirement(
        "wstg",
        "SESS-10",
        "JSON Web Tokens",
        not_applicable=each(SESSIONS, "no JSON Web Token is involved"),
    ),
    Requirement("wstg", "SESS-11", "Concurrent sessions"),
    # Faults: which ways keep answering while a service they may use is unreachable.
    Requirement(
        "outage",
        "Redis",
        "Keeps working while Redis is unreachable (answers 503 JSON where it cannot)",
        by_design=each(
            IN_THE_CACHE,
            "its sessions live in Redis: 503 until Redis is back, the browser keeps its "
            "cookie and nothing is lost",
        ),
        managed_by_design=each(
            ALL,
            "every login session is read through Redis: 503 until Redis is back, and "
            "nothing is lost or ended meanwhile",
        ),
    ),
    Requirement(
        "outage",
        "database",
        "Keeps working while the database is unreachable (answers 503 JSON where it cannot)",
        by_design=each(
            ALL, "every way loads the user from the database on each request: 503 until it is back"
        ),
        managed_by_design=each(
            ALL,
            "login sessions live in the database: the cache answers for one until its entry "
            "expires or its activity is due, then 503 until the database is back",
        ),
    ),
)

# --- The plain-cookie way, insecure on purpose ------------------------------------------------
# What it fails, by requirement: the lesson of the way. Each is shown by a test tagged `fails`.
FORGED = "the server believes whatever user id the browser sends: nothing signs or checks it"
FOREVER = "nothing records when the cookie was set or last used: it is good for ever"
ENDS_NOTHING = "the server keeps nothing to end: a copy works as long as the account does"
PLAIN_FAILS = {
    ("asvs", "7.2.1"): FORGED,
    ("asvs", "7.2.2"): "static: the same value at every login, the user's id for ever",
    ("asvs", "7.2.3"): "the user's database id: a sequence anyone can count through",
    ("asvs", "7.2.4"): "a login sets the value it always sets, and an earlier copy still works",
    ("asvs", "7.3.1"): FOREVER,
    ("asvs", "7.3.2"): FOREVER,
    ("asvs", "7.4.1"): "logout only asks the browser to forget; a copy taken before still works",
    ("asvs", "7.4.3"): "a password change ends nothing: the cookie never knew the password",
    ("asvs", "7.4.5"): ENDS_NOTHING,
    ("asvs", "7.5.2"): "no sessions to list or end: no login is recorded",
    ("asvs", "9.1.1"): FORGED,
    ("asvs", "9.1.2"): "no algorithm at all: as good as a JWT signed with 'none'",
    ("asvs", "9.2.1"): FOREVER,
    ("asvs", "3.3.4"): "not HttpOnly, so that the playground can rewrite it: so can any script",
    ("wstg", "SESS-01"): "the value is the user's id: guessable, and not checked",
    ("wstg", "SESS-02"): "not HttpOnly: any script on the page reads and rewrites it",
    ("wstg", "SESS-03"): "the value is known before the login: the user's id never changes",
    ("wstg", "SESS-04"): "the cookie exposes the user's id to anyone who sees it",
    ("wstg", "SESS-06"): "logout only asks the browser to forget; a copy taken before still works",
    ("wstg", "SESS-07"): FOREVER,
    ("wstg", "SESS-09"): "a rewritten or copied cookie is the user: nothing ties it to a login",
}
PRODUCTION_ONLY = (
    "served with DEBUG only, over plain HTTP: never in the production profile this row tests"
)
PLAIN_NOT_APPLICABLE = {
    ("asvs", "7.1.1"): "it has no limits to document: see 7.3.1 and 7.3.2",
    ("asvs", "7.1.2"): "no login is recorded, so there is nothing to count: see 7.5.2",
    ("asvs", "6.1.1"): (
        "the README documents the throttling of the ways worth deploying; this way's login "
        "shares it (6.3.1)"
    ),
    ("asvs", "6.2.2"): "no password endpoint of its own: the password changes through the others",
    ("asvs", "6.2.3"): "no password endpoint of its own: the password changes through the others",
    ("asvs", "9.1.3"): "no key at all: see 9.1.1",
    ("asvs", "9.2.2"): "a bare number: no type or purpose to check",
    ("asvs", "9.2.3"): "a bare number: no audience to check",
    ("asvs", "9.2.4"): "no key issues it",
    ("asvs", "10.4.5"): "no refresh token",
    ("asvs", "3.3.1"): PRODUCTION_ONLY,
    ("asvs", "3.3.3"): PRODUCTION_ONLY,
    ("asvs", "3.4.1"): PRODUCTION_ONLY,
    ("wstg", "SESS-10"): "not a JSON Web Token",
    ("wstg", "SESS-11"): "no login is recorded, so there is nothing to count: see 7.5.2",
}
PLAIN_BY_DESIGN = {
    ("outage", "database"): "it loads the user from the database on each request: 503 until back",
}


def with_the_demonstrations(requirement: Requirement) -> Requirement:
    """The requirement, saying where the plain-cookie way fails it or it does not apply."""
    key = (requirement.standard, requirement.id)
    not_applicable = requirement.not_applicable
    if key in PLAIN_NOT_APPLICABLE:
        not_applicable = {**not_applicable, **each(PLAIN, PLAIN_NOT_APPLICABLE[key])}
    elif set(ALL) <= set(not_applicable) and len(set(not_applicable.values())) == 1:
        # What applies to no way worth deploying applies to no demonstration either.
        not_applicable = {**not_applicable, **each(PLAIN, requirement.not_applicable[ALL[0]])}
    by_design = {**requirement.by_design}
    managed_by_design = requirement.managed_by_design
    if key in PLAIN_BY_DESIGN:
        by_design |= each(PLAIN, PLAIN_BY_DESIGN[key])
        if managed_by_design is not None:
            managed_by_design = {**managed_by_design, **each(PLAIN, PLAIN_BY_DESIGN[key])}
    return replace(
        requirement,
        not_applicable=not_applicable,
        by_design=by_design,
        managed_by_design=managed_by_design,
        fails=each(PLAIN, PLAIN_FAILS[key]) if key in PLAIN_FAILS else {},
    )


CATALOGUE = tuple(with_the_demonstrations(requirement) for requirement in CATALOGUE)
