"""Business logic of the token ways: issue, refresh and blacklist SimpleJWT tokens."""

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, Max, Min, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.models import User
from jwt_demo.tokens import (
    GENERATION_CLAIM,
    LOGIN_SESSION_CLAIM,
    WayRefreshToken,
    access_token_validated,
    refresh_token_validated,
    token_user,
)
from login_sessions.models import EndReason, LoginSession
from login_sessions.policy import is_managed
from login_sessions.selectors import entries_set
from login_sessions.services import (
    ended_detail,
    locked,
    login_session_check,
    login_session_end,
    login_session_record,
    login_session_renew,
    login_session_start,
    login_sessions_end,
)
from ways.batches import BATCH_SECONDS, BatchSizer, batch_pause
from ways.refusals import REASONS, CredentialRefused
from ways.registry import Way

JTI = api_settings.JTI_CLAIM
REUSE_DETAIL = (
    f"{REASONS['token_revoked']} It had been rotated already: presented again, it may be a "
    "stolen copy, so its whole login session has ended (refresh token reuse detection)."
)


@transaction.atomic
def token_login(
    *, request: HttpRequest, user: User, way: Way, replacing: str | None = None
) -> dict[str, str]:
    """A new refresh token of the way (recorded as outstanding) and its access token.

    In the managed profile the login is also a login session, which both tokens name; the
    login session of the access token the client presented (`replacing`), if it is good,
    ends, replaced.
    """
    login_session = None
    if is_managed():
        login_session_end(
            login_session_id=login_session_replaced(replacing, way=way), reason=EndReason.REPLACED
        )
        login_session = login_session_start(request=request, user=user, way=way)
    refresh = WayRefreshToken.for_user(user, way=way, login_session=login_session)
    if login_session is not None:
        login_session_record(login_session=login_session, refresh_jti=refresh[JTI])
    if api_settings.UPDATE_LAST_LOGIN:
        update_last_login(None, user)
    return token_pair(refresh)


def login_session_replaced(raw_token: str | None, *, way: Way) -> str | None:
    """The login session a good access token of the way names; None for none or a bad one."""
    if not raw_token:
        return None
    try:
        return access_token_validated(raw_token, way=way).get(LOGIN_SESSION_CLAIM)
    except CredentialRefused:
        return None  # expired, tampered or of another way: nothing to end


def token_pair(refresh: WayRefreshToken) -> dict[str, str]:
    access = refresh.access_token
    # An access token never outlives the refresh token it came from, nor so its login session.
    access["exp"] = min(access["exp"], refresh["exp"])
    return {"access": str(access), "refresh": str(refresh)}


def token_password_changed(
    *, user: User, way: Way, login_session_id: str | None = None
) -> dict[str, str]:
    """A new pair for the client that changed the password; every older token is refused.

    Every token carries a hash of the password hash (CHECK_REVOKE_TOKEN): those issued
    before the change, this client's too, name a password that no longer is. In the managed
    profile the login session goes on under a new generation, which refuses its older tokens.
    """
    if login_session_id is None:
        return token_pair(WayRefreshToken.for_user(user, way=way))
    with transaction.atomic():
        login_session = login_session_renew(login_session_id=login_session_id)
        superseded = login_session.refresh_jti
        refresh = WayRefreshToken.for_user(user, way=way, login_session=login_session)
        # A new family: none of the old generation's tokens yields this one's.
        login_session_record(
            login_session=login_session, refresh_jti=refresh[JTI], previous_refresh_jti=""
        )
        token_blacklist_many(outstanding_tokens=OutstandingToken.objects.filter(jti=superseded))
    return token_pair(refresh)


def token_refresh(*, refresh: str | None, way: Way) -> dict[str, str]:
    """Exchange a refresh token for a new pair; the old refresh token is blacklisted.

    In the managed profile the token's login session keeps the refresh family: see
    token_refresh_in_family.
    """
    if not refresh:  # absent, or emptied by a logout the client did not apply
        raise CredentialRefused("not_authenticated", "No refresh token was sent: log in again.")
    token = refresh_token_validated(refresh, way=way)
    if is_managed():
        return token_refresh_in_family(token=token, way=way)
    return token_rotate(token=token)


@transaction.atomic
def token_rotate(*, token: WayRefreshToken) -> dict[str, str]:
    """SimpleJWT's rotation of a refresh token, made safe against concurrent refreshes.

    Checking the blacklist and adding the token to it are one step: the token's outstanding
    row is locked first, so concurrent refreshes of one token queue behind each other and
    every one after the first finds it blacklisted. SimpleJWT's refresh checks, then
    blacklists with get_or_create, which lets every concurrent refresh through on
    PostgreSQL: a stolen refresh token replayed beside its owner's would start chains of its
    own. SQLite takes its one write lock when the transaction begins (config/databases.py),
    which serialises them too. One transaction also means that if recording the new token
    fails, the old one is not blacklisted either and the client can retry.
    """
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


def token_refresh_in_family(*, token: WayRefreshToken, way: Way) -> dict[str, str]:
    """Rotate a refresh token within its login session's family, detecting reuse.

    The family knows its current refresh token and the one it replaced (RFC 9700 4.14.2,
    as Auth0 and Okta rotate). The current one rotates. The replaced one, within
    JWT_REFRESH_REUSE_GRACE of its rotation, yields the same successor again: a client's own
    concurrent refreshes, which queue on the login session's row, then share one chain. Any
    other, or the replaced one after the grace, is reuse: the whole login session ends, its
    newest refresh token and every access token with it.
    """
    login_session_check(
        login_session_id=token.get(LOGIN_SESSION_CLAIM),
        generation=token.get(GENERATION_CLAIM),
        way=way,
    )
    outcome = family_refresh(token=token, way=way)
    # Raised only now: inside the transaction, the end of a reused family would roll back.
    if isinstance(outcome, CredentialRefused):
        raise outcome
    return outcome


@transaction.atomic
def family_refresh(*, token: WayRefreshToken, way: Way) -> dict[str, str] | CredentialRefused:
    login_session = locked(LoginSession.objects.filter(pk=token[LOGIN_SESSION_CLAIM])).first()
    if login_session is None or login_session.ended_at is not None:
        # Ended (or its user deleted) since the check, by another request.
        reason = login_session.end_reason if login_session else None
        return CredentialRefused("session_ended", ended_detail(reason))
    now = timezone.now()
    if token[JTI] == login_session.refresh_jti:
        outstanding = OutstandingToken.objects.get(jti=token[JTI])
        _, rotated_now = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not rotated_now:  # blacklisted by hand, in the admin's list of tokens
            return CredentialRefused("token_revoked")
        successor = WayRefreshToken.for_user(
            login_session.user, way=way, login_session=login_session
        )
        login_session.previous_refresh_jti = login_session.refresh_jti
        login_session.refresh_jti = successor[JTI]
        login_session.rotated_at = login_session.last_seen_at = now
        login_session.save(
            update_fields=["previous_refresh_jti", "refresh_jti", "rotated_at", "last_seen_at"]
        )
        entries_set([login_session])
        return token_pair(successor)
    grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE)
    if (
        token[JTI] == login_session.previous_refresh_jti
        and login_session.rotated_at is not None
        and now - login_session.rotated_at <= grace
    ):
        current = OutstandingToken.objects.get(jti=login_session.refresh_jti)
        return token_pair(WayRefreshToken(current.token))
    login_sessions_end(
        login_sessions=LoginSession.objects.filter(pk=login_session.pk),
        reason=EndReason.REFRESH_REUSED,
    )
    return CredentialRefused("token_revoked", REUSE_DETAIL)


def token_logout(*, refresh: str | None, way: Way) -> None:
    """Blacklist a refresh token of the way, so that it can no longer be refreshed.

    The access token cannot be taken back: the client drops it, and a copy lives until it
    expires (a password change ends it at once). In the managed profile the token's login
    session ends, and with it every token of the session, access tokens included.
    """
    if not refresh:
        raise CredentialRefused("not_authenticated", "No refresh token was sent.")
    token = refresh_token_validated(refresh, way=way)
    if not is_managed():
        token.blacklist()
        return
    login_session_id = token.get(LOGIN_SESSION_CLAIM)
    if not login_session_end(login_session_id=login_session_id, reason=EndReason.LOGOUT):
        # Already ended (or never recorded): nothing was logged out.
        login_session_check(
            login_session_id=login_session_id, generation=token.get(GENERATION_CLAIM), way=way
        )


def token_forget(*, login_sessions: list[LoginSession]) -> None:
    """Blacklist the refresh tokens of ended login sessions, as a logout would."""
    jtis = {jti for s in login_sessions for jti in (s.refresh_jti, s.previous_refresh_jti) if jti}
    if jtis:
        token_blacklist_many(outstanding_tokens=OutstandingToken.objects.filter(jti__in=jtis))


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
