"""The registry of ways in: the one source of truth for URLs, pages, the listing and tests.

What differs between the ways is declared here, or derived from what is declared (a session
way's store, from its engine), and nowhere else compared to a way's name: adding a way is one
entry here plus the code that is really new. settings.py reads the engines from here too.
"""

from dataclasses import dataclass
from functools import cached_property
from importlib import import_module
from typing import Literal

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

VERBS = ("login", "logout", "resource", "refresh", "password", "sessions", "sessions_end")

# Where a way keeps state on the server, as the benchmarks seed and measure it.
SESSION_ROWS = "django_session rows"
SESSIONS_CACHE = "the sessions cache"
TOKEN_ROWS = "outstanding and blacklisted tokens"  # noqa: S105 - a description


@dataclass(frozen=True, kw_only=True)
class Way:
    """One way to reach the protected resource: how it authenticates and where it keeps state."""

    name: str
    # "plain": neither a session nor a token, a value the server believes as it is.
    kind: Literal["session", "token", "plain"]
    transport: Literal["cookie", "header"]
    summary: str
    # A template filled by describe_state(); {database} and {cache} name the live backends.
    state_template: str
    # Dotted path of the function that returns this way's URL patterns, given the way.
    urlpatterns: str
    # Dotted path of the DRF authentication class that reads the way's credential, given
    # the way.
    authentication: str
    # Dotted path of the function that makes the way forget what it stored for ended login
    # sessions of the managed profile, given them (login_sessions=[...]); None for a way
    # that has no login sessions (a demonstration).
    credentials_forget: str | None = None
    # The Django session engine a session way keeps its sessions with.
    session_engine: str | None = None
    # Said wherever the way appears, for a way that must never be deployed.
    warning: str = ""

    @property
    def prefix(self) -> str:
        return f"/api/{self.name}/"

    @cached_property
    def authentication_class(self) -> type:
        return import_string(self.authentication)

    @cached_property
    def session_store(self) -> type | None:
        """The engine's SessionStore class, for a session way."""
        if self.session_engine is None:
            return None
        return import_module(self.session_engine).SessionStore

    @cached_property
    def self_contained(self) -> bool:
        """Whether the credential carries its own state (signed), or names state on the server.

        A token's access token is self-contained whatever its refresh token is; a session is
        self-contained when its engine signs the session into the cookie.
        """
        if self.kind == "session":
            return issubclass(self.session_store, SignedCookieStore)
        return True

    @cached_property
    def cache_key_prefix(self) -> str | None:
        """The prefix of a session way's keys in the sessions cache, if it keeps them there."""
        return getattr(self.session_store, "cache_key_prefix", None)

    @cached_property
    def stores(self) -> tuple[str, ...]:
        """Where the server keeps this way's state: SESSION_ROWS, SESSIONS_CACHE, TOKEN_ROWS."""
        if self.kind == "token":
            return (TOKEN_ROWS,)
        if self.kind == "plain":
            return ()
        rows = (SESSION_ROWS,) if issubclass(self.session_store, DatabaseStore) else ()
        return rows + ((SESSIONS_CACHE,) if self.cache_key_prefix else ())

    @property
    def session_cookie_name(self) -> str | None:
        if self.kind != "session":
            return None
        return f"{settings.COOKIE_NAME_PREFIX}{self.name}-sessionid"

    def path(self, verb: str) -> str | None:
        """Root-relative path of this way's endpoint for a verb, or None if it has none."""
        try:
            return reverse(f"{self.name}:{verb}")
        except NoReverseMatch:
            return None

    def describe_state(self) -> str:
        return self.state_template.format(
            database=database_description(), cache=cache_description()
        )

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "transport": self.transport,
            **{verb: self.path(verb) for verb in VERBS},
            "state": self.describe_state(),
        }


WAYS: tuple[Way, ...] = (
    Way(
        name="cookie",
        kind="session",
        transport="cookie",
        # Django's signed-cookie engine, refusing what no longer fits in the cookie (507).
        session_engine="sessions_demo.backends.signed_cookies",
        summary="Django's signed-cookie session: the session data itself, signed, in the cookie.",
        state_template="Nowhere on the server: the signed session data is the cookie itself.",
        urlpatterns="sessions_demo.urls.way_urlpatterns",
        authentication="sessions_demo.authentication.WaySessionAuthentication",
        credentials_forget="sessions_demo.services.session_forget",
    ),
    Way(
        name="db",
        kind="session",
        transport="cookie",
        session_engine="django.contrib.sessions.backends.db",
        summary="A random session id in a cookie; the session data in the database.",
        state_template="A row in the django_session table ({database}).",
        urlpatterns="sessions_demo.urls.way_urlpatterns",
        authentication="sessions_demo.authentication.WaySessionAuthentication",
        credentials_forget="sessions_demo.services.session_forget",
    ),
    Way(
        name="cache",
        kind="session",
        transport="cookie",
        # Django's cache engine, but a Redis outage is a 503, not a silent logout.
        session_engine="sessions_demo.backends.cache",
        summary="A random session id in a cookie; the session data in the cache only.",
        state_template="A key in the sessions cache ({cache}).",
        urlpatterns="sessions_demo.urls.way_urlpatterns",
        authentication="sessions_demo.authentication.WaySessionAuthentication",
        credentials_forget="sessions_demo.services.session_forget",
    ),
    Way(
        name="cached-db",
        kind="session",
        transport="cookie",
        session_engine="django.contrib.sessions.backends.cached_db",
        summary="A random session id in a cookie; the data in the database, read via the cache.",
        state_template=(
            "A row in django_session ({database}) and a copy in the sessions cache ({cache})."
        ),
        urlpatterns="sessions_demo.urls.way_urlpatterns",
        authentication="sessions_demo.authentication.WaySessionAuthentication",
        credentials_forget="sessions_demo.services.session_forget",
    ),
    Way(
        name="jwt",
        kind="token",
        transport="header",
        summary="SimpleJWT access and refresh tokens; the client sends 'Authorization: Bearer'.",
        state_template=(
            "None for access tokens; refresh tokens as outstanding and blacklisted rows "
            "({database})."
        ),
        urlpatterns="jwt_demo.urls.way_urlpatterns",
        authentication="jwt_demo.authentication.WayJWTAuthentication",
        credentials_forget="jwt_demo.services.token_forget",
    ),
    Way(
        name="jwt-cookie",
        kind="token",
        transport="cookie",
        summary="The same SimpleJWT tokens, carried in HttpOnly cookies with CSRF enforced.",
        state_template=(
            "None for access tokens; refresh tokens as outstanding and blacklisted rows "
            "({database}); the browser holds both tokens in HttpOnly cookies."
        ),
        urlpatterns="jwt_demo.urls.way_urlpatterns",
        authentication="jwt_demo.authentication.JWTCookieAuthentication",
        credentials_forget="jwt_demo.services.token_forget",
    ),
)

# Insecure on purpose: the article's first warning, a cookie that holds the user's id as it
# is, and a server that believes it. Served only where PLAIN_COOKIE_WAY is on (with DEBUG;
# never in production: ways.checks), it appears in the playground, its diagram and the
# security matrix, and stays out of WAYS: of the contract every way worth deploying meets,
# of the benchmarks and of /api/ways/.
PLAIN_COOKIE = Way(
    name="plain-cookie",
    kind="plain",
    transport="cookie",
    summary="The user's id, as it is, in a cookie: user_id=1. Anyone can rewrite it.",
    state_template="Nowhere: the browser says who the user is, and the server believes it.",
    urlpatterns="sessions_demo.plain_cookie.way_urlpatterns",
    authentication="sessions_demo.plain_cookie.PlainCookieAuthentication",
    warning=(
        "Insecure on purpose, never deploy it: change the number and you are another user. "
        "Served with DEBUG only."
    ),
)
DEMONSTRATION_WAYS: tuple[Way, ...] = (PLAIN_COOKIE,)

WAYS_BY_NAME: dict[str, Way] = {way.name: way for way in WAYS}
SESSION_WAYS: tuple[Way, ...] = tuple(way for way in WAYS if way.kind == "session")
TOKEN_WAYS: tuple[Way, ...] = tuple(way for way in WAYS if way.kind == "token")


def ways_where(**attributes) -> tuple[Way, ...]:
    """The ways whose attributes have these values, in the registry's order."""
    return tuple(
        way
        for way in WAYS
        if all(getattr(way, name) == value for name, value in attributes.items())
    )


def plain_cookie_name() -> str:
    """The plain-cookie way's cookie: the user's id, named as the article names it."""
    return f"{settings.COOKIE_NAME_PREFIX}user_id"


def served_ways() -> tuple[Way, ...]:
    """Every way this server answers on: the demonstrations too, where they are on."""
    return WAYS + (DEMONSTRATION_WAYS if settings.PLAIN_COOKIE_WAY else ())


def signed_cookie_way() -> Way:
    """The session way whose cookie holds the session itself, signed."""
    return next(way for way in SESSION_WAYS if way.self_contained)


def seeding_ways() -> tuple[Way, ...]:
    """One way per distinct kind of stored state: what seeding and the benchmarks fill.

    The token ways share their tables: the first of them stands for both.
    """
    chosen: dict[tuple[str, ...], Way] = {}
    for way in WAYS:
        if way.stores:
            chosen.setdefault(way.stores, way)
    return tuple(chosen.values())


def way_for_path(path: str) -> Way | None:
    """The way whose URL prefix the path falls under, if any."""
    return next((way for way in WAYS if path.startswith(way.prefix)), None)


def database_description() -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    return names.get(connection.vendor, connection.vendor)


def cache_description() -> str:
    if settings.REDIS_URL:
        return "Redis through django-redis, values stored as JSON"
    return (
        "Django's local-memory cache: only this process can see it and a restart empties it; "
        "set REDIS_URL to use Redis"
    )
