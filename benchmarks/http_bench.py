"""Requests per second over HTTP: every way's resource under wrk, against gunicorn on loopback."""

import os
from collections.abc import Callable

from testing.servers import THREADS_PER_WORKER, demo_serving, server_environment
from testing.wrk import CONNECTIONS, WrkMissing, wrk_every_way

# One gunicorn worker: gunicorn hands a burst of new keep-alive connections to whichever
# worker wakes first, so with several of them wrk's connections may all land on one, and
# requests/s swing from run to run. One worker also keeps to one core (the GIL), leaving the
# other to the client.
WORKERS = 1


def measure_http(*, seconds: float, say: Callable[[str], None] = print) -> dict:
    """Every way's resource, and the floor, under 16 concurrent connections over HTTP."""
    env = server_environment(os.environ)
    measured = {
        "tool": "wrk",
        "connections": CONNECTIONS,
        "seconds_per_way": seconds,
        "gunicorn_workers": WORKERS,
        "gunicorn_threads": THREADS_PER_WORKER,
        "floor": "GET /api/ways/, anonymous",
    }
    with demo_serving(env, label="compare", workers=WORKERS) as base_url:
        try:
            return {**measured, "rows": wrk_every_way(base_url, seconds=seconds, say=say)}
        except WrkMissing as missing:
            return {**measured, "skipped": str(missing)}
