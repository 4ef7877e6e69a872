"""What one request of each way costs, against the floor, its stock peer and its fast profile."""

import secrets
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.http import JsonResponse
from django.test import RequestFactory, override_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from benchmarks.harness import (
    STOCK_MIDDLEWARE,
    Call,
    Configured,
    cookie_header_bytes,
    counting,
    environ_for,
    median_microseconds,
    round_robin_microseconds,
    set_cookie_bytes,
)
from benchmarks.peers import USER_SNAPSHOT_KEY
from sessions_demo.middleware import WaySessionMiddleware
from testing.clients import WayClient, request_host
from ways.registry import SESSION_ROWS, SESSION_WAYS, SESSIONS_CACHE, TOKEN_ROWS, Way

STOCK = {"MIDDLEWARE": STOCK_MIDDLEWARE, "ROOT_URLCONF": "benchmarks.peers"}
SESSION_DATA_SIZES_KB = (0, 1, 3, 5)


@dataclass(frozen=True)
class Timing:
    batches: int
    per_batch: int

    def of(self, call) -> float:
        return round(median_microseconds(call, batches=self.batches, per_batch=self.per_batch), 1)


def floor_call() -> Configured:
    """The bare JSON view in Django's stock middleware: what Django itself costs a request."""
    return Configured.request("/floor/", **STOCK)


def user_lookup_microseconds(timing: Timing, user: User) -> float:
    return timing.of(lambda: User.objects.get(pk=user.pk))


def credential_of(client: WayClient) -> tuple[dict, dict]:
    """The cookies and headers that carry the client's credential to the resource."""
    if client.way.transport == "header":
        return {}, {"Authorization": f"Bearer {client.credential}"}
    return {client.credential_name: client.credential}, {}


def wire_bytes(cookies: dict, headers: dict) -> int:
    if headers:
        return sum(len(f"{name}: {value}\r\n".encode()) for name, value in headers.items())
    return cookie_header_bytes(cookies)


def primitive(way: Way, client: WayClient):
    """The one operation the way cannot do without, as a callable: what its store reads first."""
    credential = client.credential
    if way.kind == "token":
        return "JWT decode and verify", lambda: AccessToken(credential)
    if way.self_contained:
        store = way.session_store
        return "signing.loads of the cookie", lambda: store(session_key=credential).load()
    if way.cache_key_prefix:
        cache = caches[settings.SESSION_CACHE_ALIAS]
        key = way.cache_key_prefix + credential
        return "sessions-cache GET", lambda: cache.get(key)
    return "session SELECT by primary key", lambda: Session.objects.filter(pk=credential).first()


def stored_bytes(way: Way, client: WayClient) -> int:
    """Bytes the server keeps for one login: session row, cache value, or refresh token."""
    total = 0
    if TOKEN_ROWS in way.stores:
        total += len(OutstandingToken.objects.order_by("-pk").values_list("token", flat=True)[0])
    if SESSION_ROWS in way.stores:
        total += len(Session.objects.get(pk=client.credential).session_data)
    if SESSIONS_CACHE in way.stores:
        total += cache_value_bytes(way.cache_key_prefix + client.credential)
    return total


def cache_value_bytes(key: str) -> int:
    cache = caches[settings.SESSION_CACHE_ALIAS]
    made = cache.make_key(key)
    if hasattr(cache, "client"):  # django-redis
        return cache.client.get_client().strlen(made)
    return len(cache._cache[made])  # local memory keeps the pickled value


# Sessions the measurements created outside any login, to delete when done: (store, key).
created_sessions: list[tuple[type, str]] = []


def created_sessions_delete() -> None:
    while created_sessions:
        store, key = created_sessions.pop()
        store().delete(key)


def fast_engine(way: Way) -> str:
    """The engine of a session way's fast profile: a database way reads through the cache.

    The fast engine of a way that keeps database rows alone is the registry's engine that
    keeps the same rows with a copy in the cache (cached_db); any other way keeps its own.
    """
    if way.stores != (SESSION_ROWS,):
        return way.session_engine
    return next(
        other.session_engine
        for other in SESSION_WAYS
        if other.stores == (SESSION_ROWS, SESSIONS_CACHE)
    )


def fast_credential(way: Way, user: User) -> tuple[dict, dict]:
    """A credential for the way's fast profile: a session with a user snapshot, or claims."""
    snapshot = {"id": user.pk, "username": user.username, "email": user.email}
    if way.kind == "token":
        token = AccessToken.for_user(user)
        token["username"], token["email"] = user.username, user.email
        if way.transport == "header":
            return {}, {"Authorization": f"Bearer {token}"}
        return {settings.JWT_ACCESS_COOKIE_NAME: str(token)}, {}
    store_class = import_module(fast_engine(way)).SessionStore
    store = store_class()
    store.update({USER_SNAPSHOT_KEY: snapshot, "way": way.name})
    store.save()
    if not way.self_contained:
        created_sessions.append((store_class, store.session_key))
    return {"sessionid": store.session_key}, {}


def peer_settings(way: Way, *, fast: bool = False) -> dict:
    if way.kind == "token":
        return STOCK
    engine = fast_engine(way) if fast else way.session_engine
    return {**STOCK, "SESSION_ENGINE": engine}


def peer_path(way: Way, *, fast: bool = False) -> str:
    kind = "token" if way.kind == "token" else "session"
    return f"/{'fast' if fast else 'peer'}/{way.name}/{kind}/"


def measure_way(way: Way, *, user: User, password: str, timing: Timing) -> dict:
    """Everything about one way: costs, counts and bytes."""
    client = WayClient(way, HTTP_HOST=request_host())
    with counting() as login:
        response = client.login(user.username, password)
    if response.status_code != 200:
        raise RuntimeError(f"{way.name}: login answered {response.status_code}")
    cookies, headers = credential_of(client)
    credential_cookies = [name for name in response.cookies if "csrftoken" not in name]

    project = Configured.request(way.path("resource"), cookies=cookies, headers=headers)
    with override_settings(DEBUG=False):
        project.call()
        with counting() as request:
            project.call()
    if way.kind == "session":
        peer_cookies, peer_headers = {"sessionid": client.credential}, {}
    else:
        peer_cookies, peer_headers = cookies, headers
    fast_cookies, fast_headers = fast_credential(way, user)
    calls = {
        "floor": floor_call(),
        "project": project,
        "peer": Configured.request(
            peer_path(way), cookies=peer_cookies, headers=peer_headers, **peer_settings(way)
        ),
        "fast": Configured.request(
            peer_path(way, fast=True),
            cookies=fast_cookies,
            headers=fast_headers,
            **peer_settings(way, fast=True),
        ),
    }
    # The token ways' peer is a DRF view already; the session ways' gets a DRF twin, and the
    # plain view dispatched by DRF, which shows how much of DRF's cost is its dispatch alone.
    if way.kind == "session":
        for name, prefix in (("drf_peer", "drf-peer"), ("drf_dispatch", "drf-dispatch")):
            calls[name] = Configured.request(
                f"/{prefix}/{way.name}/session/", cookies=peer_cookies, **peer_settings(way)
            )
    # The primitive is timed in the same rounds as the requests it is compared with.
    primitive_name, primitive_call = primitive(way, client)
    calls["primitive"] = Configured(primitive_call)
    costs = round_robin_microseconds(calls, rounds=timing.batches, per_batch=timing.per_batch)
    stored = stored_bytes(way, client)
    with counting() as logout:
        client.logout()
    return {
        "way": way.name,
        "floor_us": costs["floor"],
        "project_us": costs["project"],
        "peer_us": costs["peer"],
        "drf_peer_us": costs.get("drf_peer", costs["peer"]),
        "drf_dispatch_us": costs.get("drf_dispatch"),
        "fast_us": costs["fast"],
        "primitive": primitive_name,
        "primitive_us": costs["primitive"],
        "queries_per_request": request["queries"],
        "cache_calls_per_request": request["cache_calls"],
        "credential_bytes_on_wire": wire_bytes(cookies, headers),
        "set_cookie_bytes_at_login": set_cookie_bytes(response, credential_cookies),
        "stored_bytes_per_session": stored,
        "rows_written_per_login": login["rows_written"],
        "cache_writes_per_login": login["cache_writes"],
        "rows_written_per_logout": logout["rows_written"],
        "cache_writes_per_logout": logout["cache_writes"],
    }


def measure_fast_tradeoff(way: Way, user: User) -> dict:
    """What the fast profile gives up: does a deactivated user keep access?"""
    cookies, headers = fast_credential(way, user)
    with override_settings(**peer_settings(way, fast=True)):
        call = Call(
            WSGIHandler(), environ_for(peer_path(way, fast=True), cookies=cookies, headers=headers)
        )
        User.objects.filter(pk=user.pk).update(is_active=False)
        try:
            status = call()
        finally:
            User.objects.filter(pk=user.pk).update(is_active=True)
    lifetime = (
        settings.SESSION_COOKIE_AGE
        if way.kind == "session"
        else int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds())
    )
    return {
        "deactivated_user_keeps_access": status == 200,
        "until_seconds": lifetime if status == 200 else 0,
    }


def measure_growth(way: Way) -> list[dict]:
    """How the session way's credential and store grow as the session holds more data."""
    rows = []
    for kilobytes in SESSION_DATA_SIZES_KB:
        request = RequestFactory().get(way.path("resource"), HTTP_HOST=request_host())
        middleware = WaySessionMiddleware(lambda request: JsonResponse({}))
        middleware.process_request(request)
        # Text that does not compress, as real data mostly would not.
        request.session["data"] = random_text(kilobytes * 1024)
        response = middleware.process_response(request, JsonResponse({}))
        morsel = response.cookies.get(way.session_cookie_name)
        row = {
            "session_data_kb": kilobytes,
            "status": response.status_code,
            "cookie_bytes": len(way.session_cookie_name) + len(morsel.value) if morsel else 0,
        }
        if response.status_code == 200 and way.stores:
            client = WayClient(way)
            client.credential = morsel.value
            row["stored_bytes"] = stored_bytes(way, client)
            way.session_store().delete(morsel.value)
        rows.append(row)
    return rows


def random_text(size: int) -> str:
    return secrets.token_urlsafe(size)[:size]
