"""What one request of each way costs, against the floor, its stock peer and its fast profile."""

import secrets
from collections.abc import Callable
from dataclasses import asdict
from http import HTTPStatus
from importlib import import_module

from allauth.headless.tokens.strategies.jwt import internal as allauth_jwt
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.http import JsonResponse
from django.test import RequestFactory, override_settings
from knox.models import AuthToken
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken
from user_sessions.backends.db import SessionStore as UserSessionStore

from accounts.models import User
from benchmarks.harness import (
    STOCK_MIDDLEWARE,
    Configured,
    counting,
    header_bytes,
    round_robin_microseconds,
    set_cookie_bytes,
)
from benchmarks.peers import PEER_LIBRARIES, USER_SNAPSHOT_KEY, user_fields
from login_sessions.policy import MANAGED
from sessions_demo.middleware import WaySessionMiddleware
from testing.clients import WayClient, request_host
from ways.registry import (
    SESSION_ROWS,
    SESSION_WAYS,
    SESSIONS_CACHE,
    TOKEN_ROWS,
    WAYS,
    WAYS_BY_NAME,
    Way,
)

STOCK = {"MIDDLEWARE": STOCK_MIDDLEWARE, "ROOT_URLCONF": "benchmarks.peers"}
SESSION_DATA_SIZES_KB = (0, 1, 3, 5)
# Sessions the measurements created outside any login, to delete when done: (store, key).
created_sessions: list[tuple[type, str]] = []


def floor_call() -> Configured:
    """The bare JSON view in Django's stock middleware: what Django itself costs a request."""
    return Configured.request("/floor/", **STOCK)


def carrying(way: Way, credential: str, cookie_name: str) -> tuple[dict, dict]:
    """The cookies and headers that carry a credential the way's transport carries it."""
    if way.transport == "header":
        return {}, {"Authorization": f"Bearer {credential}"}
    return {cookie_name: credential}, {}


def logged_in(way: Way, user: User, password: str) -> tuple[WayClient, object]:
    """A client of the way logged in through its real endpoint, and the login's answer."""
    client = WayClient(way, HTTP_HOST=request_host())
    if (response := client.login(user.username, password)).status_code != 200:
        raise RuntimeError(f"{way.name}: login answered {response.status_code}")
    return client, response


def primitive(way: Way, credential: str):
    """The one operation the way cannot do without, as a callable: what its store reads first."""
    if way.kind == "token":
        return "JWT decode and verify", lambda: AccessToken(credential)
    if way.self_contained:
        store = way.session_store
        return "signing.loads of the cookie", lambda: store(session_key=credential).load()
    if way.cache_key_prefix:
        cache, key = caches[settings.SESSION_CACHE_ALIAS], way.cache_key_prefix + credential
        return "sessions-cache GET", lambda: cache.get(key)
    return "session SELECT by primary key", lambda: Session.objects.filter(pk=credential).first()


def stored_bytes(way: Way, credential: str) -> int:
    """Bytes the server keeps for one login: session row, cache value, or refresh token."""
    total = 0
    if TOKEN_ROWS in way.stores:
        total += len(OutstandingToken.objects.order_by("-pk").values_list("token", flat=True)[0])
    if SESSION_ROWS in way.stores:
        total += len(Session.objects.get(pk=credential).session_data)
    if SESSIONS_CACHE in way.stores:
        cache = caches[settings.SESSION_CACHE_ALIAS]
        key = cache.make_key(way.cache_key_prefix + credential)
        if hasattr(cache, "client"):  # django-redis
            total += cache.client.get_client().strlen(key)
        else:
            total += len(cache._cache[key])  # local memory keeps the pickled value
    return total


def created_sessions_delete() -> None:
    while created_sessions:
        store, key = created_sessions.pop()
        store().delete(key)


def peer_settings(way: Way, *, fast: bool = False) -> dict:
    """The stock settings a way's peer (or its fast profile) runs under."""
    if way.kind == "token":
        return STOCK
    engine = way.session_engine
    if fast and way.stores == (SESSION_ROWS,):
        # A way that keeps database rows alone reads them through the cache when fast.
        cached = (SESSION_ROWS, SESSIONS_CACHE)
        engine = next(other for other in SESSION_WAYS if other.stores == cached).session_engine
    return {**STOCK, "SESSION_ENGINE": engine}


def peer_request(way: Way, peer: str, credential: str, *, fast: bool = False) -> Configured:
    """A GET of one of the way's peers in benchmarks.peers, carrying the credential."""
    cookie_name = (
        settings.SESSION_COOKIE_NAME if way.kind == "session" else settings.JWT_ACCESS_COOKIE_NAME
    )
    cookies, headers = carrying(way, credential, cookie_name)
    path, overrides = f"/{peer}/{way.name}/{way.kind}/", peer_settings(way, fast=fast)
    return Configured.request(path, cookies=cookies, headers=headers, **overrides)


def fast_request(way: Way, user: User) -> Configured:
    """A GET of the way's fast profile, with a session holding a user snapshot, or claims."""
    if way.kind == "token":
        token = AccessToken.for_user(user)
        token["username"], token["email"] = user.username, user.email
        return peer_request(way, "fast", str(token), fast=True)
    store = import_module(peer_settings(way, fast=True)["SESSION_ENGINE"]).SessionStore()
    store.update({USER_SNAPSHOT_KEY: user_fields(user), "way": way.name})
    store.save()
    if not way.self_contained:
        created_sessions.append((type(store), store.session_key))
    return peer_request(way, "fast", store.session_key, fast=True)


def resource_request(way: Way, client: WayClient, **overrides) -> Configured:
    """A GET of the way's resource carrying the client's credential, under the settings given."""
    cookies, headers = carrying(way, client.credential, client.credential_name)
    return Configured.request(way.path("resource"), cookies=cookies, headers=headers, **overrides)


def counted(configured: Configured) -> dict:
    """What one warm request does: queries, rows written, cache calls and writes."""
    with override_settings(DEBUG=False, **configured.overrides):
        configured.call()
        with counting() as request:
            configured.call()
    return request


def managed_login(way: Way, user: User, password: str) -> tuple[WayClient, dict]:
    """A login of the way in the managed profile, and what it wrote."""
    with override_settings(SESSION_POLICY=MANAGED), counting() as login:
        client, _ = logged_in(way, user, password)
    return client, login


def measure_way(way: Way, *, user: User, password: str, timing: dict) -> dict:
    """Everything about one way, in both session policies: costs, counts and bytes."""
    with counting() as login:
        client, response = logged_in(way, user, password)
    credential = client.credential
    cookies, headers = carrying(way, credential, client.credential_name)
    project = resource_request(way, client)
    request = counted(project)
    managed_client, managed_login_counts = managed_login(way, user, password)
    managed = resource_request(way, managed_client, SESSION_POLICY=MANAGED)
    managed_request = counted(managed)
    calls = {
        "floor": floor_call(),
        "project": project,
        "managed": managed,
        "peer": peer_request(way, "peer", credential),
        "fast": fast_request(way, user),
    }
    # The token ways' peer is a DRF view already; the session ways' gets a DRF twin, and the
    # plain view dispatched by DRF, which shows how much of DRF's cost is its dispatch alone.
    if way.kind == "session":
        calls["drf_peer"] = peer_request(way, "drf-peer", credential)
        calls["drf_dispatch"] = peer_request(way, "drf-dispatch", credential)
    # The primitive is timed in the same rounds as the requests it is compared with.
    primitive_name, primitive_call = primitive(way, credential)
    costs = round_robin_microseconds({**calls, "primitive": Configured(primitive_call)}, **timing)
    stored = stored_bytes(way, credential)
    with counting() as logout:
        client.logout()
    with override_settings(SESSION_POLICY=MANAGED), counting() as managed_logout:
        managed_client.logout()
    return {
        "way": way.name,
        "floor_us": costs["floor"],
        "project_us": costs["project"],
        "managed_us": costs["managed"],
        "managed": {
            "over_stock": round(costs["managed"] / costs["project"], 3),
            "queries_per_request": managed_request["queries"],
            "cache_calls_per_request": managed_request["cache_calls"],
            "writes_per_request": managed_request["rows_written"] + managed_request["cache_writes"],
            "rows_written_per_login": managed_login_counts["rows_written"],
            "cache_writes_per_login": managed_login_counts["cache_writes"],
            "rows_written_per_logout": managed_logout["rows_written"],
            "cache_writes_per_logout": managed_logout["cache_writes"],
        },
        "writes_per_request": request["rows_written"] + request["cache_writes"],
        "peer_us": costs["peer"],
        "drf_peer_us": costs.get("drf_peer", costs["peer"]),
        "drf_dispatch_us": costs.get("drf_dispatch"),
        "fast_us": costs["fast"],
        "primitive": primitive_name,
        "primitive_us": costs["primitive"],
        "queries_per_request": request["queries"],
        "cache_calls_per_request": request["cache_calls"],
        "credential_bytes_on_wire": header_bytes(cookies, headers),
        "set_cookie_bytes_at_login": set_cookie_bytes(
            response, [name for name in response.cookies if "csrftoken" not in name]
        ),
        "stored_bytes_per_session": stored,
        "rows_written_per_login": login["rows_written"],
        "cache_writes_per_login": login["cache_writes"],
        "rows_written_per_logout": logout["rows_written"],
        "cache_writes_per_logout": logout["cache_writes"],
        "fast_tradeoff": measure_fast_tradeoff(way, user),
    }


def measure_fast_tradeoff(way: Way, user: User) -> dict:
    """What the fast profile gives up: does a deactivated user keep access?"""
    fast = fast_request(way, user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    try:
        with override_settings(**fast.overrides):
            kept = fast.call() == 200
    finally:
        User.objects.filter(pk=user.pk).update(is_active=True)
    lifetime = (
        settings.SESSION_COOKIE_AGE
        if way.kind == "session"
        else int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    )
    return {"deactivated_user_keeps_access": kept, "until_seconds": lifetime if kept else 0}


def measure_growth(way: Way) -> list[dict]:
    """How the session way's credential and store grow as the session holds more data."""
    rows = []
    for kilobytes in SESSION_DATA_SIZES_KB:
        request = RequestFactory().get(way.path("resource"), HTTP_HOST=request_host())
        middleware = WaySessionMiddleware(lambda request: JsonResponse({}))
        middleware.process_request(request)
        # Text that does not compress, as real data mostly would not.
        request.session["data"] = secrets.token_urlsafe(kilobytes * 1024)[: kilobytes * 1024]
        response = middleware.process_response(request, JsonResponse({}))
        morsel = response.cookies.get(way.session_cookie_name)
        row = {
            "session_data_kb": kilobytes,
            "status": response.status_code,
            "cookie_bytes": len(way.session_cookie_name) + len(morsel.value) if morsel else 0,
        }
        if response.status_code == 200 and way.stores:
            row["stored_bytes"] = stored_bytes(way, morsel.value)
            way.session_store().delete(morsel.value)
        rows.append(row)
    return rows


# The allauth peer: its middleware, and its JWTs signed as this project's are (HS256 with
# SECRET_KEY) and checked against their session on every request (stateful validation).
ALLAUTH = {
    **STOCK,
    "MIDDLEWARE": [*STOCK_MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"],
    "HEADLESS_TOKEN_STRATEGY": "allauth.headless.tokens.strategies.jwt.JWTTokenStrategy",
    "HEADLESS_JWT_ALGORITHM": "HS256",
    "HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED": True,
}
# The django-user-sessions peer: its engine and its middleware in place of Django's.
USER_SESSIONS = {
    **STOCK,
    "MIDDLEWARE": [
        "user_sessions.middleware.SessionMiddleware"
        if name == "django.contrib.sessions.middleware.SessionMiddleware"
        else name
        for name in STOCK_MIDDLEWARE
    ],
    "SESSION_ENGINE": "user_sessions.backends.db",
}


def session_of(store: SessionBase, user: User) -> SessionBase:
    """The session a login through Django's login() leaves, saved in the given store."""
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store


def peer_library_logins(user: User) -> dict[str, tuple[Configured, Callable[[], object]]]:
    """Per peer library: a resource request carrying a fresh login's credential, and the
    documented way its logout ends that credential on the server."""
    knox_token, token = AuthToken.objects.create(user)
    with override_settings(**ALLAUTH):
        # What allauth's headless login leaves: a session, and an access token naming it.
        session = session_of(import_module(settings.SESSION_ENGINE).SessionStore(), user)
        access = allauth_jwt.create_access_token(user, session, claims={})
    with override_settings(**USER_SESSIONS):
        listed = session_of(UserSessionStore(ip="127.0.0.1", user_agent="compare"), user)
    return {
        "knox": (
            Configured.request("/knox/", headers={"Authorization": f"Token {token}"}, **STOCK),
            knox_token.delete,
        ),
        "allauth": (
            Configured.request(
                "/allauth/", headers={"Authorization": f"Bearer {access}"}, **ALLAUTH
            ),
            session.delete,
        ),
        "user-sessions": (
            Configured.request(
                "/user-sessions/",
                cookies={settings.SESSION_COOKIE_NAME: listed.session_key},
                **USER_SESSIONS,
            ),
            listed.delete,
        ),
    }


def refused(configured: Configured) -> bool:
    with override_settings(DEBUG=False, **configured.overrides):
        return configured.call() == HTTPStatus.UNAUTHORIZED


def measure_peers(*, user: User, password: str, timing: dict) -> dict:
    """The managed profile of every way against the peer libraries, timed in one round robin.

    Each peer is also ended as its documentation ends it, and its credential replayed: does
    the library refuse it at once? The managed ways are logged out and replayed alike.
    """
    managed = {way.name: managed_login(way, user, password)[0] for way in WAYS}
    libraries = peer_library_logins(user)
    calls = {
        "floor": floor_call(),
        **{
            name: resource_request(WAYS_BY_NAME[name], client, SESSION_POLICY=MANAGED)
            for name, client in managed.items()
        },
        **{name: configured for name, (configured, _) in libraries.items()},
    }
    costs = round_robin_microseconds(calls, **timing)
    counts = {name: counted(configured) for name, configured in calls.items()}
    revoked = {}
    for name, client in managed.items():
        with override_settings(SESSION_POLICY=MANAGED):
            client.logout()
        revoked[name] = refused(calls[name])
    for name, (configured, end) in libraries.items():
        end()
        revoked[name] = refused(configured)
    floor = costs.pop("floor")

    def entry(name: str) -> dict:
        return {
            "us_per_request": costs[name],
            "over_floor": round(costs[name] / floor, 3),
            "queries_per_request": counts[name]["queries"],
            "writes_per_request": counts[name]["rows_written"] + counts[name]["cache_writes"],
            "revoked_at_once": revoked[name],
        }

    return {
        "floor_us": floor,
        "managed": {
            name: {**entry(name), "refresh_tokens": bool(WAYS_BY_NAME[name].path("refresh"))}
            for name in managed
        },
        "libraries": [{**asdict(library), **entry(library.name)} for library in PEER_LIBRARIES],
        "managed_over_library": {
            name: {library: round(costs[name] / costs[library], 3) for library in libraries}
            for name in managed
        },
    }
