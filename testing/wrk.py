"""wrk, the one load generator: requests per second, latency percentiles and errors of one URL.

Every connection sends the same request; a way's credential goes in its headers. Used by the
load check (which fails on any error) and by `manage.py compare` (which reports the figures).
Install it with `apt-get install wrk`; `.ci/run` does.
"""

import contextlib
import re
import shutil
import subprocess
from collections.abc import Callable

from testing.clients import WayHttpClient, ways_served

CONNECTIONS = 16
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkMissing(RuntimeError):
    """wrk is not installed."""


def wrk_run(url: str, headers: dict[str, str], *, seconds: float) -> dict:
    """One wrk run of url: requests/s, p50 and p99 in ms, and every error.

    An error is an answer outside 2xx and 3xx, or a socket error (connect, read, write or
    timeout).
    """
    if shutil.which("wrk") is None:
        raise WrkMissing("wrk is not installed: apt-get install wrk")
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(  # noqa: S603 - wrk, against a loopback server of ours
        [*command, url], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    latency = {
        percent: float(value) * UNITS_MS[unit]
        for percent, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", output, re.M)
    }
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = SOCKET_ERRORS.search(output)
    return {
        "requests": int(re.search(r"(\d+) requests in", output)[1]),
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50_ms": round(latency["50"], 2),
        "p99_ms": round(latency["99"], 2),
        "errors": (int(refused[1]) if refused else 0)
        + (sum(int(count) for count in sockets.groups()) if sockets else 0),
    }


def wrk_every_way(
    base_url: str, *, seconds: float, say: Callable[[str], None] = lambda line: None
) -> dict[str, dict]:
    """wrk on the floor (GET /api/ways/, anonymous), then on every way's resource, logged in.

    The ways are those the server lists; each logs in through its real endpoint first.
    """
    rows = {"floor": wrk_run(f"{base_url}/api/ways/", {}, seconds=seconds)}
    for name, way in ways_served(base_url).items():
        say(f"HTTP {name}")
        with contextlib.closing(WayHttpClient(base_url, way)) as client:
            client.log_in()
            # What the logged-in client would send with a GET of the resource.
            if client.uses_cookies:
                headers = {"Cookie": client.cookie_header(way["resource"])}
            else:
                headers = client.authorization()
        rows[name] = wrk_run(base_url + way["resource"], headers, seconds=seconds)
    return rows
