"""Business logic of the session ways."""

import secrets

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as CACHED_DB_KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches

from accounts.models import User
from accounts.ways import Way


def session_login(*, request, user: User, way: Way) -> None:
    """Log the user in through the way's session, under a fresh session key."""
    previous_key = request.session.session_key
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


def session_logout(*, request) -> None:
    """End the request's session: server-side ways delete it, the cookie way forgets it."""
    logout(request)


def session_end_many(*, session_keys: list[str]) -> int:
    """End database sessions by key, with their cached-db copies; returns how many rows went."""
    # A row may belong to the db way, the cached-db way or the admin; dropping a cache key
    # that does not exist costs nothing, leaving one behind would keep the session alive.
    caches[settings.SESSION_CACHE_ALIAS].delete_many(
        [CACHED_DB_KEY_PREFIX + key for key in session_keys]
    )
    deleted, _ = Session.objects.filter(session_key__in=session_keys).delete()
    return deleted
