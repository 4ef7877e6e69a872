"""Seed many sessions and tokens fast and recognisably, to measure the ways in at scale."""

import secrets
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import get_md5_hash_password
from tqdm import tqdm

from accounts.models import User
from jwt_demo.services import token_delete_many
from jwt_demo.tokens import WAY_CLAIM
from ways.registry import (
    SESSION_ROWS,
    SESSION_WAYS,
    TOKEN_ROWS,
    WAYS_BY_NAME,
    seeding_ways,
)

SEED_USERNAME = "seed-user"
# Seeded session keys start with these 8 of their 32 characters; Django's own keys are 32
# random [a-z0-9] characters, so a real key starts the same way once in 36**8 (2.8e12).
SEED_SESSION_KEY_PREFIX = "seedseed"
# Seeded tokens belong to the seed user; their jti says so too, for whoever reads the table.
SEED_JTI_PREFIX = "seed"
# One way per kind of stored state (the token ways share theirs): the ways seeding fills.
SEED_WAYS = tuple(way.name for way in seeding_ways())
BATCH_SIZE = 10_000
# No seeded row or key expires within this margin of the seeding time, so a measurement that
# starts a little later still finds exactly the expired rows that were seeded as expired.
EXPIRY_MARGIN = timedelta(hours=1)

Progress = Callable[[int], object]


@dataclass(frozen=True, kw_only=True)
class Seeded:
    """What one seeding wrote for one way."""

    written: int
    unit: str = "rows"  # or "keys", in the sessions cache
    expired: int = 0
    blacklisted: int | None = None  # for tokens
    skipped: str = ""  # why nothing was written, if nothing was
    seconds: float = 0.0


def seed_user_ensure() -> User:
    """The user every seeded session and token belongs to; it cannot log in with a password."""
    user, created = User.objects.get_or_create(username=SEED_USERNAME)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def expired_count(*, count: int, expired_fraction: float) -> int:
    """How many of `count` seeded rows are expired: the same number every time, exactly."""
    if not 0 <= expired_fraction <= 1:
        raise ValueError(f"expired_fraction must be between 0 and 1, not {expired_fraction}")
    return round(count * expired_fraction)


def expiry_dates(
    *, now: datetime, count: int, expired: int, lifetime: timedelta
) -> Iterator[datetime]:
    """Expiry dates oldest first, as a site issues them: `expired` in the past, then the rest.

    They spread over one lifetime each side of now and are all distinct, so that batches cut
    at an expiry date hold exactly as many rows as asked for.
    """
    spread = max(lifetime - EXPIRY_MARGIN, EXPIRY_MARGIN)  # lifetimes shorter than the margin
    for index in range(expired):
        yield now - EXPIRY_MARGIN - spread * ((expired - index) / expired)
    live = count - expired
    for index in range(live):
        yield now + EXPIRY_MARGIN + spread * (index / live)


def every_nth(*, count: int, chosen: int) -> Iterator[bool]:
    """`count` flags, exactly `chosen` of them true, spread evenly."""
    for index in range(count):
        yield (index + 1) * chosen // count != index * chosen // count


def batched(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def rows_insert(*, model, fields: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Insert rows of plain values in one round trip: COPY on PostgreSQL, else executemany.

    bulk_create() builds a model instance per row and, on SQLite, sends at most 999
    parameters per INSERT (333 sessions); at a million rows that is most of the time spent.
    """
    columns = [model._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column.column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(columns))
        prepared = [
            tuple(
                column.get_db_prep_save(value, connection)
                for column, value in zip(columns, row, strict=True)
            )
            for row in rows
        ]
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})",  # noqa: S608 (quoted names)
            prepared,
        )


def seeded_session_data(*, user: User, way: str) -> dict:
    """What session_login() leaves in a session, for the seed user."""
    return {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
        "way": way,
        "login_id": secrets.token_hex(16),
    }


def sessions_cache_redis_client():
    """The Redis client behind the sessions cache, or None when it is not django-redis."""
    cache = caches[settings.SESSION_CACHE_ALIAS]
    client = getattr(cache, "client", None)
    return client if hasattr(client, "get_client") else None


def session_seed(
    *,
    way: str,
    count: int,
    expired_fraction: float,
    batch_size: int,
    progress: Progress,
) -> Seeded:
    """Sessions of a session way, as it keeps them: django_session rows, Redis keys or both.

    `expired_fraction` of the rows are expired. Keys in the cache are all live (Redis drops
    expired keys itself) and written only when the sessions cache is Redis.
    """
    registered = WAYS_BY_NAME[way]
    rows = SESSION_ROWS in registered.stores
    redis = sessions_cache_redis_client() if registered.cache_key_prefix else None
    if not rows and redis is None:
        return Seeded(
            written=0,
            unit="keys",
            skipped="the sessions cache is not Redis: local memory lives and dies with a process",
        )
    expired = expired_count(count=count, expired_fraction=expired_fraction) if rows else 0
    now = timezone.now()
    data = seeded_session_data(user=seed_user_ensure(), way=way)
    # Every row holds the same data, encoded once: signing a million copies would take longer
    # than writing them, and the row size is the same.
    encoded = DatabaseSessionStore().encode(data)
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    dates = expiry_dates(now=now, count=count, expired=expired, lifetime=lifetime)
    for batch in batched(dates, batch_size):
        sessions = [(SEED_SESSION_KEY_PREFIX + secrets.token_hex(12), date) for date in batch]
        if rows:
            with transaction.atomic():
                rows_insert(
                    model=Session,
                    fields=("session_key", "session_data", "expire_date"),
                    rows=[(key, encoded, date) for key, date in sessions],
                )
        if redis is not None:
            live = [(registered.cache_key_prefix + key, d) for key, d in sessions if d > now]
            cache_entries_set(client=redis, entries=live, value=data, now=now)
        progress(len(batch))
    return Seeded(written=count, unit="rows" if rows else "keys", expired=expired)


def cache_entries_set(*, client, entries: list[tuple[str, datetime]], value, now: datetime) -> None:
    """SET each key with the TTL its expiry date leaves, in one pipelined round trip."""
    encoded = client.encode(value)  # JSON, as the project's django-redis serializer writes it
    pipeline = client.get_client(write=True).pipeline(transaction=False)
    for key, expire_date in entries:
        pipeline.set(client.make_key(key), encoded, ex=int((expire_date - now).total_seconds()))
    pipeline.execute()


def token_seed(
    *,
    way: str,
    count: int,
    expired_fraction: float,
    blacklisted_fraction: float,
    batch_size: int,
    progress: Progress,
) -> Seeded:
    """Outstanding refresh tokens of the seed user for the way, some expired, some blacklisted.

    `blacklisted_fraction` of the expired tokens and of the live ones are blacklisted, so a
    purge has blacklist rows to cascade to and others to leave alone.
    """
    user = seed_user_ensure()
    expired = expired_count(count=count, expired_fraction=expired_fraction)
    blacklisted_expired = expired_count(count=expired, expired_fraction=blacklisted_fraction)
    blacklisted_live = expired_count(count=count - expired, expired_fraction=blacklisted_fraction)
    flags = [
        *every_nth(count=expired, chosen=blacklisted_expired),
        *every_nth(count=count - expired, chosen=blacklisted_live),
    ]
    now = timezone.now()
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME
    dates = expiry_dates(now=now, count=count, expired=expired, lifetime=lifetime)
    for batch in batched(zip(dates, flags, strict=True), batch_size):
        rows = [
            token_row(user=user, way=way, expires_at=expires_at, lifetime=lifetime)
            for expires_at, _ in batch
        ]
        doomed = [row[1] for row, (_, flag) in zip(rows, batch, strict=True) if flag]
        with transaction.atomic():
            rows_insert(
                model=OutstandingToken,
                fields=("user", "jti", "token", "created_at", "expires_at"),
                rows=rows,
            )
            # COPY returns no ids: read back those of the batch's tokens to blacklist.
            ids = OutstandingToken.objects.filter(jti__in=doomed).values_list("pk", flat=True)
            rows_insert(
                model=BlacklistedToken,
                fields=("token", "blacklisted_at"),
                rows=[(pk, now) for pk in ids],
            )
        progress(len(batch))
    return Seeded(
        written=count, expired=expired, blacklisted=blacklisted_expired + blacklisted_live
    )


def token_row(*, user: User, way: str, expires_at: datetime, lifetime: timedelta) -> tuple:
    """An OutstandingToken row holding a real signed refresh token, as the way records it."""
    created_at = expires_at - lifetime
    jti = SEED_JTI_PREFIX + secrets.token_hex(14)
    token = token_backend.encode(
        {
            api_settings.TOKEN_TYPE_CLAIM: "refresh",
            "exp": int(expires_at.timestamp()),
            "iat": int(created_at.timestamp()),
            api_settings.JTI_CLAIM: jti,
            api_settings.USER_ID_CLAIM: str(getattr(user, api_settings.USER_ID_FIELD)),
            api_settings.REVOKE_TOKEN_CLAIM: get_md5_hash_password(user.password),
            WAY_CLAIM: way,
        }
    )
    return (user.pk, jti, token, created_at, expires_at)


def seed(
    *,
    way: str,
    count: int,
    expired_fraction: float,
    blacklisted_fraction: float = 0.1,
    batch_size: int = BATCH_SIZE,
    bar: bool = False,
) -> Seeded:
    """Seed one way's own kind of stored state, with a progress bar on a terminal if `bar`."""
    if way not in SEED_WAYS:
        raise ValueError(f"cannot seed {way!r}: choose one of {', '.join(SEED_WAYS)}")
    started = time.perf_counter()
    # disable=None: a bar on a terminal, nothing in a log or a pipe.
    with tqdm(
        total=count,
        desc=f"seeding {way}",
        unit="rows",
        unit_scale=True,
        file=sys.stderr,
        disable=None if bar else True,
    ) as progress:
        options = {"way": way, "count": count, "batch_size": batch_size}
        options |= {"expired_fraction": expired_fraction, "progress": progress.update}
        if TOKEN_ROWS in WAYS_BY_NAME[way].stores:
            seeded = token_seed(blacklisted_fraction=blacklisted_fraction, **options)
        else:
            seeded = session_seed(**options)
    return replace(seeded, seconds=time.perf_counter() - started)


def seed_clear(*, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Remove every seeded row and key, and the seed user; nothing else. Returns the counts."""
    # Seeded keys sort between the prefix and the prefix with its last character bumped: a
    # range the primary key's index answers, where LIKE would scan the table on SQLite.
    upper = SEED_SESSION_KEY_PREFIX[:-1] + chr(ord(SEED_SESSION_KEY_PREFIX[-1]) + 1)
    sessions, _ = Session.objects.filter(
        session_key__gte=SEED_SESSION_KEY_PREFIX, session_key__lt=upper
    ).delete()
    keys = 0
    redis = sessions_cache_redis_client()
    if redis is not None:
        for prefix in {way.cache_key_prefix for way in SESSION_WAYS if way.cache_key_prefix}:
            keys += cache_keys_delete(
                client=redis, pattern=prefix + SEED_SESSION_KEY_PREFIX + "*", batch_size=batch_size
            )
    tokens = blacklisted = users = 0
    user = User.objects.filter(username=SEED_USERNAME).first()
    if user is not None:
        # No pause between batches: the seed user logs nobody in.
        tokens, blacklisted = token_delete_many(
            tokens=OutstandingToken.objects.filter(user=user), batch_size=batch_size, pause=0
        )
        user.delete()
        users = 1
    return {
        "sessions": sessions,
        "cache_keys": keys,
        "outstanding_tokens": tokens,
        "blacklisted_tokens": blacklisted,
        "users": users,
    }


def cache_keys_delete(*, client, pattern: str, batch_size: int) -> int:
    """UNLINK the keys matching a pattern under the cache's prefix, a batch per round trip.

    django-redis's delete_pattern() queues every key in one pipeline: a million at once.
    """
    redis = client.get_client(write=True)
    deleted = 0
    keys = redis.scan_iter(match=client.make_pattern(pattern), count=batch_size)
    for batch in batched(keys, batch_size):
        deleted += redis.unlink(*batch)
    return deleted
