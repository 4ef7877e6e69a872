"""Seed a million sessions and tokens on databases of its own, and measure what scale costs."""

import argparse
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from benchmarks.scale import (
    DEFAULT_COUNT,
    POSTGRES_URL,
    REDIS_URL,
    measure_scale,
    scale_measure_here,
)


class Command(BaseCommand):
    help = (
        "Seed COUNT sessions and tokens on a fresh SQLite file and a fresh PostgreSQL database "
        "(created and dropped here), then measure the stock cleanup commands against ours "
        "(seconds, rows deleted, peak memory) and the cost of one resource request per way "
        "at 1,000 and at COUNT stored. Prints the figures and writes them as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
        parser.add_argument(
            "--database-url",
            default=POSTGRES_URL,
            help="a PostgreSQL server to create the bench's own database on; '' for none",
        )
        parser.add_argument(
            "--redis-url",
            default=REDIS_URL,
            help="a Redis database for the cache ways, used under a key prefix of the bench's "
            "own; '' for the local-memory cache",
        )
        parser.add_argument(
            "--output", default=str(Path(settings.BASE_DIR) / "docs" / "scale.json")
        )
        # Internal: measure on the database this process was configured with, which the
        # parent process created for it, and write the results to this file.
        parser.add_argument("--worker", help=argparse.SUPPRESS)

    def handle(self, *args, count, database_url, redis_url, output, worker, verbosity, **options):
        if worker:
            result = scale_measure_here(
                count=count, say=self.say if verbosity else lambda line: None, bars=verbosity > 0
            )
            Path(worker).write_text(json.dumps(result))
            return
        results = measure_scale(
            count=count,
            progress=self.say if verbosity else None,
            postgres_url=database_url,
            redis_url=redis_url,
        )
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        for line in summary_lines(results):
            self.stdout.write(line)
        self.stdout.write(f"Wrote {path}.")

    def say(self, line: str) -> None:
        self.stderr.write(line)


def summary_lines(results: dict) -> list[str]:
    """The results as a few aligned tables, one block per database."""
    count = results["count"]
    lines = []
    for name, result in results["databases"].items():
        if "skipped" in result:
            lines.append(f"{name}: skipped: {result['skipped']}")
            continue
        lines.append(f"{name}: {result['database']}; sessions cache: {result['cache']}")
        lines.append(
            f"  {'cleanup of ' + format(count, ',') + ' rows':<36}{'seconds':>9}"
            f"{'peak RSS MB':>13}{'rows deleted':>22}{'speed-up':>10}"
            f"{'login wait s':>14}{'failed logins':>15}"
        )
        for kind, cleanup in result["cleanup"].items():
            for side in ("stock", "ours"):
                run = cleanup[side]
                deleted = " + ".join(str(rows) for rows in run["rows_deleted"].values())
                speedup = f"{cleanup['speedup']:.2f}×" if side == "ours" else ""
                logins = run["logins_while_running"]
                failed = f"{logins['failed']} of {logins['writes']}"
                lines.append(
                    f"  {kind + ': ' + run['command'].removeprefix('manage.py '):<36}"
                    f"{run['seconds']:>9.2f}{run['peak_rss_mb']:>13.1f}{deleted:>22}{speedup:>10}"
                    f"{logins['longest_wait_seconds']:>14.3f}{failed:>15}"
                )
            ratio = f"{cleanup['stock_over_one_transaction']:.2f}×"
            lines.append(
                f"  {kind + ': one transaction, in-process':<36}"
                f"{cleanup['one_transaction']['seconds']:>9.2f}{'':>35}{ratio:>10}  (stock ÷ this)"
            )
        per_request = result["per_request"]
        small = "at " + format(results["small_count"], ",")
        lines.append(
            f"  {'µs per resource request':<36}{small:>12}{'at ' + format(count, ','):>14}"
            f"{small + ' again':>18}{'ratio':>8}{'raw ratio':>11}"
        )
        floor = per_request["floor_us_per_request"]
        lines.append(
            f"  {'(floor: a bare JSON view)':<36}{floor['small']:>12.1f}{floor['large']:>14.1f}"
            f"{floor['small_again']:>18.1f}"
        )
        for way, costs in per_request["ways"].items():
            lines.append(
                f"  {way:<36}{costs['us_per_request_small']:>12.1f}"
                f"{costs['us_per_request_large']:>14.1f}"
                f"{costs['us_per_request_small_again']:>18.1f}{costs['ratio']:>8.3f}"
                f"{costs['raw_ratio']:>11.3f}"
            )
    return lines
