"""Seed a million sessions and tokens on databases of its own, and measure what scale costs."""

import argparse
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from benchmarks.report import scale_summary, write_json, write_readme_scale
from benchmarks.scale import (
    DEFAULT_COUNT,
    POSTGRES_URL,
    REDIS_URL,
    measure_scale,
    scale_measure_here,
)

# Only the results written here, the docs' own, also go into the README.
DOCS_RESULTS = Path(settings.BASE_DIR) / "docs" / "scale.json"


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
        parser.add_argument("--output", default=str(DOCS_RESULTS))
        # Internal: measure on the database this process was configured with, which the
        # parent process created for it, and print the results as JSON.
        parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, count, database_url, redis_url, output, worker, verbosity, **options):
        say = self.stderr.write if verbosity else lambda line: None
        if worker:
            result = scale_measure_here(count=count, say=say, bars=verbosity > 0)
            self.stdout.write(json.dumps(result))
            return
        results = measure_scale(
            count=count,
            say=say,
            quiet=not verbosity,
            postgres_url=database_url,
            redis_url=redis_url,
        )
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(results, path)
        if path.resolve() == DOCS_RESULTS.resolve():
            write_readme_scale(results, Path(settings.BASE_DIR) / "README.md")
        self.stdout.write(scale_summary(results))
        self.stdout.write(f"Wrote {path}.")
