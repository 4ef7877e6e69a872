"""The ways at scale: a million sessions and tokens, cleanup against stock, cost per request.

Each database (a SQLite file; PostgreSQL when it answers) is created fresh and measured by a
`bench_scale --worker` process configured for it, which runs each cleanup command in a
process of its own: the peak memory measured is the command's alone.
"""

import gc
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction
from django.db.models import Model
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import User
from benchmarks.harness import Configured, round_robin_microseconds
from benchmarks.host import machine
from benchmarks.measure import carrying, floor_call, logged_in
from benchmarks.seeding import seed, seed_clear, seed_user_ensure
from jwt_demo.services import token_delete_many
from testing.servers import address, fresh_database, own_redis_keys, reachable
from ways.registry import (
    SESSION_ROWS,
    SESSIONS_CACHE,
    TOKEN_ROWS,
    WAYS,
    WAYS_BY_NAME,
    cache_description,
    database_description,
    seeding_ways,
)

DEFAULT_COUNT = 1_000_000
SMALL_COUNT = 1_000
EXPIRED_FRACTION = 0.5
BLACKLISTED_FRACTION = 0.1
# The targets the results are compared with: a purge at least as fast as stock, in little
# memory, with no login kept waiting past half a second; a request no dearer at scale.
TARGET_SPEEDUP = 1.0
TARGET_PEAK_RSS_MB = 100
TARGET_LOGIN_WAIT_SECONDS = 0.5
TARGET_COST_RATIO = 1.2
# A PostgreSQL server (the database named in the URL is only used to create one of our own)
# and a Redis database number of the bench's own.
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
# Round-robin batches of requests per way and phase: noise hits every way alike.
ROUNDS = 15
REQUESTS_PER_BATCH = 200
# Seconds between two of the logins written while a cleanup command runs.
LOGIN_INTERVAL = 0.05

Say = Callable[[str], None]


def probe_key() -> str:
    return "probe" + secrets.token_hex(12)


def tomorrow() -> datetime:
    return timezone.now() + timedelta(days=1)


def tokens_delete_expired() -> None:
    expired = OutstandingToken.objects.filter(expires_at__lte=aware_utcnow())
    # One window spanning every id: both statements cover all expired tokens at once.
    token_delete_many(tokens=expired, batch_size=sys.maxsize, pause=0)


@dataclass(frozen=True, kw_only=True)
class Cleanup:
    """One kind of stored state, and the stock and our command that delete its expired part."""

    name: str
    way: str  # the seeding way
    stock: str
    ours: str
    tables: dict[str, type[Model]]  # the rows counted before and after a cleanup
    login_model: type[Model]
    login_row: Callable[[User], Model]  # what a login of this kind writes
    # Every expired row deleted in the transaction it runs in, as clearsessions' own statement
    # does for sessions: no batches, pauses or rows loaded.
    delete_expired: Callable[[], object]


def way_storing_only(store: str) -> str:
    """The way that keeps its state in this store and nowhere else."""
    return next(way.name for way in seeding_ways() if way.stores == (store,))


CLEANUPS = (
    Cleanup(
        name="sessions",
        way=way_storing_only(SESSION_ROWS),
        stock="clearsessions",
        ours="purge_expired_sessions",
        tables={"sessions": Session},
        login_model=Session,
        login_row=lambda user: Session(
            session_key=probe_key(), session_data="", expire_date=tomorrow()
        ),
        delete_expired=DatabaseSessionStore.clear_expired,
    ),
    Cleanup(
        name="tokens",
        way=way_storing_only(TOKEN_ROWS),
        stock="flushexpiredtokens",
        ours="purge_expired_tokens",
        tables={"outstanding_tokens": OutstandingToken, "blacklisted_tokens": BlacklistedToken},
        login_model=OutstandingToken,
        login_row=lambda user: OutstandingToken(
            user=user, jti=probe_key(), token="", expires_at=tomorrow()
        ),
        delete_expired=tokens_delete_expired,
    ),
)
# The stored state that makes "N stored sessions" for every way: rows, keys and tokens, each
# seeded once, through the way that keeps it alone.
STORED_WAYS = tuple(way.name for way in seeding_ways() if len(way.stores) == 1)


def measure_scale(*, count: int, say: Say, quiet: bool, postgres_url: str, redis_url: str) -> dict:
    """Seed `count` sessions and tokens on fresh databases and measure; returns the results.

    Without a reachable `postgres_url` only SQLite is measured; without a reachable
    `redis_url` the cache ways use the local-memory cache (not measured at scale: it holds
    300 entries).
    """
    results = {
        "command": f"python manage.py bench_scale --count {count}",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "count": count,
        "small_count": SMALL_COUNT,
        "expired_fraction": EXPIRED_FRACTION,
        "blacklisted_fraction": BLACKLISTED_FRACTION,
        "login_interval_seconds": LOGIN_INTERVAL,
        "targets": {
            "cleanup_speedup_min": TARGET_SPEEDUP,
            "cleanup_peak_rss_mb_max": TARGET_PEAK_RSS_MB,
            "login_wait_seconds_max": TARGET_LOGIN_WAIT_SECONDS,
            "cost_ratio_max": TARGET_COST_RATIO,
        },
        "units": {
            "seconds": "s, wall clock of the whole command process",
            "peak_rss_mb": "MiB, peak resident set of the command process (VmHWM)",
            "us_per_request": "µs, median over batches of the mean of one batch",
            "rows": "rows (or Redis keys)",
            "longest_wait_seconds": "s, the longest a login's write waited while a cleanup ran",
            "one_transaction": "s, every expired row deleted in one transaction, in-process",
        },
        "method": [
            "Each cleanup command runs on freshly seeded rows (the same count, expiry spread "
            "and blacklist share for stock and ours) in a process of its own, in the "
            "production profile (DEBUG off), as a cron job would run it.",
            "On PostgreSQL the seeded tables are vacuumed and analyzed before each run, as "
            "autovacuum would have been.",
            "While each cleanup command runs, this process writes what a login writes (a "
            "session row, or an outstanding token) every login_interval_seconds on a "
            "connection of its own, and times each write: the longest wait, and the writes "
            "the database refused.",
            "One transaction (one_transaction): the same rows seeded again and every expired "
            "one deleted in one transaction from this process, with no start-up, batches or "
            "rows loaded; stock_over_one_transaction and ours_over_one_transaction are each "
            "command's time over it.",
            "Cost per request: a prepared WSGI GET of the resource, in-process, DEBUG off, "
            "in round-robin batches over the ways and the floor (a bare JSON view); the small "
            "store is measured before and after the large one; the ratio compares each way's "
            "cost over the floor at the large store with the mean of the same at the small one.",
        ],
        "databases": {},
    }
    if redis_url and not reachable(redis_url):
        say(f"Redis at {redis_url} is not reachable: the local-memory cache it is.")
        redis_url = ""
    with own_redis_keys({"REDIS_URL": redis_url}, label="scale") as prefix:
        for name, database_url in {"sqlite": "sqlite://", "postgresql": postgres_url}.items():
            if problem := database_problem(database_url):
                say(f"{name}: skipped: {problem}")
                results["databases"][name] = {"skipped": problem}
                continue
            env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
            with fresh_database(env, label="scale") as fresh_url:
                say(f"{name}: seeding and measuring {count} per kind")
                env |= {"DATABASE_URL": fresh_url, "CACHE_KEY_PREFIX": prefix}
                results["databases"][name] = worker_run(count=count, env=env, quiet=quiet)
    return results


def database_problem(database_url: str) -> str | None:
    """Why the bench cannot measure on this database server, or None."""
    if not database_url:
        return "no PostgreSQL server given"
    if database_url.startswith("sqlite:") or reachable(database_url):
        return None
    return "PostgreSQL at {}:{} is not reachable".format(*address(database_url))


# --- The worker: one database -----------------------------------------------------------------


def worker_run(*, count: int, env: dict[str, str], quiet: bool) -> dict:
    """Run `bench_scale --worker` on one database; returns what it measured."""
    # The stock clearsessions cleans SESSION_ENGINE's store: the sessions cleanup's rows.
    env = {**os.environ, "SESSION_BACKEND": CLEANUPS[0].way, **env}
    arguments = [f"--count={count}", "--worker", f"--verbosity={0 if quiet else 1}"]
    worker = subprocess.run(  # noqa: S603 - this interpreter and this project's manage.py
        [sys.executable, "manage.py", "bench_scale", *arguments],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
    )
    return json.loads(worker.stdout)


def scale_measure_here(*, count: int, say: Say, bars: bool) -> dict:
    """Everything measured on the configured database, which must be fresh (the worker's)."""
    call_command("migrate", verbosity=0)
    if Session.objects.exists() or OutstandingToken.objects.exists():
        raise RuntimeError("bench_scale --worker needs a fresh database: this one has sessions")
    query = "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
    with connection.cursor() as cursor:
        cursor.execute(query)
        label = f"{database_description()} {cursor.fetchone()[0].split()[0]}"
    result = {"database": label, "cache": cache_description(), "seeding": {}, "cleanup": {}}
    for cleanup in CLEANUPS:
        say(f"{label}: {cleanup.name}: {cleanup.stock} against {cleanup.ours}")
        result["cleanup"][cleanup.name] = cleanup_compare(
            cleanup=cleanup, count=count, seeding=result["seeding"], bars=bars
        )
    say(f"{label}: cost per request at {SMALL_COUNT} and at {count} stored")
    result["per_request"] = request_costs_measure(count=count, say=say, bars=bars)
    seed_clear()
    return result


def seeded(*, way: str, count: int, bars: bool) -> dict:
    """Seed `count` of a way's stored state, with a bar on a terminal; returns how it went."""
    outcome = seed(
        way=way,
        count=count,
        expired_fraction=EXPIRED_FRACTION,
        blacklisted_fraction=BLACKLISTED_FRACTION,
        bar=bars,
    )
    return {
        "rows": outcome.written,
        "expired_rows": outcome.expired,
        "blacklisted_rows": outcome.blacklisted,
        "seconds": round(outcome.seconds, 2),
        "rows_per_second": round(outcome.written / outcome.seconds) if outcome.written else 0,
        **({"skipped": outcome.skipped} if outcome.skipped else {}),
    }


def tables_maintain() -> None:
    """VACUUM ANALYZE and a CHECKPOINT on PostgreSQL, as a live database would have had.

    Freshly seeded tables have no statistics and the previous run's rows are dead but not
    gone; and the dirty pages of seeding, written out during a timing, would slow every
    query in it, the ways that never read the seeded tables included.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Session, OutstandingToken, BlacklistedToken):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute("CHECKPOINT")


# --- Cleanup: stock against ours -------------------------------------------------------------


def cleanup_compare(*, cleanup: Cleanup, count: int, seeding: dict, bars: bool) -> dict:
    """The stock command and ours, each on `count` freshly seeded rows, the same way seeded."""

    def reseeded() -> dict:
        seed_clear()
        outcome = seeded(way=cleanup.way, count=count, bars=bars)
        tables_maintain()
        return outcome

    def stored_rows() -> dict[str, int]:
        return {name: model.objects.count() for name, model in cleanup.tables.items()}

    runs = {}
    for side, command in (("stock", cleanup.stock), ("ours", cleanup.ours)):
        seeding.setdefault(cleanup.name, reseeded())
        before = stored_rows()
        logins = LoginWrites(cleanup=cleanup)
        connection.close()  # no transaction or lock of this process may stand in the way
        with logins:
            run = command_run(args=[command])
        after = stored_rows()
        runs[side] = {
            "command": f"manage.py {command}",
            "seconds": round(run.seconds, 2),
            "peak_rss_mb": round(run.peak_rss_mb, 1),
            "rows_deleted": {name: before[name] - after[name] for name in before},
            **({"longest_batch_seconds": run.longest_batch} if run.longest_batch else {}),
            "logins_while_running": logins.summary(),
        }
    reseeded()
    # Unrounded: a small bench deletes its rows in one transaction in a few milliseconds.
    fastest = one_transaction_delete(cleanup)
    stock, ours = runs["stock"], runs["ours"]
    speedup = stock["seconds"] / ours["seconds"]
    return {
        "rows_seeded": count,
        **runs,
        "one_transaction": {name: round(seconds, 3) for name, seconds in fastest.items()},
        "speedup": round(speedup, 2),
        "stock_over_one_transaction": round(stock["seconds"] / fastest["seconds"], 2),
        "ours_over_one_transaction": round(ours["seconds"] / fastest["seconds"], 2),
        "memory_ratio": round(stock["peak_rss_mb"] / ours["peak_rss_mb"], 2),
        "same_rows_deleted": stock["rows_deleted"] == ours["rows_deleted"],
        "speedup_target_met": speedup >= TARGET_SPEEDUP,
        "peak_rss_target_met": ours["peak_rss_mb"] <= TARGET_PEAK_RSS_MB,
        "login_wait_target_met": (
            ours["logins_while_running"]["longest_wait_seconds"] <= TARGET_LOGIN_WAIT_SECONDS
        ),
    }


def one_transaction_delete(cleanup: Cleanup) -> dict:
    """Every expired row deleted in one transaction, in-process: the least a cleanup takes.

    No command start-up, batches or rows loaded. The commit is timed apart: on PostgreSQL the
    deleted tokens' foreign-key checks run there.
    """
    started = time.perf_counter()
    with transaction.atomic():
        cleanup.delete_expired()
        statements_done = time.perf_counter()
    finished = time.perf_counter()
    return {"seconds": finished - started, "commit_seconds": finished - statements_done}


class LoginWrites:
    """Write what a login writes, LOGIN_INTERVAL apart, while a cleanup command runs.

    Each write is one INSERT in a transaction of its own, on a thread's own connection, timed:
    what a cleanup costs the site is the longest wait and the writes that failed (SQLite gives
    up on its write lock after 5 s). The rows are deleted again before a cleanup's are counted.
    """

    def __init__(self, *, cleanup: Cleanup):
        self.cleanup, self.user = cleanup, seed_user_ensure()
        self.waits: list[float] = []
        self.failures: list[str] = []
        self.written: list[int | str] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="login-writes")

    def __enter__(self) -> "LoginWrites":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.thread.join()
        self.cleanup.login_model.objects.filter(pk__in=self.written).delete()

    def run(self) -> None:
        try:
            while not self.stopping.wait(LOGIN_INTERVAL):
                started = time.perf_counter()
                try:
                    self.written.append(self.write())
                except OperationalError as error:
                    self.failures.append(str(error))
                self.waits.append(time.perf_counter() - started)
        finally:
            connections.close_all()  # this thread's

    def write(self) -> int | str:
        row = self.cleanup.login_row(self.user)
        row.save(force_insert=True)
        return row.pk

    def summary(self) -> dict:
        return {
            "writes": len(self.waits),
            "failed": len(self.failures),
            "longest_wait_seconds": round(max(self.waits, default=0.0), 3),
            **({"failure": self.failures[0]} if self.failures else {}),
        }


@dataclass(frozen=True, kw_only=True)
class CommandRun:
    seconds: float
    peak_rss_mb: float
    output: str
    longest_batch: float | None


def command_run(*, args: list[str]) -> CommandRun:
    """Run a manage.py command in a process of its own: wall time and that process's peak RSS.

    The command runs in the production profile, as a cron job would: without the
    development profile's benchmark apps, whose imports would count toward its memory. The
    peak is the command's own high-water mark (VmHWM), read while it runs: wait4()'s
    ru_maxrss would also count this process's, which a vforked child carries through exec.
    """
    production = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50)}
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - this interpreter and this project's manage.py
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env={**os.environ, **production},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        peak_kib = 0
        while process.poll() is None:
            peak_kib = max(peak_kib, high_water_kib(process.pid))
            time.sleep(0.01)
        seconds = time.perf_counter() - started
        output.seek(0)
        text = output.read().decode(errors="replace")
    if process.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{text[-3000:]}")
    longest = re.search(r"longest batch ([0-9.]+) s", text)
    return CommandRun(
        seconds=seconds,
        peak_rss_mb=peak_kib / 1024,
        output=text,
        longest_batch=float(longest[1]) if longest else None,
    )


def high_water_kib(pid: int) -> int:
    """The process's peak resident set so far, in KiB; 0 once it has ended."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0


# --- Cost per request at a small and a large store --------------------------------------------


def request_costs_measure(*, count: int, say: Say, bars: bool) -> dict:
    """µs per resource request of every way, at SMALL_COUNT and at `count` stored of each.

    Each phase also times the floor, and each way's ratio is its cost over the floor at the
    large store against the same at the small one: a machine busier in one phase slows the
    floor too. The small store is measured before and after the large one (seeded afresh)
    and the large one compared with their mean, so that a drift during the run cancels out.
    """
    password = secrets.token_urlsafe(16)
    user = User.objects.create_user(
        username=f"bench-scale-{secrets.token_hex(4)}", password=password
    )
    phases = {}
    for phase, target in (("small", SMALL_COUNT), ("large", count), ("small_again", SMALL_COUNT)):
        # The large store grows from the small one; each small one is seeded afresh.
        if phase != "large":
            seed_clear()
            stored = dict.fromkeys(STORED_WAYS, 0)
        for way in STORED_WAYS:
            stored[way] += seeded(way=way, count=target - stored[way], bars=bars)["rows"]
        tables_maintain()  # so that autovacuum does not start in the middle of the timing
        gc.collect()  # nor a collection of the garbage seeding and logging in left behind
        # Logging in again for each phase: an access token lives five minutes, seeding longer.
        calls = {"floor": floor_call()}
        for way in WAYS:
            client, _ = logged_in(way, user, password)
            cookies, headers = carrying(way, client.credential, client.credential_name)
            calls[way.name] = Configured.request(
                way.path("resource"), cookies=cookies, headers=headers
            )
        cache_ways = [name for name in STORED_WAYS if SESSIONS_CACHE in WAYS_BY_NAME[name].stores]
        phases[phase] = {
            "stored": {
                "django_session_rows": Session.objects.count(),
                "cache_keys_seeded": sum(stored[name] for name in cache_ways),
                "outstanding_token_rows": OutstandingToken.objects.count(),
            },
            "us_per_request": round_robin_microseconds(
                calls, rounds=ROUNDS, per_batch=REQUESTS_PER_BATCH
            ),
        }
        costs = phases[phase]["us_per_request"].items()
        say(f"  {phase}: " + ", ".join(f"{way} {us} µs" for way, us in costs))
    floor = {phase: measured["us_per_request"]["floor"] for phase, measured in phases.items()}
    ways = {}
    for way in WAYS:
        small, large, again = (phases[phase]["us_per_request"][way.name] for phase in phases)
        raw_ratio = large / statistics.mean([small, again])
        ratio = (large / floor["large"]) / statistics.mean(
            [small / floor["small"], again / floor["small_again"]]
        )
        ways[way.name] = {
            "us_per_request_small": small,
            "us_per_request_large": large,
            "us_per_request_small_again": again,
            "raw_ratio": round(raw_ratio, 3),
            "ratio": round(ratio, 3),
            "ratio_target_met": ratio <= TARGET_COST_RATIO,
        }
    return {
        "stored_small": phases["small"]["stored"],
        "stored_large": phases["large"]["stored"],
        "rounds": ROUNDS,
        "requests_per_batch": REQUESTS_PER_BATCH,
        "floor_us_per_request": floor,
        "raw_ratio": "large / mean(small, small_again)",
        "ratio": "(large / floor) / mean(small / floor, small_again / floor), floors of each phase",
        "ways": ways,
    }
