"""Calling the WSGI application in-process, timing it, and counting what a request does."""

import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from unittest import mock

from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from testing.clients import request_host

# Django's startproject middleware: the stock configuration every peer is measured in.
STOCK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
CACHE_METHODS = ("get", "set", "add", "delete", "has_key", "touch", "get_many", "set_many")
CACHE_WRITES = ("set", "add", "delete", "set_many")
WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE")


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


@dataclass(frozen=True)
class Configured:
    """An operation to time (a WSGI request, or a primitive) and the settings it runs under."""

    call: Callable[[], object]
    overrides: dict = field(default_factory=dict)
    is_request: bool = False

    @classmethod
    def request(cls, path: str, *, cookies=None, headers=None, **overrides) -> "Configured":
        """A GET of path under the given settings, its WSGI environ built once."""
        with override_settings(**overrides):
            handler = WSGIHandler()  # loads the settings' middleware
        headers = {**(headers or {}), **({"Cookie": cookie_header(cookies)} if cookies else {})}
        environ = RequestFactory().get(path, headers=headers, SERVER_NAME=request_host()).environ

        def call() -> int:
            statuses = []
            response = handler(dict(environ), lambda status, *_: statuses.append(status))
            for _ in response:
                pass
            response.close()
            return int(statuses[0][:3])

        return cls(call, overrides, is_request=True)


def round_robin_microseconds(
    calls: dict[str, Configured], *, rounds: int, per_batch: int
) -> dict[str, float]:
    """Median µs per call of each, timed in round-robin batches after a warm-up round.

    Round robin: a burst of noise from the shared machine lands on every call alike, so their
    ratios hold where their microseconds do not; the median of batch means resists it better
    than one long loop or the fastest batch. DEBUG is off, as in production (with it on,
    Django also logs every query). Every request must succeed.
    """
    samples = {name: [] for name in calls}
    for round_number in range(rounds + 1):  # the first round warms up, untimed
        for name, configured in calls.items():
            with override_settings(DEBUG=False, **configured.overrides):
                # Changing settings empties Django's caches (URL resolvers among them): each
                # batch starts with one untimed call.
                status = configured.call()
                if configured.is_request and status != HTTPStatus.OK:
                    raise RuntimeError(f"{name}: the request answered {status}")
                started = time.perf_counter_ns()
                for _ in range(per_batch):
                    configured.call()
                elapsed = time.perf_counter_ns() - started
            if round_number:
                samples[name].append(elapsed / per_batch)
    return {name: round(statistics.median(times) / 1000, 1) for name, times in samples.items()}


@contextmanager
def counting(aliases: tuple[str, ...] = ("sessions", "default")):
    """Queries, writing statements and calls on the caches (the sessions cache, and the
    default one that keeps the managed profile's login sessions) made while inside."""
    with CaptureQueriesContext(connection) as queries, ExitStack() as patches:
        calls = [
            (
                name,
                patches.enter_context(mock.patch.object(cache, name, wraps=getattr(cache, name))),
            )
            for cache in (caches[alias] for alias in aliases)  # this thread's instances
            for name in CACHE_METHODS
        ]
        result = {}
        yield result
    statements = [query["sql"].lstrip().split(" ", 1)[0].upper() for query in queries]
    result["queries"] = len(statements)
    result["rows_written"] = sum(statements.count(kind) for kind in WRITE_STATEMENTS)
    result["cache_calls"] = sum(call.call_count for _, call in calls)
    result["cache_writes"] = sum(call.call_count for name, call in calls if name in CACHE_WRITES)


def set_cookie_bytes(response, names) -> int:
    """Bytes of the Set-Cookie header lines that set the given cookies."""
    return sum(
        len(f"Set-Cookie: {morsel.OutputString()}\r\n".encode())
        for name, morsel in response.cookies.items()
        if name in names
    )


def header_bytes(cookies: dict[str, str], headers: dict[str, str]) -> int:
    """Bytes of the header lines a client sends with these cookies and headers."""
    lines = {**headers, "Cookie": cookie_header(cookies)} if cookies else headers
    return sum(len(f"{name}: {value}\r\n".encode()) for name, value in lines.items())
