"""wrk, the one load generator: requests/s, latency percentiles and errors of each way."""

import contextlib
import re
import subprocess
from collections.abc import Callable

from testing.clients import WayHttpClient, ways_served

CONNECTIONS = 16
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
# Answers outside 2xx and 3xx, and socket errors: every one is an error.
ERRORS = re.compile(r"\b(?:Non-2xx or 3xx responses:|connect|read|write|timeout) (\d+)")


def wrk_run(url: str, headers: dict[str, str], *, seconds: float) -> dict:
    """One wrk run of url, every connection sending these headers."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(  # noqa: S603 - wrk, against a loopback server of ours
        [*command, url], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    latency = {
        percent: round(float(value) * UNITS_MS[unit], 2)
        for percent, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", output, re.M)
    }
    return {
        "requests": int(re.search(r"(\d+) requests in", output)[1]),
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "errors": sum(int(count) for count in ERRORS.findall(output)),
    }


def wrk_every_way(
    base_url: str, *, seconds: float, say: Callable[[str], None] = lambda line: None
) -> dict[str, dict]:
    """wrk on the floor (GET /api/ways/, anonymous), then on every way's resource, logged in."""
    rows = {"floor": wrk_run(f"{base_url}/api/ways/", {}, seconds=seconds)}
    for name, way in ways_served(base_url).items():
        say(f"HTTP {name}")
        with contextlib.closing(WayHttpClient(base_url, way)) as client:
            client.log_in()
            headers = client.resource_headers()
        rows[name] = wrk_run(base_url + way["resource"], headers, seconds=seconds)
    return rows
