"""Seeding at scale and the batched cleanup commands: what they write and delete, exactly."""

import os
import re
import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

import jwt_demo.services
import ways.batches
from accounts.models import User
from benchmarks.scale import (
    CLEANUPS,
    LoginWrites,
    command_run,
    high_water_kib,
    one_transaction_delete,
)
from benchmarks.seeding import (
    SEED_SESSION_KEY_PREFIX,
    SEED_USERNAME,
    seed,
    seed_clear,
    sessions_cache_redis_client,
)
from jwt_demo.services import token_purge_expired
from login_sessions.models import LoginSession
from login_sessions.services import login_sessions_purge_expired
from sessions_demo.services import session_purge_expired
from ways.batches import (
    FIRST_BATCH_ROWS,
    SQLITE_BATCH_PAUSE_SECONDS,
    BatchProgress,
    BatchSizer,
    batch_pause,
)

from helpers import WayClient, way_named


@pytest.fixture(autouse=True)
def seeded_keys_removed(db):
    """Seeded Redis keys outlive a test's rolled-back transaction: remove them after each."""
    yield
    seed_clear()


def seed_user() -> User:
    return User.objects.get(username=SEED_USERNAME)


def statements(queries, verb: str) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].lstrip().upper().startswith(verb)]


def logged_in(way_name: str) -> WayClient:
    client = WayClient(way_named(way_name))
    assert client.login().status_code == HTTPStatus.OK
    return client


# --- Seeding --------------------------------------------------------------------------------


def test_seeding_sessions_writes_exactly_the_rows_and_the_expired_share(db):
    outcome = seed(way="db", count=500, expired_fraction=0.3)

    now = timezone.now()
    sessions = Session.objects.all()
    assert (outcome.written, outcome.expired) == (500, 150)
    assert sessions.count() == 500
    assert sessions.filter(expire_date__lt=now).count() == 150
    assert all(
        key.startswith(SEED_SESSION_KEY_PREFIX) for key in sessions.values_list("pk", flat=True)
    )
    assert {len(key) for key in sessions.values_list("pk", flat=True)} == {32}


def test_seeded_sessions_are_real_sessions_of_the_seed_user(db, client):
    seed(way="db", count=10, expired_fraction=0.5)
    user = seed_user()
    live = Session.objects.filter(expire_date__gt=timezone.now()).first()

    data = SessionStore().decode(live.session_data)
    client.cookies[way_named("db").session_cookie_name] = live.session_key
    response = client.get(way_named("db").path("resource"))

    assert (data[SESSION_KEY], data[HASH_SESSION_KEY]) == (
        str(user.pk),
        user.get_session_auth_hash(),
    )
    assert response.status_code == HTTPStatus.OK
    assert response.json()["user"]["username"] == SEED_USERNAME
    assert not user.has_usable_password()


def test_seeding_tokens_writes_outstanding_and_blacklisted_rows_exactly(db):
    outcome = seed(way="jwt", count=500, expired_fraction=0.5, blacklisted_fraction=0.1)

    now = aware_utcnow()
    tokens = OutstandingToken.objects.filter(user=seed_user())
    blacklisted = BlacklistedToken.objects.all()
    assert (outcome.written, outcome.expired, outcome.blacklisted) == (500, 250, 50)
    assert tokens.count() == 500
    assert tokens.filter(expires_at__lte=now).count() == 250
    assert blacklisted.filter(token__expires_at__lte=now).count() == 25
    assert blacklisted.filter(token__expires_at__gt=now).count() == 25


def test_seeded_live_tokens_refresh_and_blacklisted_ones_do_not(db):
    seed(way="jwt", count=20, expired_fraction=0.5, blacklisted_fraction=0.5)
    live = OutstandingToken.objects.filter(expires_at__gt=aware_utcnow())
    usable = live.filter(blacklistedtoken__isnull=True).first()
    revoked = live.filter(blacklistedtoken__isnull=False).first()
    client = WayClient(way_named("jwt"))

    assert RefreshToken(usable.token)["jti"] == usable.jti
    client.tokens = {"access": "", "refresh": usable.token}
    assert client.refresh().status_code == HTTPStatus.OK
    client.tokens = {"access": "", "refresh": revoked.token}
    assert client.refresh().status_code == HTTPStatus.UNAUTHORIZED


def test_seeding_the_cache_way_needs_redis(db, settings):
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }

    outcome = seed(way="cache", count=10, expired_fraction=0)

    assert outcome.written == 0
    assert "not Redis" in outcome.skipped


def test_seeding_the_cache_ways_writes_live_json_keys_to_redis(db, redis_sessions):
    seed(way="cache", count=50, expired_fraction=0.5)
    seed(way="cached-db", count=50, expired_fraction=0.2)

    cache_keys = redis_sessions.keys(
        "django.contrib.sessions.cache" + SEED_SESSION_KEY_PREFIX + "*"
    )
    copies = redis_sessions.keys("django.contrib.sessions.cached_db*")
    # The cache way's keys are all live (Redis keeps no expired key); cached-db copies only
    # the 40 rows that have not expired, as its engine would.
    assert (len(cache_keys), len(copies), Session.objects.count()) == (50, 40, 50)
    assert all(redis_sessions.ttl(key) > 0 for key in cache_keys + copies)
    assert redis_sessions.get(cache_keys[0])[SESSION_KEY] == str(seed_user().pk)
    assert redis_sessions.get(copies[0])["way"] == "cached-db"


# --- Clearing what was seeded ---------------------------------------------------------------


def test_clear_removes_only_seeded_rows(user):
    db_client, jwt_client = logged_in("db"), logged_in("jwt")
    stray = SessionStore()
    stray.create()  # someone else's session, whatever its key
    for way in ("db", "cached-db", "jwt"):
        seed(way=way, count=30, expired_fraction=0.5)

    removed = seed_clear()

    assert removed == {
        "sessions": 60,
        # cached-db's copies of its 15 live sessions, when the sessions cache is Redis.
        "cache_keys": 15 if sessions_cache_redis_client() else 0,
        "outstanding_tokens": 30,
        "blacklisted_tokens": 4,  # a tenth of 15 expired and of 15 live, rounded: 2 + 2
        "users": 1,
    }
    assert Session.objects.count() == 2  # alice's db session and the stray one
    assert OutstandingToken.objects.count() == 1
    assert not User.objects.filter(username=SEED_USERNAME).exists()
    assert db_client.resource().status_code == HTTPStatus.OK
    assert jwt_client.refresh().status_code == HTTPStatus.OK


def test_clear_removes_only_seeded_redis_keys(user, redis_sessions):
    clients = [logged_in("cache"), logged_in("cached-db")]
    seed(way="cache", count=20, expired_fraction=0)
    seed(way="cached-db", count=20, expired_fraction=0.5)

    removed = seed_clear()

    assert (removed["cache_keys"], removed["sessions"]) == (30, 20)
    assert len(redis_sessions.keys("*")) == 2  # alice's two sessions
    assert [client.resource().status_code for client in clients] == [HTTPStatus.OK] * 2


def test_seed_command_reports_and_clears(db, capsys):
    call_command("seed_sessions", "--count=20", "--way=jwt", "--expired-fraction=0.25")
    call_command("seed_sessions", "--clear")

    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"jwt: 20 rows \(5 expired, 2 blacklisted\) in \d+\.\d s\.", lines[0])
    assert lines[1] == (
        "Removed 0 sessions, 0 cache keys, 20 outstanding tokens, 2 blacklisted tokens "
        "and the seed user."
    )


# --- Purging expired sessions ---------------------------------------------------------------


def test_session_purge_deletes_exactly_the_expired_rows_in_batches(user):
    clients = [logged_in("db"), logged_in("cached-db")]
    seed(way="db", count=500, expired_fraction=0.5)
    stray = SessionStore()
    stray.set_expiry(-60)  # an expired session that nobody seeded
    stray.create()
    batches = []

    with CaptureQueriesContext(connection) as queries:
        deleted = session_purge_expired(batch_size=100, on_batch=batches.append)

    assert deleted == 251
    assert batches == [100, 100, 51]
    assert len(statements(queries, "DELETE")) == 3
    assert not Session.objects.filter(expire_date__lt=timezone.now()).exists()
    assert Session.objects.count() == 250 + 2
    assert [client.resource().status_code for client in clients] == [HTTPStatus.OK] * 2


@pytest.mark.policy("managed")
def test_login_sessions_go_at_their_absolute_limit_and_not_before(user, settings, time_machine):
    settings.SESSION_ABSOLUTE_LIFETIME = 600
    ended, live = logged_in("jwt"), logged_in("cookie")
    assert ended.logout().status_code == HTTPStatus.OK
    time_machine.move_to(timezone.now() + timedelta(seconds=300), tick=False)
    later = logged_in("db")

    kept_while_a_copy_may_be_replayed = login_sessions_purge_expired()
    time_machine.move_to(timezone.now() + timedelta(seconds=301), tick=False)
    purged = login_sessions_purge_expired(batch_size=1)

    assert (kept_while_a_copy_may_be_replayed, purged) == (0, 2)
    assert LoginSession.objects.get().way == "db"
    assert later.resource().status_code == HTTPStatus.OK
    assert live.resource().status_code == HTTPStatus.UNAUTHORIZED


def test_session_purge_is_cut_at_the_given_time(db):
    seed(way="db", count=100, expired_fraction=0.5)
    cut = Session.objects.order_by("expire_date")[20].expire_date

    assert session_purge_expired(now=cut) == 20
    assert Session.objects.count() == 80


def test_purge_expired_sessions_command_reports(user, capsys):
    client = logged_in("db")
    seed(way="db", count=40, expired_fraction=0.5)

    call_command("purge_expired_sessions", "--batch-size=8")

    out = capsys.readouterr().out
    assert re.fullmatch(
        r"Deleted 20 expired sessions and 0 expired login sessions in \d+\.\d\d s "
        r"\(longest batch \d+\.\d{3} s\)\.\n",
        out,
    )
    assert Session.objects.count() == 21
    assert client.resource().status_code == HTTPStatus.OK


@pytest.mark.parametrize("command", ["purge_expired_sessions", "purge_expired_tokens"])
@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("--batch-size=0", "--batch-size must be at least 1, not 0."),
        ("--batch-size=-5", "--batch-size must be at least 1, not -5."),
        ("--batch-seconds=0", "--batch-seconds must be more than 0, not 0.0."),
        ("--batch-seconds=nan", "--batch-seconds must be more than 0, not nan."),
    ],
)
def test_purge_commands_refuse_batches_that_cannot_run(db, command, argument, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command(command, argument)


def pauses_recorded(monkeypatch, *modules) -> list[float]:
    """The purges' pauses between batches, recorded instead of slept."""
    pauses = []
    for module in modules:
        monkeypatch.setattr(module.time, "sleep", pauses.append)
    return pauses


def test_purges_pause_between_batches_on_sqlite_only(db, monkeypatch):
    pauses = pauses_recorded(monkeypatch, ways.batches, jwt_demo.services)
    seed(way="db", count=500, expired_fraction=0.5)
    seed(way="jwt", count=500, expired_fraction=0.5)

    session_purge_expired(batch_size=100)
    token_purge_expired(batch_size=100)

    # Three batches each, SQLite's pause between them; other databases lock rows, not
    # the database, and do not pause.
    expected = SQLITE_BATCH_PAUSE_SECONDS if connection.vendor == "sqlite" else 0.0
    assert batch_pause() == expected
    assert pauses == [expected] * 4


def test_purges_pause_as_long_as_they_are_told(db, monkeypatch):
    pauses = pauses_recorded(monkeypatch, ways.batches)
    seed(way="db", count=40, expired_fraction=0.5)

    assert session_purge_expired(batch_size=5, pause=0.5) == 20
    assert pauses == [0.5] * 4


def test_batch_progress_leaves_the_pause_out_of_the_longest_batch(monkeypatch):
    clock = iter([0.0, 0.2, 0.2 + 1.0 + 0.3, 1.5 + 1.0 + 0.1, 3.0])
    monkeypatch.setattr("ways.batches.time.perf_counter", lambda: next(clock))

    with BatchProgress(verbosity=0, pause=1.0) as progress:
        for rows in (10, 10, 10):
            progress.batch_done(rows)

    assert progress.longest == pytest.approx(0.3)
    assert progress.elapsed == pytest.approx(3.0)


def test_batch_progress_leaves_the_count_out_of_the_first_batch(monkeypatch):
    # Created at 0, counted until 2.0, first batch done at 2.25.
    clock = iter([0.0, 2.0, 2.25, 2.5])
    monkeypatch.setattr("ways.batches.time.perf_counter", lambda: next(clock))

    with BatchProgress(verbosity=0) as progress:
        progress.start(10)
        progress.batch_done(10)

    assert progress.longest == pytest.approx(0.25)
    assert progress.elapsed == pytest.approx(2.5)


# --- Purging expired tokens -----------------------------------------------------------------


def test_token_purge_deletes_expired_tokens_and_their_blacklist_rows_in_batches(user):
    clients = [logged_in("jwt"), logged_in("jwt-cookie")]
    seed(way="jwt", count=500, expired_fraction=0.5, blacklisted_fraction=0.1)
    live_blacklisted = set(
        BlacklistedToken.objects.filter(token__expires_at__gt=aware_utcnow()).values_list(
            "pk", flat=True
        )
    )
    batches = []

    with CaptureQueriesContext(connection) as queries:
        deleted = token_purge_expired(
            batch_size=100, on_batch=lambda tokens, blacklisted: batches.append(tokens)
        )

    assert deleted == (250, 25)
    assert batches == [100, 100, 50]
    # Per batch: the blacklist rows, then the tokens; one transaction each.
    assert len(statements(queries, "DELETE")) == 6
    assert not OutstandingToken.objects.filter(expires_at__lte=aware_utcnow()).exists()
    assert OutstandingToken.objects.count() == 250 + 2
    assert set(BlacklistedToken.objects.values_list("pk", flat=True)) == live_blacklisted
    assert [client.resource().status_code for client in clients] == [HTTPStatus.OK] * 2
    assert [client.refresh().status_code for client in clients] == [HTTPStatus.OK] * 2


def test_token_purge_loads_no_token_into_memory(db):
    seed(way="jwt", count=50, expired_fraction=0.5)

    with CaptureQueriesContext(connection) as queries:
        token_purge_expired(batch_size=10)

    # SimpleJWT's flushexpiredtokens selects every expired row, token text included.
    assert not [sql for sql in statements(queries, "SELECT") if '"token"' in sql]


def test_token_purge_jumps_over_gaps_in_the_ids(db):
    seed(way="jwt", count=60, expired_fraction=1, blacklisted_fraction=0)
    ids = sorted(OutstandingToken.objects.values_list("pk", flat=True))
    # Only the first ten and the last ten are expired; forty ids between are not.
    OutstandingToken.objects.filter(pk__in=ids[10:50]).update(
        expires_at=aware_utcnow() + timedelta(days=1)
    )
    batches = []

    deleted = token_purge_expired(batch_size=10, on_batch=lambda tokens, _: batches.append(tokens))

    assert deleted == (20, 0)
    assert batches == [10, 10]
    assert OutstandingToken.objects.count() == 40


def test_purge_expired_tokens_command_reports(user, capsys):
    client = logged_in("jwt")
    seed(way="jwt", count=40, expired_fraction=0.5, blacklisted_fraction=0.1)

    call_command("purge_expired_tokens", "--batch-size=8")

    out = capsys.readouterr().out
    assert re.fullmatch(
        r"Deleted 20 expired outstanding tokens and 2 blacklist rows in \d+\.\d\d s "
        r"\(longest batch \d+\.\d{3} s\)\.\n",
        out,
    )
    assert OutstandingToken.objects.count() == 21
    assert client.refresh().status_code == HTTPStatus.OK


# --- The bench's measuring ------------------------------------------------------------------


def test_command_run_reads_the_command_process_own_peak_memory():
    ballast = b"x" * (400 * 2**20)  # this process now holds 400 MiB more than any command

    run = command_run(args=["check"])

    # wait4()'s ru_maxrss would report at least this process's peak: a vforked child carries
    # it through exec. The command's own high-water mark is a Django process's: tens of MiB.
    assert high_water_kib(os.getpid()) / 1024 > 400 > run.peak_rss_mb > 20
    assert run.output.startswith("System check identified no issues")
    assert run.longest_batch is None
    del ballast


@pytest.mark.parametrize(
    ("cleanup", "deletes", "left"),
    [
        (CLEANUPS[0], 1, {"sessions": 250, "blacklisted": 0}),
        # The tokens' blacklist rows, then the tokens: two statements, all rows at once.
        (CLEANUPS[1], 2, {"sessions": 0, "blacklisted": 25}),
    ],
    ids=lambda value: getattr(value, "name", None),
)
def test_one_transaction_delete_takes_every_expired_row_in_one_statement_each(
    db, cleanup, deletes, left
):
    seed(way=cleanup.way, count=500, expired_fraction=0.5, blacklisted_fraction=0.1)

    with CaptureQueriesContext(connection) as queries:
        timed = one_transaction_delete(cleanup)

    assert len(statements(queries, "DELETE")) == deletes
    # Unrounded, so that even a few rows deleted in a millisecond give a ratio.
    assert timed["seconds"] > timed["commit_seconds"] > 0
    assert {
        "sessions": Session.objects.count(),
        "blacklisted": BlacklistedToken.objects.count(),
    } == left
    assert not Session.objects.filter(expire_date__lt=timezone.now()).exists()
    assert OutstandingToken.objects.count() == (250 if cleanup.name == "tokens" else 0)
    assert not OutstandingToken.objects.filter(expires_at__lte=aware_utcnow()).exists()


@pytest.mark.parametrize("cleanup", CLEANUPS, ids=lambda cleanup: cleanup.name)
def test_login_writes_are_timed_while_a_command_runs_and_leave_no_row(transactional_db, cleanup):
    seed(way=cleanup.way, count=10, expired_fraction=0.5)
    before = {"sessions": Session.objects.count(), "tokens": OutstandingToken.objects.count()}

    with LoginWrites(cleanup=cleanup) as logins:
        during = wait_for(lambda: len(logins.written) >= 3)
        stored = Session if cleanup.name == "sessions" else OutstandingToken
        written_while_running = stored.objects.filter(pk__in=logins.written).count()

    summary = logins.summary()
    assert during
    assert written_while_running >= 3
    assert summary["writes"] == len(logins.written)
    assert summary["failed"] == 0
    # Every write timed; the summary rounds to the millisecond, which a write into an
    # in-memory SQLite database can take less than.
    assert all(wait > 0 for wait in logins.waits)
    assert summary["longest_wait_seconds"] == round(max(logins.waits), 3)
    assert {"sessions": Session.objects.count(), "tokens": OutstandingToken.objects.count()} == (
        before
    )


def test_login_writes_report_a_refused_login(transactional_db, monkeypatch):
    cleanup = CLEANUPS[0]
    with LoginWrites(cleanup=cleanup) as logins:
        monkeypatch.setattr(
            logins, "write", lambda: (_ for _ in ()).throw(OperationalError("database is locked"))
        )
        assert wait_for(lambda: len(logins.failures) >= 2)

    summary = logins.summary()
    assert summary["failed"] == len(logins.failures) >= 2
    assert summary["failure"] == "database is locked"


def wait_for(condition, *, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_batches_grow_toward_the_time_budget_and_shrink_past_it():
    sizer = BatchSizer(seconds=2.0)
    sizes = [sizer.size]
    for rows_per_second in (100_000, 100_000, 100_000, 10_000):
        sizer.took(rows=sizer.size, seconds=sizer.size / rows_per_second)
        sizes.append(sizer.size)

    # At most twice the last batch while it fits; back to 2 s worth once a batch overran.
    first = FIRST_BATCH_ROWS
    assert sizes == [first, 2 * first, 4 * first, 8 * first, 20_000]


def test_a_short_last_batch_or_a_fixed_size_leaves_the_size_as_it_is():
    sizer = BatchSizer(seconds=0.2)
    sizer.took(rows=10, seconds=1.0)  # fewer rows than asked for: the last batch
    fixed = BatchSizer(seconds=0.2, rows=500)
    fixed.took(rows=500, seconds=0.0001)

    assert (sizer.size, fixed.size) == (FIRST_BATCH_ROWS, 500)


def test_purges_size_their_batches_by_time(db, monkeypatch):
    monkeypatch.setattr("ways.batches.FIRST_BATCH_ROWS", 1_000)
    seed(way="db", count=3_000, expired_fraction=1.0)
    seed(way="jwt", count=3_000, expired_fraction=1.0)
    batches, token_batches = [], []

    session_purge_expired(batch_seconds=60, pause=0, on_batch=batches.append)
    token_purge_expired(batch_seconds=60, pause=0, on_batch=lambda t, _: token_batches.append(t))

    # A minute is far more than any batch takes: each grows twofold until all are gone.
    assert batches == [1_000, 2_000]
    assert token_batches == [1_000, 2_000]
