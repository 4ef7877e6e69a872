"""Reading login sessions: the live check every managed request makes, through the cache.

A managed request reads one cache entry: the login session's state and a snapshot of its
user (id, username, email, active flag). The user query every stock way pays is replaced,
not added to. The database stays the truth; the cache is kept true by two rules:

- a request that misses fills the entry with `add`, which never overwrites one;
- every change to a login session (an end, a renewal, a touch, its user saved) is made with
  the row locked, and sets the entry while it holds the lock.

So a fill that read the row before a change cannot overwrite what the change wrote, and two
changes cannot interleave. An ended login session's entry is a tombstone, final like the end.
"""

import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import ua_parser
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone

from accounts.models import User
from login_sessions.models import LoginSession

CACHE_KEY_PREFIX = "login-session-"
# How long an entry lives in a cache every process shares (Redis): changes set it at once,
# so the time only bounds the memory of sessions nobody uses any more.
SHARED_CACHE_SECONDS = 300
# A process's local memory is its own: a change made by another process reaches it only
# when its entry expires. One second is the promise "ended means ended within a second".
LOCAL_CACHE_SECONDS = 1


def login_session_cache():
    return caches["default"]


def cache_seconds() -> int:
    cache = login_session_cache()
    return LOCAL_CACHE_SECONDS if isinstance(cache, LocMemCache) else SHARED_CACHE_SECONDS


def cache_key(login_session_id: str) -> str:
    return CACHE_KEY_PREFIX + login_session_id


def password_digest(user: User) -> str:
    """What a login session is bound to: a digest of the user's password hash.

    A password change makes it differ for every login session not bound again (see
    login_sessions.services.login_sessions_rebind), as Django's session hash does.
    """
    return hashlib.sha256(user.password.encode()).hexdigest()


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True, kw_only=True)
class UserSnapshot:
    """What a managed request needs of its user, kept in the login session's cache entry."""

    id: int
    username: str
    email: str
    is_active: bool
    password_digest: str

    @classmethod
    def of(cls, user: User) -> "UserSnapshot":
        return cls(
            id=user.pk,
            username=user.username,
            email=user.email,
            is_active=user.is_active,
            password_digest=password_digest(user),
        )

    def as_user(self) -> User:
        """A User instance as a query would have loaded it, with the snapshot's fields."""
        user = User(pk=self.id, username=self.username, email=self.email, is_active=self.is_active)
        user._state.adding = False
        user._state.db = "default"
        return user


@dataclass(frozen=True, kw_only=True)
class LiveLoginSession:
    """A login session as its cache entry holds it; times are seconds since the epoch."""

    id: str
    way: str
    generation: int
    created_at: float
    expires_at: float
    last_seen_at: float
    password_digest: str
    user: UserSnapshot

    @classmethod
    def of(cls, login_session: LoginSession) -> "LiveLoginSession":
        return cls(
            id=login_session.pk,
            way=login_session.way,
            generation=login_session.generation,
            created_at=epoch(login_session.created_at),
            expires_at=epoch(login_session.expires_at),
            last_seen_at=epoch(login_session.last_seen_at),
            password_digest=login_session.password_digest,
            user=UserSnapshot.of(login_session.user),
        )

    @classmethod
    def from_entry(cls, entry: dict) -> "LiveLoginSession":
        fields = {name: value for name, value in entry.items() if name != "state"}
        return cls(**{**fields, "user": UserSnapshot(**entry["user"])})

    def as_entry(self) -> dict:
        return {"state": "live", **asdict(self)}

    @property
    def idle_expires_at(self) -> float:
        return self.last_seen_at + settings.SESSION_IDLE_TIMEOUT


def ended_entry(reason: str) -> dict:
    return {"state": "ended", "reason": reason}


def login_session_entry(login_session_id: str) -> dict | None:
    """The login session's cache entry, filled from the database on a miss; None if unknown."""
    cache = login_session_cache()
    key = cache_key(login_session_id)
    entry = cache.get(key)
    if entry is not None:
        return entry
    login_session = LoginSession.objects.select_related("user").filter(pk=login_session_id).first()
    if login_session is None:
        return None
    entry = entry_of(login_session)
    cache.add(key, entry, cache_seconds())
    return entry


def entry_of(login_session: LoginSession) -> dict:
    if login_session.ended_at is not None:
        return ended_entry(login_session.end_reason)
    return LiveLoginSession.of(login_session).as_entry()


def entries_set(login_sessions: list[LoginSession]) -> None:
    """Set the entries of login sessions whose rows the caller has locked and changed."""
    login_session_cache().set_many(
        {cache_key(session.pk): entry_of(session) for session in login_sessions},
        cache_seconds(),
    )


def current_login_session_id(request) -> str | None:
    """The login session a managed request was authenticated by (its auth), else None."""
    auth = getattr(request, "auth", None)
    return auth.id if isinstance(auth, LiveLoginSession) else None


def login_sessions_listed(*, user_id: int, current_id: str | None) -> list[dict]:
    """Every live login session of a user, through every way, the newest first (ASVS 7.5.2)."""
    return [
        {
            "id": login_session.pk,
            "way": login_session.way,
            "created_at": login_session.created_at,
            "last_seen_at": login_session.last_seen_at,
            "expires_at": login_session.expires_at,
            "idle_expires_at": login_session.idle_expires_at,
            "ip": login_session.ip,
            "user_agent": user_agent_described(login_session.user_agent),
            "current": login_session.pk == current_id,
        }
        for login_session in LoginSession.objects.live().filter(user_id=user_id)
    ]


def ended_login_session_of_key(*, session_key: str, way_name: str) -> LoginSession | None:
    """The ended login session whose way stored its session under this key, if any."""
    return (
        LoginSession.objects.filter(session_key=session_key, way=way_name)
        .exclude(ended_at=None)
        .first()
    )


def user_agent_described(user_agent: str) -> str:
    """A user agent as a person reads it: "Firefox 128 on Windows", or what it says."""
    if not user_agent:
        return "unknown"
    parsed = ua_parser.parse(user_agent)
    if parsed.user_agent is None:
        return user_agent[:60]
    agent = parsed.user_agent
    browser = " ".join(part for part in (agent.family, agent.major) if part)
    return f"{browser} on {parsed.os.family}" if parsed.os else browser


def now_epoch() -> float:
    return epoch(timezone.now())
