"""Business logic of the session ways."""

import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from login_sessions.models import EndReason, LoginSession
from login_sessions.policy import is_managed
from login_sessions.services import (
    login_session_end,
    login_session_record,
    login_session_renew,
    login_session_start,
)
from ways.batches import dated_rows_delete
from ways.registry import SESSION_ROWS, SESSION_WAYS, WAYS_BY_NAME, Way

# Where a session of the managed profile names its login session, and the generation of
# credentials it belongs to (login_sessions.models.LoginSession).
LOGIN_SESSION_KEY = "sid"
GENERATION_KEY = "gen"


def session_login(*, request: HttpRequest, user: User, way: Way) -> None:
    """Log the user in through the way's session, under a fresh session key.

    In the managed profile the login is also a login session, named in the session; one
    the same client had through this way ends, replaced (ASVS 7.2.4).
    """
    previous_key = request.session.session_key
    replaced = request.session.get(LOGIN_SESSION_KEY)
    # login() cycles the key of an anonymous session (fixation) and flushes another user's,
    # but keeps the key when the same user logs in again: cycle it then too, so that no
    # credential issued before this login is the one in use after it.
    login(request, user)
    if previous_key is not None and request.session.session_key == previous_key:
        request.session.cycle_key()
    request.session["way"] = way.name
    # A random id per login: the signed-cookie session has no key of its own, so without it
    # two logins in the same second would produce the very same cookie.
    request.session["login_id"] = secrets.token_hex(16)
    if not is_managed():
        return
    login_session_end(login_session_id=replaced, reason=EndReason.REPLACED)
    login_session = login_session_start(request=request, user=user, way=way)
    request.session[LOGIN_SESSION_KEY] = login_session.pk
    request.session[GENERATION_KEY] = login_session.generation
    # The cookie and the stored session last no longer than the login session may.
    request.session.set_expiry(settings.SESSION_ABSOLUTE_LIFETIME)
    login_session_record(login_session=login_session, session_key=stored_key(request, way))


def stored_key(request: HttpRequest, way: Way) -> str:
    """The key the way's store keeps this session under; none for the signed cookie."""
    return "" if way.self_contained else request.session.session_key or ""


def session_logout(*, request: HttpRequest) -> None:
    """End the request's session: server-side ways delete it, the cookie way forgets it.

    In the managed profile its login session ends too, and with it every copy of the cookie.
    """
    if is_managed():
        login_session_end(
            login_session_id=request.session.get(LOGIN_SESSION_KEY), reason=EndReason.LOGOUT
        )
    logout(request)


def session_password_changed(*, request: HttpRequest, user: User, way: Way) -> None:
    """After a password change: this session goes on under a new key, every other one ends.

    Django stores a hash of the password hash in each session and checks it on every
    request: the new password leaves every other session's hash stale. This one gets the
    new hash and, as at login, a new key, so a copy of its old cookie opens nothing. In the
    managed profile its login session moves on to a new generation of credentials, which
    refuses a copy of the old cookie even where the key does not change (the signed cookie).
    """
    update_session_auth_hash(request, user)
    if not is_managed():
        return
    login_session = login_session_renew(
        login_session_id=request.session[LOGIN_SESSION_KEY],
        session_key=stored_key(request, way),
    )
    request.session[GENERATION_KEY] = login_session.generation


def session_forget(*, login_sessions: list[LoginSession]) -> None:
    """Delete what the way's store keeps of ended login sessions: a row, a key, or both."""
    for login_session in login_sessions:
        way = WAYS_BY_NAME[login_session.way]
        if login_session.session_key and not way.self_contained:
            way.session_store().delete(login_session.session_key)


# The cache prefixes of the ways whose database rows have a copy in the sessions cache.
ROW_COPY_PREFIXES = tuple(
    way.cache_key_prefix
    for way in SESSION_WAYS
    if SESSION_ROWS in way.stores and way.cache_key_prefix
)


def session_end_many(*, session_keys: list[str]) -> int:
    """End database sessions by key, with their cached-db copies; returns how many rows went."""
    # A row may be the copy of a way that reads it through the cache (cached-db), or of one
    # that keeps the row alone, or the admin's: dropping a cache key that does not exist
    # costs nothing, leaving one behind would keep the session alive.
    caches[settings.SESSION_CACHE_ALIAS].delete_many(
        [prefix + key for prefix in ROW_COPY_PREFIXES for key in session_keys]
    )
    deleted, _ = Session.objects.filter(session_key__in=session_keys).delete()
    return deleted


def session_purge_expired(*, now: datetime | None = None, **batching) -> int:
    """Delete expired database sessions in batches, each its own statement; returns how many.

    Django's clearsessions deletes them in one statement, one transaction: on SQLite that
    holds the database's only write lock, and every login waits, for as long as it runs.
    The sessions expired at `now` (by default the present) are clearsessions' choice:
    expire_date < now. Their cached-db cache copies expire in the cache by themselves.
    `batching`: ways.batches.dated_rows_delete's keywords.
    """
    expired = Session.objects.filter(expire_date__lt=now or timezone.now())
    # Session has no relations and no delete signals: each batch is one DELETE, no rows loaded.
    return dated_rows_delete(rows=expired, date_field="expire_date", **batching)
