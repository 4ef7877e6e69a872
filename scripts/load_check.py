"""A bounded load check: concurrent clients on every way in, against gunicorn on loopback.

For each way the server lists at /api/ways/, CLIENTS clients log in once through the real
endpoints, then call the protected resource in a loop for SECONDS seconds (or until a cap of
requests). Every answer must be 200: any other status, or any exception, is an error and the
check exits 1. The first row, the anonymous listing /api/ways/, is the floor the others are
compared with. It measures nothing exactly (the machine is shared); it proves that every way
holds up under concurrency, and prints how fast each one was in the same run.

The database is a fresh one: SQLite in a temporary directory, or, when DATABASE_URL names a
PostgreSQL server, a database created for the run and dropped afterwards. With REDIS_URL the
cache ways use Redis, under a key prefix of this run's own that is deleted afterwards. Without
it they use the local-memory cache, which only one process can see: gunicorn then runs one
worker process (with threads). Servers and services must be on loopback.

    python scripts/load_check.py                   # the embedded default
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scj REDIS_URL=redis://127.0.0.1:6379/11 \\
        python scripts/load_check.py --if-reachable
"""

import argparse
import os
import sys
from pathlib import Path

# Run as a script, this file's directory is on the path, not the project it belongs to.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load import Tally, run
from testing.servers import (
    LOOPBACK_NAMES,
    THREADS_PER_WORKER,
    demo_database,
    gunicorn_serving,
    own_redis_keys,
    reachable,
    server_environment,
    services,
    serving_workers,
)


def report(tallies: list[Tally]) -> str:
    floor = tallies[0].percentile_ms(0.5)
    lines = [
        f"{'way':<24} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'p50/floor':>10}"
    ]
    for tally in tallies:
        p50 = tally.percentile_ms(0.5)
        lines.append(
            f"{tally.name:<24} {tally.requests:>9} {len(tally.errors):>7}"
            f" {tally.requests / tally.seconds:>8.0f} {p50:>8.1f} {tally.percentile_ms(0.99):>8.1f}"
            f" {p50 / floor:>10.2f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=2.0, help="per way")
    parser.add_argument("--max-requests", type=int, default=20_000, help="per way, a hard cap")
    parser.add_argument(
        "--if-reachable",
        action="store_true",
        help="skip (exit 0) when DATABASE_URL or REDIS_URL cannot be reached, "
        "unless REQUIRE_SERVICES=1",
    )
    args = parser.parse_args()

    env = server_environment(os.environ)
    named = services(env)
    not_loopback = [name for name, (host, _) in named.items() if host not in LOOPBACK_NAMES]
    if not_loopback:
        print(f"The load check runs on loopback only: {', '.join(not_loopback)} is not.")
        return 2
    down = [name for name, address in named.items() if not reachable(*address)]
    if down:
        message = f"{', '.join(down)} not reachable"
        if args.if_reachable and os.environ.get("REQUIRE_SERVICES") != "1":
            print(f"Load check skipped: {message}.")
            return 0
        print(f"Load check failed: {message}.")
        return 1

    with (
        demo_database(env, label="load") as database_url,
        own_redis_keys(env, label="load") as prefix,
    ):
        env["DATABASE_URL"] = database_url
        env["CACHE_KEY_PREFIX"] = prefix
        workers = serving_workers(env)
        database = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        cache = "Redis" if env.get("REDIS_URL") else "local memory"
        print(
            f"gunicorn: {workers} worker(s) x {THREADS_PER_WORKER} threads; database: "
            f"{database}; sessions cache: {cache}; {args.clients} clients x {args.seconds:g} s "
            "per way"
        )
        with gunicorn_serving(env, workers=workers) as base_url:
            tallies = run(base_url, args)
    print(report(tallies))
    errors = [(tally.name, error) for tally in tallies for error in tally.errors]
    for name, error in errors[:10]:
        print(f"error: {name}: {error}")
    if errors or not all(tally.latencies for tally in tallies):
        print(f"FAILED: {len(errors)} error(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
