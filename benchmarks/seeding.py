"""Seed many sessions and tokens fast and recognisably, to measure the ways in at scale."""

import secrets
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
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
from testing.servers import redis_unlink
from ways.registry import SESSION_ROWS, SESSION_WAYS, TOKEN_ROWS, WAYS_BY_NAME, seeding_ways

SEED_USERNAME = "seed-user"
# Seeded session keys start with these 8 of their 32 characters; Django's own keys are 32
# random [a-z0-9] characters, so a real key starts the same way once in 36**8 (2.8e12).
SEED_SESSION_KEY_PREFIX = "seedseed"
# Seeded tokens belong to the seed user; their jti says so too, for whoever reads the table.
SEED_JTI_PREFIX = "seed"
SEED_WAYS = tuple(way.name for way in seeding_ways())
BATCH_SIZE = 10_000
# No seeded row or key expires within this margin of the seeding time, so a measurement that
# starts a little later still finds exactly the expired rows that were seeded as expired.
EXPIRY_MARGIN = timedelta(hours=1)


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


def expiry_dates(*, count: int, expired: int, lifetime: timedelta) -> Iterator[datetime]:
    """Expiry dates oldest first, as a site issues them: `expired` in the past, then the rest.

    All distinct, spread over a lifetime either side of now: a batch cut at an expiry date
    holds exactly the rows asked for.
    """
    now = timezone.now()
    spread = max(lifetime - EXPIRY_MARGIN, EXPIRY_MARGIN)  # lifetimes shorter than the margin
    for index in range(expired):
        yield now - EXPIRY_MARGIN - spread * ((expired - index) / expired)
    for index in range(count - expired):
        yield now + EXPIRY_MARGIN + spread * (index / (count - expired))


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
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})",  # noqa: S608 (quoted names)
            [
                [f.get_db_prep_save(v, connection) for f, v in zip(columns, row, strict=True)]
                for row in rows
            ],
        )


def sessions_cache_redis_client():
    """The Redis client behind the sessions cache, or None when it is not django-redis."""
    client = getattr(caches[settings.SESSION_CACHE_ALIAS], "client", None)
    return client if hasattr(client, "get_client") else None


def session_seed(*, way: str, count: int, expired: int, progress) -> Seeded:
    """Sessions of a session way, as it keeps them: django_session rows, Redis keys or both.

    Keys in the cache are all live (Redis drops expired keys itself) and written only when
    the sessions cache is Redis.
    """
    prefix = WAYS_BY_NAME[way].cache_key_prefix
    rows = SESSION_ROWS in WAYS_BY_NAME[way].stores
    redis = sessions_cache_redis_client() if prefix else None
    if not rows and redis is None:
        skipped = "the sessions cache is not Redis: local memory lives and dies with a process"
        return Seeded(written=0, unit="keys", skipped=skipped)
    expired = expired if rows else 0
    user = seed_user_ensure()
    data = {  # what session_login() leaves in a session
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
        HASH_SESSION_KEY: user.get_session_auth_hash(),
        "way": way,
        "login_id": secrets.token_hex(16),
    }
    # Every row holds the same data, encoded once: signing a million copies would take longer
    # than writing them, and the row size is the same.
    encoded = DatabaseSessionStore().encode(data)
    json_data = redis.encode(data) if redis else None  # as the project's serializer writes it
    lifetime = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    dates = expiry_dates(count=count, expired=expired, lifetime=lifetime)
    for batch in batched(dates, BATCH_SIZE):
        sessions = [(SEED_SESSION_KEY_PREFIX + secrets.token_hex(12), date) for date in batch]
        if rows:
            with transaction.atomic():
                rows_insert(
                    model=Session,
                    fields=("session_key", "session_data", "expire_date"),
                    rows=[(key, encoded, date) for key, date in sessions],
                )
        if redis is not None:
            # One pipelined round trip; each key's TTL is what its expiry date leaves.
            pipeline, now = redis.get_client(write=True).pipeline(transaction=False), timezone.now()
            for key, date in sessions:
                if (ttl := int((date - now).total_seconds())) > 0:
                    pipeline.set(redis.make_key(prefix + key), json_data, ex=ttl)
            pipeline.execute()
        progress(len(batch))
    return Seeded(written=count, unit="rows" if rows else "keys", expired=expired)


def token_seed(
    *, way: str, count: int, expired: int, blacklisted_fraction: float, progress
) -> Seeded:
    """Outstanding refresh tokens of the seed user for the way, some expired, some blacklisted.

    `blacklisted_fraction` of the expired tokens and of the live ones are blacklisted, so a
    purge has blacklist rows to cascade to and others to leave alone.
    """
    user = seed_user_ensure()
    chosen = [round(part * blacklisted_fraction) for part in (expired, count - expired)]
    flags = [
        *every_nth(count=expired, chosen=chosen[0]),
        *every_nth(count=count - expired, chosen=chosen[1]),
    ]
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME
    dates = expiry_dates(count=count, expired=expired, lifetime=lifetime)
    for batch in batched(zip(dates, flags, strict=True), BATCH_SIZE):
        rows = [token_row(user=user, way=way, expires=date, lifetime=lifetime) for date, _ in batch]
        doomed = [row[1] for row, (_, flag) in zip(rows, batch, strict=True) if flag]
        with transaction.atomic():
            rows_insert(
                model=OutstandingToken,
                fields=("user", "jti", "token", "created_at", "expires_at"),
                rows=rows,
            )
            # COPY returns no ids: read back those of the batch's tokens to blacklist.
            ids = OutstandingToken.objects.filter(jti__in=doomed).values_list("pk", flat=True)
            blacklist = [(pk, timezone.now()) for pk in ids]
            rows_insert(model=BlacklistedToken, fields=("token", "blacklisted_at"), rows=blacklist)
        progress(len(batch))
    return Seeded(written=count, expired=expired, blacklisted=sum(chosen))


def token_row(*, user: User, way: str, expires: datetime, lifetime: timedelta) -> tuple:
    """An OutstandingToken row holding a real signed refresh token, as the way records it."""
    created = expires - lifetime
    jti = SEED_JTI_PREFIX + secrets.token_hex(14)
    claims = {
        api_settings.TOKEN_TYPE_CLAIM: "refresh",
        "exp": int(expires.timestamp()),
        "iat": int(created.timestamp()),
        api_settings.JTI_CLAIM: jti,
        api_settings.USER_ID_CLAIM: str(getattr(user, api_settings.USER_ID_FIELD)),
        api_settings.REVOKE_TOKEN_CLAIM: get_md5_hash_password(user.password),
        WAY_CLAIM: way,
    }
    return (user.pk, jti, token_backend.encode(claims), created, expires)


def seed(
    *, way: str, count: int, expired_fraction: float, blacklisted_fraction: float = 0.1, bar=False
) -> Seeded:
    """Seed one way's own kind of stored state, with a progress bar on a terminal if `bar`."""
    if way not in SEED_WAYS:
        raise ValueError(f"cannot seed {way!r}: choose one of {', '.join(SEED_WAYS)}")
    started = time.perf_counter()
    options = {"way": way, "count": count, "expired": round(count * expired_fraction)}
    # disable=None: a bar on a terminal, nothing in a log or a pipe.
    with tqdm(
        total=count,
        desc=f"seeding {way}",
        unit="rows",
        unit_scale=True,
        file=sys.stderr,
        disable=None if bar else True,
    ) as progress:
        options["progress"] = progress.update
        if TOKEN_ROWS in WAYS_BY_NAME[way].stores:
            seeded = token_seed(blacklisted_fraction=blacklisted_fraction, **options)
        else:
            seeded = session_seed(**options)
    return replace(seeded, seconds=time.perf_counter() - started)


def seed_clear() -> dict[str, int]:
    """Remove every seeded row and key, and the seed user; nothing else. Returns the counts."""
    # Seeded keys sort between the prefix and the prefix with its last character bumped: a
    # range the primary key's index answers, where LIKE would scan the table on SQLite.
    upper = SEED_SESSION_KEY_PREFIX[:-1] + chr(ord(SEED_SESSION_KEY_PREFIX[-1]) + 1)
    sessions, _ = Session.objects.filter(
        session_key__gte=SEED_SESSION_KEY_PREFIX, session_key__lt=upper
    ).delete()
    keys = 0
    if (redis := sessions_cache_redis_client()) is not None:
        for prefix in {way.cache_key_prefix for way in SESSION_WAYS if way.cache_key_prefix}:
            pattern = redis.make_pattern(prefix + SEED_SESSION_KEY_PREFIX + "*")
            keys += redis_unlink(redis.get_client(write=True), pattern, batch_size=BATCH_SIZE)
    tokens = blacklisted = 0
    user = User.objects.filter(username=SEED_USERNAME).first()
    if user is not None:
        # No pause between batches: the seed user logs nobody in.
        tokens, blacklisted = token_delete_many(
            tokens=OutstandingToken.objects.filter(user=user), batch_size=BATCH_SIZE, pause=0
        )
        user.delete()
    return {
        "sessions": sessions,
        "cache_keys": keys,
        "outstanding_tokens": tokens,
        "blacklisted_tokens": blacklisted,
        "users": int(user is not None),
    }
