"""wrk, the one load generator: requests/s, latency percentiles and errors of each way."""

import contextlib
import json
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from testing.clients import WayHttpClient, ways_served

CONNECTIONS = 16
# Counts the answers by status, which wrk's own summary does not tell apart.
STATUSES_SCRIPT = Path(__file__).with_name("wrk_statuses.lua")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
# Answers outside 2xx and 3xx, and socket errors: every one is an error.
ERRORS = re.compile(r"\b(?:Non-2xx or 3xx responses:|connect|read|write|timeout) (\d+)")
SOCKET_ERRORS = re.compile(r"\b(connect|read|write|timeout) (\d+)")


def wrk_run(url: str, headers: dict[str, str], *, seconds: float) -> dict:
    """One wrk run of url, every connection sending these headers."""
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(  # noqa: S603 - wrk, against a loopback server of ours
        [*command, url], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return wrk_figures(output)


@contextlib.contextmanager
def wrk_loading(
    url: str, headers: dict[str, str], *, connections: int = CONNECTIONS
) -> Iterator[dict]:
    """wrk on url for as long as the context lasts; the dict it yields receives wrk's figures
    then, with the count of answers per status.
    """
    # An answer slower than wrk's default 2 s would be dropped from the latencies as a timeout.
    command = ["wrk", "-t1", f"-c{connections}", "-d1h", "--timeout", "30s", "--latency"]
    command += ["-s", str(STATUSES_SCRIPT)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    process = subprocess.Popen(  # noqa: S603 - wrk, against a loopback server of ours
        [*command, url], stdout=subprocess.PIPE, text=True
    )
    figures: dict = {}
    try:
        yield figures
    finally:
        process.send_signal(signal.SIGINT)  # wrk stops and prints what it measured
        output = process.communicate(timeout=60)[0]
        figures |= wrk_figures(output)
        statuses = re.search(r"^statuses: (\{.*\})$", output, re.M)
        figures["statuses"] = json.loads(statuses[1]) if statuses else {}
        figures["socket_errors"] = {
            kind: int(count) for kind, count in SOCKET_ERRORS.findall(output) if int(count)
        }


def wrk_figures(output: str) -> dict:
    """requests, requests/s, p50 and p99 (ms) and errors, from wrk's summary."""
    latency = {
        percent: round(float(value) * UNITS_MS[unit], 2)
        for percent, value, unit in re.findall(
            r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M
        )
    }
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"wrk printed no latency distribution:\n{output}")
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
