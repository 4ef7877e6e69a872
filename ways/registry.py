"""The registry of ways in: the one source of truth for URLs, pages, the listing and tests."""

from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, reverse

VERBS = ("login", "logout", "resource", "refresh")


@dataclass(frozen=True, kw_only=True)
class Way:
    """One way to reach the protected resource: how it authenticates and where it keeps state."""

    name: str
    kind: Literal["session", "token"]
    transport: Literal["cookie", "header"]
    summary: str
    # A template filled by describe_state(); {database} and {cache} name the live backends.
    state_template: str
    # Dotted path of the function that returns this way's URL patterns, given the way.
    urlpatterns: str

    @property
    def prefix(self) -> str:
        return f"/api/{self.name}/"

    @property
    def session_engine(self) -> str | None:
        return settings.SESSION_ENGINES[self.name] if self.kind == "session" else None

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
        summary="Django's signed-cookie session: the session data itself, signed, in the cookie.",
        state_template="Nowhere on the server: the signed session data is the cookie itself.",
        urlpatterns="sessions_demo.urls.way_urlpatterns",
    ),
    Way(
        name="db",
        kind="session",
        transport="cookie",
        summary="A random session id in a cookie; the session data in the database.",
        state_template="A row in the django_session table ({database}).",
        urlpatterns="sessions_demo.urls.way_urlpatterns",
    ),
    Way(
        name="cache",
        kind="session",
        transport="cookie",
        summary="A random session id in a cookie; the session data in the cache only.",
        state_template="A key in the sessions cache ({cache}).",
        urlpatterns="sessions_demo.urls.way_urlpatterns",
    ),
    Way(
        name="cached-db",
        kind="session",
        transport="cookie",
        summary="A random session id in a cookie; the data in the database, read via the cache.",
        state_template=(
            "A row in django_session ({database}) and a copy in the sessions cache ({cache})."
        ),
        urlpatterns="sessions_demo.urls.way_urlpatterns",
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
    ),
)

WAYS_BY_NAME: dict[str, Way] = {way.name: way for way in WAYS}
SESSION_WAYS: tuple[Way, ...] = tuple(way for way in WAYS if way.kind == "session")


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
