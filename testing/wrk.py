"""wrk, the one load generator: requests per second, latency percentiles and errors of one URL.

Every connection sends the same request; a way's credential goes in its headers. Used by the
load check (which fails on any error) and by `manage.py compare` (which reports the figures).
Install it with `apt-get install wrk`; `.ci/run` does.
"""

import re
import shutil
import subprocess

CONNECTIONS = 16
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class WrkMissing(RuntimeError):
    """wrk is not installed."""


def wrk_run(
    url: str, headers: dict[str, str], *, seconds: float, connections: int = CONNECTIONS
) -> dict:
    """One wrk run of url: requests/s, p50 and p99 in ms, and every error.

    An error is an answer outside 2xx and 3xx, or a socket error (connect, read, write or
    timeout).
    """
    if shutil.which("wrk") is None:
        raise WrkMissing("wrk is not installed: apt-get install wrk")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
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


def credential_headers(client, path: str) -> dict[str, str]:
    """What a logged-in WayHttpClient sends with a GET of path: its cookies, or its token."""
    if client.uses_cookies:
        return {"Cookie": client.cookie_header(path)}
    return client.authorization()
