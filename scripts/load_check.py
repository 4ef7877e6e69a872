"""A bounded load check: 16 concurrent connections on every way in, against gunicorn on loopback.

For each way the server lists at /api/ways/, a client logs in through the real endpoints,
then wrk calls the protected resource with its credential over CONNECTIONS connections for
SECONDS seconds. Every answer must be 2xx: any other status, or any socket error, is an
error and the check exits 1. The first row, the anonymous listing /api/ways/, is the floor
the others are compared with. It measures nothing exactly (the machine is shared); it proves
that every way holds up under concurrency, and prints how fast each one was in the same run.

The database is a fresh one: SQLite in a temporary directory, or, when DATABASE_URL names a
PostgreSQL server, a database created for the run and dropped afterwards. With REDIS_URL the
cache ways use Redis, under a key prefix of this run's own that is deleted afterwards. Without
it they use the local-memory cache, which only one process can see: gunicorn then runs one
worker process (with threads). Servers and services must be on loopback; wrk must be
installed (apt-get install wrk).

    python scripts/load_check.py                   # the embedded default
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scj REDIS_URL=redis://127.0.0.1:6379/11 \\
        python scripts/load_check.py --if-reachable
"""

import argparse
import os
import sys
from pathlib import Path

from tabulate import tabulate

# Run as a script, this file's directory is on the path, not the project it belongs to.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from testing.servers import (
    THREADS_PER_WORKER,
    demo_serving,
    is_postgresql,
    server_environment,
    services_problem,
    serving_workers,
)
from testing.wrk import CONNECTIONS, wrk_every_way


def report(rows: dict[str, dict]) -> str:
    floor = next(iter(rows.values()))["p50_ms"]
    return tabulate(
        [
            [
                name,
                row["requests"],
                row["errors"],
                round(row["requests_per_second"]),
                row["p50_ms"],
                row["p99_ms"],
                round(row["p50_ms"] / floor, 2),
            ]
            for name, row in rows.items()
        ],
        headers=["way", "requests", "errors", "req/s", "p50 ms", "p99 ms", "p50/floor"],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per way")
    parser.add_argument(
        "--if-reachable",
        action="store_true",
        help="skip (exit 0) when DATABASE_URL or REDIS_URL cannot be reached, "
        "unless REQUIRE_SERVICES=1",
    )
    args = parser.parse_args()

    env = server_environment(os.environ)
    if problem := services_problem(env):
        if args.if_reachable and os.environ.get("REQUIRE_SERVICES") != "1":
            print(f"Load check skipped: {problem}.")
            return 0
        print(f"Load check failed: {problem}.")
        return 1

    workers = serving_workers(env)
    database = "PostgreSQL" if is_postgresql(env.get("DATABASE_URL", "")) else "SQLite"
    cache = "Redis" if env.get("REDIS_URL") else "local memory"
    print(
        f"gunicorn: {workers} worker(s) x {THREADS_PER_WORKER} threads; database: "
        f"{database}; sessions cache: {cache}; wrk, {CONNECTIONS} connections x "
        f"{args.seconds:g} s per way"
    )
    with demo_serving(env, label="load", workers=workers) as base_url:
        rows = wrk_every_way(base_url, seconds=args.seconds)
    print(report(rows))
    errors = sum(row["errors"] for row in rows.values())
    if errors or not all(row["requests"] for row in rows.values()):
        print(f"FAILED: {errors} error(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
