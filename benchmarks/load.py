"""Concurrent clients on every way in over HTTP: requests per second and latency percentiles.

Used by scripts/load_check.py (which fails on any error) and by `manage.py compare` (which
reports the figures). Each row: CLIENTS clients log in once through the real endpoints, then
GET the protected resource in a loop for SECONDS seconds (or up to a cap of requests).
"""

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus

from testing.servers import LoginFailed, WayHttpClient


@dataclass
class Tally:
    """What the clients of one row saw; the clients add to it under its lock."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def hammer(base_url: str, name: str, path: str, way: dict | None, args) -> Tally:
    """CLIENTS clients: each logs in (if a way is given), then GETs path until time is up."""
    tally = Tally(name)
    cap_per_client = args.max_requests // args.clients
    deadline: list[float] = []

    def start_the_clock() -> None:  # run once, as the last client passes the barrier
        deadline.append(time.monotonic() + args.seconds)

    ready = threading.Barrier(args.clients, action=start_the_clock)

    def client_run() -> None:
        client = WayHttpClient(base_url, way)
        try:
            try:
                if way is not None:
                    client.log_in()
            except (OSError, http.client.HTTPException, LoginFailed) as error:
                with tally.lock:
                    tally.errors.append(f"login: {error!r}")
                return
            finally:
                # A keep-alive connection idle while the others log in may have been closed.
                client.close()
                ready.wait()
            latencies, errors = [], []
            for _ in range(cap_per_client):
                if time.monotonic() >= deadline[0]:
                    break
                started = time.monotonic()
                try:
                    status, content = client.request("GET", path)
                except (OSError, http.client.HTTPException) as error:
                    errors.append(repr(error))
                    client.close()
                    continue
                if status == HTTPStatus.OK:
                    latencies.append(time.monotonic() - started)
                else:
                    errors.append(f"{status}: {content[:200]!r}")
            with tally.lock:
                tally.latencies.extend(latencies)
                tally.errors.extend(errors)
        finally:
            client.close()

    threads = [threading.Thread(target=client_run, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - (deadline[0] - args.seconds)
    return tally


def run(base_url: str, args) -> list[Tally]:
    client = WayHttpClient(base_url)
    status, content = client.request("GET", "/api/ways/")
    client.close()
    if status != HTTPStatus.OK:
        raise RuntimeError(f"/api/ways/ answered {status}")
    ways = json.loads(content)["ways"]
    tallies = [hammer(base_url, "floor: GET /api/ways/", "/api/ways/", None, args)]
    for way in ways:
        tallies.append(hammer(base_url, way["name"], way["resource"], way, args))
    return tallies
