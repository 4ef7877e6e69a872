"""Requests per second over HTTP: every way's resource under wrk, against gunicorn on loopback."""

import os
import shutil

from testing.servers import THREADS_PER_WORKER, demo_serving, server_environment
from testing.wrk import CONNECTIONS, wrk_every_way

# One gunicorn worker: gunicorn hands a burst of new keep-alive connections to whichever
# worker wakes first, so with several of them wrk's connections may all land on one, and
# requests/s swing from run to run. One worker also keeps to one core (the GIL), leaving the
# other to the client.
WORKERS = 1


def measure_http(*, seconds: float) -> dict:
    """Every way's resource, and the floor, under 16 concurrent connections over HTTP."""
    measured = {
        "tool": "wrk",
        "connections": CONNECTIONS,
        "seconds_per_way": seconds,
        "gunicorn_workers": WORKERS,
        "gunicorn_threads": THREADS_PER_WORKER,
        "floor": "GET /api/ways/, anonymous",
    }
    if shutil.which("wrk") is None:
        return {**measured, "skipped": "wrk is not installed: apt-get install wrk"}
    with demo_serving(server_environment(os.environ), label="compare", workers=WORKERS) as url:
        return {**measured, "rows": wrk_every_way(url, seconds=seconds)}
