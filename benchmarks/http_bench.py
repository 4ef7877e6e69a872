"""Requests per second over HTTP: gunicorn on loopback, wrk when installed, else our clients."""

import argparse
import os
import re
import shutil
import subprocess
from collections.abc import Callable

from benchmarks.load import run
from testing.servers import (
    THREADS_PER_WORKER,
    WayHttpClient,
    demo_database,
    gunicorn_serving,
    own_redis_keys,
    server_environment,
)

CONNECTIONS = 16
# One gunicorn worker. gunicorn hands a burst of new keep-alive connections to whichever
# worker wakes first: with two workers, all 16 of wrk's connections landed on one of them in
# half the runs measured here, and requests/s halved or doubled from one run to the next.
# One worker also keeps to one core (the GIL), leaving the other to the client.
WORKERS = 1
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_row(url: str, headers: dict[str, str], *, seconds: float) -> dict:
    """One wrk run: 16 connections on 2 threads, the latency distribution, the errors."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(  # noqa: S603 - wrk, against our own loopback server
        [*command, url], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    latency = {
        percent: float(value) * UNITS_MS[unit]
        for percent, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", output, re.M)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50_ms": round(latency["50"], 2),
        "p99_ms": round(latency["99"], 2),
        "errors": int(errors[1]) if errors else 0,
    }


def credential_headers(client: WayHttpClient, path: str) -> dict[str, str]:
    """What a browser or client sends with a GET of path: its cookies for it, or the token."""
    if client.uses_cookies:
        return {"Cookie": client.cookie_header(path)}
    return client.authorization()


def measure_http(*, seconds: float, say: Callable[[str], None] = print) -> dict:
    """Every way's resource, and the floor, under 16 concurrent connections over HTTP."""
    env = server_environment(os.environ)
    tool = "wrk" if shutil.which("wrk") else "built-in threaded client"
    with (
        demo_database(env, label="compare") as database_url,
        own_redis_keys(env, label="compare") as prefix,
    ):
        env["DATABASE_URL"], env["CACHE_KEY_PREFIX"] = database_url, prefix
        with gunicorn_serving(env, workers=WORKERS) as base_url:
            ways = WayHttpClient(base_url).request("GET", "/api/ways/").json()["ways"]
            if tool == "wrk":
                rows = {"floor": wrk_row(f"{base_url}/api/ways/", {}, seconds=seconds)}
                for way in ways:
                    say(f"HTTP {way['name']}")
                    client = WayHttpClient(base_url, way)
                    client.log_in()
                    headers = credential_headers(client, way["resource"])
                    client.close()
                    rows[way["name"]] = wrk_row(
                        base_url + way["resource"], headers, seconds=seconds
                    )
            else:
                options = argparse.Namespace(
                    clients=CONNECTIONS, seconds=seconds, max_requests=20_000
                )
                tallies = run(base_url, options)
                rows = {
                    ("floor" if tally.name.startswith("floor") else tally.name): {
                        "requests_per_second": round(tally.requests / tally.seconds, 1),
                        "p50_ms": round(tally.percentile_ms(0.5), 2),
                        "p99_ms": round(tally.percentile_ms(0.99), 2),
                        "errors": len(tally.errors),
                    }
                    for tally in tallies
                }
    return {
        "tool": tool,
        "connections": CONNECTIONS,
        "seconds_per_way": seconds,
        "gunicorn_workers": WORKERS,
        "gunicorn_threads": THREADS_PER_WORKER,
        "floor": "GET /api/ways/, anonymous",
        "rows": rows,
    }
