"""Business logic of the token ways: issue, refresh and blacklist SimpleJWT tokens."""

import time
from collections.abc import Callable
from datetime import datetime

from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, Max, Min, QuerySet
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import User
from jwt_demo.tokens import WayRefreshToken, refresh_token_validated, token_user
from ways.batches import BATCH_SECONDS, BatchSizer, batch_pause
from ways.refusals import CredentialRefused
from ways.registry import Way


@transaction.atomic
def token_login(*, user: User, way: Way) -> dict[str, str]:
    """A new refresh token of the way (recorded as outstanding) and its access token."""
    refresh = WayRefreshToken.for_user(user, way=way)
    if api_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    return token_pair(refresh)


def token_pair(refresh: WayRefreshToken) -> dict[str, str]:
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def token_password_changed(*, user: User, way: Way) -> dict[str, str]:
    """A new pair for the client that changed the password; every older token is refused.

    Every token carries a hash of the password hash (CHECK_REVOKE_TOKEN): those issued
    before the change, this client's too, name a password that no longer is.
    """
    return token_pair(WayRefreshToken.for_user(user, way=way))


@transaction.atomic
def token_refresh(*, refresh: str | None, way: Way) -> dict[str, str]:
    """Exchange a refresh token for a new pair; the old refresh token is blacklisted.

    Checking the blacklist and adding the token to it are one step: the token's outstanding
    row is locked first, so concurrent refreshes of one token queue behind each other and
    every one after the first finds it blacklisted. SimpleJWT's refresh checks, then
    blacklists with get_or_create, which lets every concurrent refresh through on
    PostgreSQL: a stolen refresh token replayed beside its owner's would start chains of its
    own. SQLite takes its one write lock when the transaction begins (config/databases.py),
    which serialises them too. One transaction also means that if recording the new token
    fails, the old one is not blacklisted either and the client can retry.
    """
    if not refresh:  # absent, or emptied by a logout the client did not apply
        raise CredentialRefused("not_authenticated", "No refresh token was sent: log in again.")
    token = refresh_token_validated(refresh, way=way)
    outstanding = (
        OutstandingToken.objects.select_for_update()
        .filter(jti=token[api_settings.JTI_CLAIM])
        .first()
    )
    if outstanding is None:
        # Every refresh token is recorded when issued: this one was purged or never issued.
        raise CredentialRefused("token_revoked")
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        raise CredentialRefused("token_revoked")
    token_user(token)
    try:
        # A blacklisting that takes no lock (logout, the admin) may have come first.
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as error:
        raise CredentialRefused("token_revoked") from error
    # SimpleJWT's rotation: the same claims under a new id, lifetime and issue time.
    token.set_jti()
    token.set_exp()
    token.set_iat()
    token.outstand()
    return token_pair(token)


def token_logout(*, refresh: str | None, way: Way) -> None:
    """Blacklist a refresh token of the way, so that it can no longer be refreshed.

    The access token cannot be taken back: the client drops it, and a copy lives until it
    expires (a password change ends it at once).
    """
    if not refresh:
        raise CredentialRefused("not_authenticated", "No refresh token was sent.")
    refresh_token_validated(refresh, way=way).blacklist()


def token_blacklist_many(*, outstanding_tokens) -> int:
    """Blacklist outstanding tokens; returns how many were not blacklisted before."""
    already = set(
        BlacklistedToken.objects.filter(token__in=outstanding_tokens).values_list(
            "token_id", flat=True
        )
    )
    new = [BlacklistedToken(token=token) for token in outstanding_tokens if token.pk not in already]
    BlacklistedToken.objects.bulk_create(new)
    return len(new)


def token_purge_expired(
    *,
    batch_size: int | None = None,
    batch_seconds: float = BATCH_SECONDS,
    now: datetime | None = None,
    pause: float | None = None,
    on_start: Callable[[int], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Delete expired outstanding tokens and their blacklist rows, a short transaction a batch.

    Returns how many outstanding and how many blacklisted tokens went. The tokens expired at
    `now` (by default the present) are SimpleJWT's flushexpiredtokens' choice: expires_at <= now.
    """
    expired = OutstandingToken.objects.filter(expires_at__lte=now or aware_utcnow())
    return token_delete_many(
        tokens=expired,
        batch_size=batch_size,
        batch_seconds=batch_seconds,
        pause=pause,
        on_start=on_start,
        on_batch=on_batch,
    )


def token_delete_many(
    *,
    tokens: QuerySet[OutstandingToken],
    batch_size: int | None = None,
    batch_seconds: float = BATCH_SECONDS,
    pause: float | None = None,
    on_start: Callable[[int], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Delete outstanding tokens with their blacklist rows, a range of ids at a time.

    QuerySet.delete() cannot do this at scale: BlacklistedToken's CASCADE is Django's, not
    the database's (the foreign key has no ON DELETE), so Django loads every token into
    memory first to find what to cascade to: about a gigabyte for a million tokens. Here each
    batch is a range of ids and two DELETE statements in one short transaction, blacklist
    rows first; logins and refreshes go on between batches, which are `pause` seconds apart
    (by default batch_pause(): SQLite's writers need it). A batch spans ids enough for about
    `batch_seconds` (see ways.batches), or `batch_size` ids when given. `on_start` hears how
    many tokens are to go, `on_batch` each batch's counts of outstanding and blacklisted
    tokens.
    """
    if pause is None:
        pause = batch_pause(using=tokens.db)
    # One scan for the ids' span and the count; ids then step along the primary key's index,
    # with no query to find where each batch ends.
    span = tokens.aggregate(first=Min("pk"), last=Max("pk"), count=Count("pk"))
    if on_start:
        on_start(span["count"])
    deleted_tokens = deleted_blacklisted = 0
    if span["first"] is None:
        return deleted_tokens, deleted_blacklisted
    sizer = BatchSizer(seconds=batch_seconds, rows=batch_size)
    after = span["first"] - 1
    while after < span["last"]:
        started = time.perf_counter()
        through = min(after + sizer.size, span["last"])
        blacklisted, gone = _token_window_delete(
            window=tokens.filter(pk__gt=after, pk__lte=through)
        )
        deleted_blacklisted += blacklisted
        deleted_tokens += gone
        # The rate in ids, not tokens: ids between expired ones cost the range's scan too.
        sizer.took(rows=through - after, seconds=time.perf_counter() - started)
        after = through
        if gone:
            if on_batch:
                on_batch(gone, blacklisted)
            if after < span["last"]:
                time.sleep(pause)
            continue
        # A gap in the ids (tokens deleted before, or not to be deleted): jump over it.
        following = tokens.filter(pk__gt=after).aggregate(first=Min("pk"))["first"]
        if following is None:
            break
        after = following - 1
    return deleted_tokens, deleted_blacklisted


def _token_window_delete(
    *, window: QuerySet[OutstandingToken], attempts: int = 3
) -> tuple[int, int]:
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=window.db):
                blacklisted, _ = BlacklistedToken.objects.filter(token__in=window).delete()
                return blacklisted, _outstanding_tokens_raw_delete(tokens=window)
        except IntegrityError:
            # A token of the window was blacklisted (by the admin) between the two statements:
            # the deferred foreign key check refused the commit. Nothing was deleted; again.
            if attempt == attempts:
                raise
    raise ValueError(f"attempts must be at least 1, not {attempts}")


def _outstanding_tokens_raw_delete(*, tokens: QuerySet[OutstandingToken]) -> int:
    """DELETE the tokens in one statement, without Django's in-memory cascade.

    Only for tokens whose blacklist rows are gone already, in the same transaction.
    """
    connection = connections[tokens.db]
    # order_by(): the model's default ordering (by user) has no place in an IN subquery.
    subquery, params = tokens.order_by().values("pk").query.sql_with_params()
    table = connection.ops.quote_name(OutstandingToken._meta.db_table)
    pk = connection.ops.quote_name(OutstandingToken._meta.pk.column)
    with connection.cursor() as cursor:
        # Names are the model's own, quoted; values travel as parameters.
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({subquery})", params)  # noqa: S608
        return cursor.rowcount
