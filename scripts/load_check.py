"""A bounded load check: every way in under wrk's 16 connections, against gunicorn on loopback.

Each way the server lists logs in through its real endpoints, then wrk calls its resource
with that credential; the anonymous listing /api/ways/ is the floor. An answer outside 2xx or
a socket error fails the check (exit 1). It measures nothing exactly (the machine is shared):
it proves every way holds up under concurrency. The database is fresh (SQLite, or one of its
own beside DATABASE_URL's PostgreSQL); with REDIS_URL, cache keys go under a prefix of its own.

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
    floor = rows["floor"]["p50_ms"]
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
