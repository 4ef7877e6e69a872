"""Read-only queries of the session ways: sessions held in the cache, signed cookies, users."""

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from login_sessions.policy import is_managed
from login_sessions.selectors import ended_login_session_of_key
from ways.registry import SESSION_WAYS, Way

# The ways that keep sessions in the cache, by the prefix of their keys there. Longest first:
# "...sessions.cache" is itself a prefix of "...sessions.cached_db".
WAY_BY_CACHE_KEY_PREFIX = {
    way.cache_key_prefix: way.name
    for way in sorted(SESSION_WAYS, key=lambda way: -len(way.cache_key_prefix or ""))
    if way.cache_key_prefix
}

KEY_HINT_LENGTH = 8

# Stored sessions are named by Django with 32 of these characters (the table holds up to 40).
SESSION_KEY_CHARS = frozenset(VALID_KEY_CHARS)
SESSION_KEY_MAX_LENGTH = 40
# What Django's signed-cookie engine signs its sessions under (not exposed by the engine).
SIGNED_COOKIE_SALT = "django.contrib.sessions.backends.signed_cookies"


def is_session_key_shaped(value: str) -> bool:
    """Whether a cookie's value could name a stored session at all."""
    return len(value) <= SESSION_KEY_MAX_LENGTH and SESSION_KEY_CHARS.issuperset(value)


def session_refusal(*, session: SessionBase, value: str, way: Way) -> str | None:
    """Why the way's session cookie opens no session of the way (a refusal code), or None.

    Reads only what loading the session reads, unless the session is missing: then one more
    look tells an expired database session from one that never was.
    """
    data = dict(session.items())
    if not data:
        return missing_session_refusal(session=session, value=value, way=way)
    if data.get("way") != way.name:
        return "wrong_way"
    if SESSION_KEY not in data:
        return "session_not_found"
    return None


def missing_session_refusal(*, session: SessionBase, value: str, way: Way) -> str:
    if isinstance(session, SignedCookieStore):
        return signed_cookie_refusal(session=session, value=value)
    if not is_session_key_shaped(value):
        return "credential_invalid"
    # An ended login session's store forgot its session: the registry remembers the key.
    if is_managed() and ended_login_session_of_key(session_key=value, way_name=way.name):
        return "session_ended"
    # Django's database engines read only unexpired rows; a cache forgets an expired key.
    expired = Session.objects.filter(session_key=value, expire_date__lte=timezone.now())
    if isinstance(session, DatabaseStore) and expired.exists():
        return "credential_expired"
    return "session_not_found"


def signed_cookie_refusal(*, session: SignedCookieStore, value: str) -> str:
    """Why a signed-cookie session did not load: a bad signature, its age, or nothing in it.

    The engine's load() swallows every failure into an empty session; this asks again.
    """
    try:
        signing.loads(
            value,
            salt=SIGNED_COOKIE_SALT,
            serializer=session.serializer,
            max_age=session.get_session_cookie_age(),
        )
    except signing.SignatureExpired:
        return "credential_expired"
    except Exception:  # what load() swallows: a bad signature, base64, JSON or zlib
        return "credential_invalid"
    return "session_not_found"


def session_user_refusal(*, user_id: Any) -> str:
    """Why a session of the way that names a user did not authenticate them."""
    if user_id is None:
        return "session_not_found"
    user = users_by_id([user_id]).get(str(user_id))
    if user is None or not user.is_active:
        return "account_disabled"
    # The user is there and active: Django refused the session's hash of the password.
    return "password_changed"


def session_key_hint(session_key: str) -> str:
    """The first characters of a session key: enough to tell sessions apart, too few to replay."""
    return session_key[:KEY_HINT_LENGTH] + "…"


def session_way_label(data: dict) -> str:
    """The way that wrote a session, as session_login recorded it."""
    if not data:
        return "—"
    # Sessions written outside every way's prefix use the site-wide engine: the admin's.
    return str(data.get("way", "admin"))


@dataclass(frozen=True, kw_only=True)
class CachedSession:
    """One session of the cache or cached-db way, as the sessions cache holds it."""

    way: str
    key_hint: str
    ttl: int | None  # seconds until the cache drops it; None when it never expires
    data: dict
    user_id: str | None
    user: User | None


def sessions_cache_is_local_memory() -> bool:
    return isinstance(caches[settings.SESSION_CACHE_ALIAS], LocMemCache)


def cache_session_list(*, limit: int = 500) -> list[CachedSession] | None:
    """Live sessions of the cache and cached-db ways, or None if the cache cannot list keys."""
    cache = caches[settings.SESSION_CACHE_ALIAS]
    if hasattr(cache, "iter_keys"):
        entries = _redis_session_entries(cache)
    elif isinstance(cache, LocMemCache):
        entries = _local_memory_session_entries(cache)
    else:
        return None
    found = []
    for raw_key, data, ttl in entries:
        way, session_key = _way_and_session_key(raw_key)
        if way is None:
            continue
        data = data if isinstance(data, dict) else {"(not a session dict)": repr(data)}
        found.append((way, session_key, data, ttl))
        if len(found) >= limit:
            break
    users = users_by_id(data.get(SESSION_KEY) for _, _, data, _ in found)
    sessions = [
        CachedSession(
            # The site-wide engine (the admin's) may be a cache engine too; no way wrote those.
            way=way if "way" in data else f"{way} (admin)",
            key_hint=session_key_hint(session_key),
            ttl=ttl,
            data=data,
            user_id=data.get(SESSION_KEY),
            user=users.get(str(data.get(SESSION_KEY))),
        )
        for way, session_key, data, ttl in found
    ]
    # Longest-lived first within each way: usually the most recent logins.
    return sorted(sessions, key=lambda s: (s.way, -(s.ttl if s.ttl is not None else 1e12)))


def _way_and_session_key(raw_key: str) -> tuple[str | None, str]:
    for prefix, way in WAY_BY_CACHE_KEY_PREFIX.items():
        if raw_key.startswith(prefix):
            return way, raw_key.removeprefix(prefix)
    return None, raw_key


def _redis_session_entries(cache) -> Iterator[tuple[str, Any, int | None]]:
    seen = set()  # the "...cache*" pattern also matches every "...cached_db" key
    for prefix in WAY_BY_CACHE_KEY_PREFIX:
        for raw_key in cache.iter_keys(prefix + "*"):
            if raw_key in seen:
                continue
            seen.add(raw_key)
            data = cache.get(raw_key)
            if data is not None:  # expired or ended since the scan
                yield raw_key, data, cache.ttl(raw_key)


def _local_memory_session_entries(cache: LocMemCache) -> Iterator[tuple[str, Any, int | None]]:
    # LocMemCache has no key listing; its entries sit in _cache under made keys ("<prefix>:1:"
    # + key, with the default KEY_FUNCTION). Copy under its lock, read through get() outside
    # it: get() takes the lock itself and drops expired entries.
    made_prefix = cache.make_key("")
    with cache._lock:
        expiries = {
            made_key: cache._expire_info.get(made_key)
            for made_key in cache._cache
            if made_key.startswith(made_prefix)
        }
    now = time.time()
    for made_key, expiry in expiries.items():
        raw_key = made_key.removeprefix(made_prefix)
        if not raw_key.startswith(tuple(WAY_BY_CACHE_KEY_PREFIX)):
            continue
        data = cache.get(raw_key)
        if data is not None:
            yield raw_key, data, None if expiry is None else max(0, round(expiry - now))


def users_by_id(user_ids: Iterable[Any]) -> dict[str, User]:
    """The users with these ids, keyed as sessions store them (strings), in one query."""
    pks = {}
    for user_id in user_ids:
        if user_id is None:
            continue
        try:
            pks[str(user_id)] = User._meta.pk.to_python(user_id)
        except ValidationError:
            continue
    if not pks:
        return {}
    users = User.objects.in_bulk(set(pks.values()))
    return {user_id: users[pk] for user_id, pk in pks.items() if pk in users}


def signed_cookie_session_decode(*, value: str) -> dict:
    """The session data signed into a cookie-way cookie; {} for a bad signature or an old one."""
    # load() checks the signature and SESSION_COOKIE_AGE and swallows every failure.
    return SignedCookieStore(session_key=value).load()
