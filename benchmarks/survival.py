"""What a logged-in credential survives, per way: a restart, a key rotation, a second server.

Real gunicorn servers on loopback, on a fresh database beside DATABASE_URL's (else SQLite)
and the sessions cache REDIS_URL names (else local memory); every way logs in through its
real endpoints and its credential is replayed. Everything returned is plain data.
"""

import contextlib
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

from testing.clients import WayHttpClient, jwt_claims, ways_served
from testing.servers import (
    DEMO_PASSWORD,
    demo_database,
    gunicorn_serving,
    is_postgresql,
    manage,
    own_redis_keys,
    server_environment,
    services_problem,
)

SURVIVALS = ("restart", "key_rotation", "second_server")
POLL_INTERVAL_S = 0.2
POLL_BOUND_S = 3.0
# One worker process per server: "a second server" is then exactly one other process.
WORKERS = 1
THREADS = 4
NEW_PASSWORD = "a-new-demo-password-after-the-change"  # noqa: S105 - a throwaway database's

LOCAL_MEMORY_NOTE = (
    "The sessions cache is each server process's local memory (REDIS_URL unset): a second "
    "process cannot see it and a restart empties it, so the cache way's sessions survive "
    "neither, nor a key rotation, which needs a restart whatever the keys; cached-db reads "
    "its database row when its cache misses. Set REDIS_URL to share the cache."
)
MEASURES = {
    "restart": (
        "log in on a server, stop it, start a new one with the same settings, call the resource"
    ),
    "key_rotation": (
        "log in, restart with a new SECRET_KEY and the old one in SECRET_KEY_FALLBACKS, call "
        "the resource; JWT_SIGNING_KEY unset, so SimpleJWT signs with SECRET_KEY and has no "
        "fallback keys"
    ),
    "second_server": (
        "log in on one server, call the resource on a second server process that shares the "
        "database and the sessions cache"
    ),
    "revocation_delay": (
        "seconds from an event that ends a login (a logout, its user ending it from another "
        "login, a password change, the account's deactivation, an administrator ending it) "
        "until a copy of the credential taken before it is refused: 0.0 when the first "
        f"replay, made at once, is refused; replayed every {POLL_INTERVAL_S} s for at most "
        f"{POLL_BOUND_S} s, else 'not before expiry (N s)', N being the lifetime the server "
        "gave the credential; in the stock profile and in the managed one, on servers of each"
    ),
}
# What ends a login, in the order measured (the password change last: it changes the demo
# password every later login would use).
EVENTS = ("logout", "user_end", "deactivation", "admin_end", "password_change")
NOT_IN_STOCK = "not possible: the stock profile records no sessions its user could end"
DEMO_USER = (
    "from django.contrib.auth import get_user_model\n"
    "user = get_user_model().objects.get(username='demo')\n"
)
# The events made behind the servers' backs, as `changepassword`, the admin's user page and
# its session and token actions would make them.
PASSWORD_CHANGE = DEMO_USER + f"user.set_password({NEW_PASSWORD!r})\nuser.save()\n"
PASSWORD_RESTORE = DEMO_USER + f"user.set_password({DEMO_PASSWORD!r})\nuser.save()\n"
DEACTIVATION = DEMO_USER + "user.is_active = False\nuser.save()\n"
REACTIVATION = DEMO_USER + "user.is_active = True\nuser.save()\n"
ADMIN_END = {
    # The stock admin's two actions: end the database sessions, blacklist the refresh tokens.
    "stock": (
        "from django.contrib.sessions.models import Session\n"
        "from rest_framework_simplejwt.token_blacklist.models import OutstandingToken\n"
        "from jwt_demo.services import token_blacklist_many\n"
        "from sessions_demo.services import session_end_many\n"
        "session_end_many(session_keys=list(Session.objects.values_list('pk', flat=True)))\n"
        "token_blacklist_many(outstanding_tokens=OutstandingToken.objects.all())\n"
    ),
    # The managed admin's: end every login session (what "End everyone's" does).
    "managed": (
        "from login_sessions.models import EndReason, LoginSession\n"
        "from login_sessions.services import login_sessions_end\n"
        "login_sessions_end(login_sessions=LoginSession.objects.all(), "
        "reason=EndReason.ADMIN_ENDED)\n"
    ),
}


def measure_survival() -> dict:
    """Measure, per way, what a logged-in credential survives, with os.environ's services."""
    # The rotation is the measurement's to make, from keys of its own, with SimpleJWT on its
    # default key: the caller's SECRET_KEY_FALLBACKS and JWT_SIGNING_KEY are not passed on.
    env = server_environment(os.environ)
    if problem := services_problem(env):
        raise RuntimeError(f"Cannot measure survival: {problem}.")
    with (
        demo_database(env, label="survival") as database_url,
        own_redis_keys(env, label="survival") as prefix,
    ):
        run = SurvivalRun({**env, "DATABASE_URL": database_url, "CACHE_KEY_PREFIX": prefix})
        survival, revocation, lifetimes = run.measure()
        managed_revocation = run.managed_revocation_delays()
    return {
        "configuration": {
            "database": "PostgreSQL" if is_postgresql(env.get("DATABASE_URL", "")) else "SQLite",
            "sessions_cache": "Redis" if env.get("REDIS_URL") else "local memory",
            "servers": f"gunicorn, {WORKERS} worker process x {THREADS} threads each",
            "jwt_signing_key": "SECRET_KEY (JWT_SIGNING_KEY unset)",
        },
        "measures": dict(MEASURES),
        "survival": survival,
        "revocation_delay": revocation,
        "managed_revocation_delay": managed_revocation,
        "credential_lifetime_s": lifetimes,
        "poll": {"interval_s": POLL_INTERVAL_S, "bound_s": POLL_BOUND_S},
        "notes": [] if env.get("REDIS_URL") else [LOCAL_MEMORY_NOTE],
    }


class SurvivalRun:
    """The servers and clients of one measurement."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.ways: dict[str, dict] = {}
        self.opened: list[WayHttpClient] = []

    @contextlib.contextmanager
    def serving(self, env: Mapping[str, str]) -> Iterator[str]:
        with gunicorn_serving(env, workers=WORKERS, threads=THREADS) as base_url:
            try:
                self.ways = self.ways or ways_served(base_url)
                yield base_url
            finally:
                # gunicorn's graceful stop waits for open keep-alive connections to close:
                # the clients close theirs first. One used again connects anew.
                for client in self.opened:
                    client.close()

    def measure(self) -> tuple[dict, dict, dict]:
        survival: dict[str, dict[str, bool]] = {}
        with self.serving(self.env) as first:
            on_first = self.logged_in(first)
            with self.serving(self.env) as second:
                survival["second_server"] = self.accepted(on_first, base_url=second)
        with self.serving(self.env) as restarted:
            survival["restart"] = self.accepted(on_first, base_url=restarted)
            before_rotation = self.logged_in(restarted)
        rotated_env = {
            **self.env,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECRET_KEY_FALLBACKS": self.env["SECRET_KEY"],
        }
        with self.serving(rotated_env) as rotated:
            survival["key_rotation"] = self.accepted(before_rotation, base_url=rotated)
            revocation, lifetimes = self.revocation_delays(rotated, env=rotated_env)
        by_way = {name: {kind: survival[kind][name] for kind in SURVIVALS} for name in self.ways}
        return by_way, revocation, lifetimes

    def copies(self, clients: Mapping[str, WayHttpClient], base_url: str | None = None) -> dict:
        """A copy of each client, on this or another server; each is closed when servers stop."""
        copies = {name: client.copy(base_url=base_url) for name, client in clients.items()}
        self.opened += copies.values()
        return copies

    def logged_in(self, base_url: str, names=None) -> dict[str, WayHttpClient]:
        clients = {name: WayHttpClient(base_url, self.ways[name]) for name in names or self.ways}
        self.opened += clients.values()
        # At once: each login spends its time hashing the password on the server.
        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            list(pool.map(WayHttpClient.log_in, clients.values()))
        return clients

    def accepted(self, clients: Mapping[str, WayHttpClient], *, base_url: str) -> dict:
        """Whether each credential still opens the resource, replayed on base_url."""
        replays = self.copies(clients, base_url)
        return {name: is_accepted(name, replay) for name, replay in replays.items()}

    def managed_revocation_delays(self) -> dict:
        """The revocation delays of the managed profile, on a server of its own."""
        env = {**self.env, "SESSION_POLICY": "managed"}
        with self.serving(env) as base_url:
            revocation, _ = self.revocation_delays(base_url, env=env, policy="managed")
        return revocation

    def revocation_delays(
        self, base_url: str, *, env: Mapping[str, str], policy: str = "stock"
    ) -> tuple[dict, dict]:
        """Per way and event: seconds until a copy of a credential from before it is refused."""
        lifetimes: dict[str, int] = {}
        after: dict[str, dict[str, float | str | None]] = {}
        for event in EVENTS:
            clients = self.logged_in(base_url)
            lifetimes = lifetimes or {n: credential_lifetime_s(c) for n, c in clients.items()}
            copies = self.copies(clients)
            if event == "user_end" and policy == "stock":
                after[event] = dict.fromkeys(clients, NOT_IN_STOCK)
                continue
            happened_at = self.end(event, clients, base_url=base_url, env=env, policy=policy)
            after[event] = refused_after(copies, since=happened_at)
            if event == "deactivation":
                manage(env, "shell", "--no-imports", "--command", REACTIVATION)
        manage(env, "shell", "--no-imports", "--command", PASSWORD_RESTORE)

        def delay(name: str, seconds: float | str | None) -> float | str:
            return seconds if seconds is not None else f"not before expiry ({lifetimes[name]} s)"

        revocation = {
            name: {f"{event}_s": delay(name, after[event][name]) for event in EVENTS}
            for name in self.ways
        }
        return revocation, lifetimes

    def end(
        self,
        event: str,
        clients: Mapping[str, WayHttpClient],
        *,
        base_url: str,
        env: Mapping[str, str],
        policy: str,
    ) -> dict[str, float]:
        """Make the event happen to every client's login; returns when, per way."""
        if event == "logout":
            happened_at = {}
            for name, client in clients.items():
                if (answer := client.logout()).status_code != HTTPStatus.OK:
                    raise RuntimeError(f"{name}: logout answered {answer.status_code}")
                happened_at[name] = time.monotonic()
            return happened_at
        if event == "user_end":
            # The user, logged in once more, ends every other login of theirs.
            (through,) = self.logged_in(base_url, names=["jwt"]).values()
            body = {"password": DEMO_PASSWORD, "scope": "others"}
            answer = through.post("sessions_end", body)
            if answer.status_code != HTTPStatus.OK:
                raise RuntimeError(f"ending the other sessions answered {answer.status_code}")
        else:
            script = {
                "deactivation": DEACTIVATION,
                "admin_end": ADMIN_END[policy],
                "password_change": PASSWORD_CHANGE,
            }[event]
            manage(env, "shell", "--no-imports", "--command", script)
        return dict.fromkeys(clients, time.monotonic())


def is_accepted(name: str, client: WayHttpClient) -> bool:
    """Whether the resource accepts the credential; other answers than 200 and 401 fail."""
    answer = client.resource()
    if answer.status_code not in {HTTPStatus.OK, HTTPStatus.UNAUTHORIZED}:
        raise RuntimeError(f"{name}: the resource answered {answer.status_code}: {answer.text}")
    return answer.status_code == HTTPStatus.OK


def refused_after(
    clients: Mapping[str, WayHttpClient], *, since: Mapping[str, float]
) -> dict[str, float | None]:
    """Seconds until each credential is refused (0.0: at the first replay), or None."""
    delays: dict[str, float | None] = dict.fromkeys(clients)
    pending = dict(clients)
    deadline = min(since.values()) + POLL_BOUND_S
    first_round = True
    while pending:
        round_started = time.monotonic()
        for name, client in list(pending.items()):
            replayed_at = time.monotonic()
            if not is_accepted(name, client):
                delays[name] = 0.0 if first_round else round(replayed_at - since[name], 1)
                del pending[name]
        first_round = False
        if time.monotonic() + POLL_INTERVAL_S > deadline:
            break
        time.sleep(max(0.0, round_started + POLL_INTERVAL_S - time.monotonic()))
    return delays


def credential_lifetime_s(client: WayHttpClient) -> int:
    """Seconds the server lets a logged-in client's credential live, as it told the client."""
    if client.tokens:
        # SimpleJWT dates the access token's expiry from the moment its refresh token was
        # made (the pair's iat) but stamps the access token's own iat a moment later, which
        # may fall in the next second: exp - iat of the access token alone is then one second
        # short of the lifetime.
        access, refresh = (jwt_claims(client.tokens[kind]) for kind in ("access", "refresh"))
        return access["exp"] - refresh["iat"]
    # The credential cookie's Max-Age; the CSRF cookie's, longer, is not a credential.
    return min(
        max_age for name, max_age in client.max_ages.items() if name != client.csrf_cookie_name
    )
