"""Measure every way in and write docs/comparison.md, .json and .png."""

import json
import os
import platform
import secrets
import statistics
import sys
from pathlib import Path

import django
from django.conf import settings
from django.core.management.base import BaseCommand
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from tqdm import tqdm

from accounts.models import User
from benchmarks.host import processor_name
from benchmarks.http_bench import measure_http
from benchmarks.measure import (
    Timing,
    created_sessions_delete,
    measure_fast_tradeoff,
    measure_growth,
    measure_way,
    user_lookup_microseconds,
)
from benchmarks.report import write_chart, write_json, write_markdown, write_readme_blocks
from benchmarks.survival import measure_survival
from ways.registry import SESSION_WAYS, WAYS, cache_description, database_description

DOCS = Path(settings.BASE_DIR) / "docs"


class Command(BaseCommand):
    help = "Measure what each way in costs and write docs/comparison.md, .json and .png."

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", default=str(DOCS))
        parser.add_argument(
            "--quick", action="store_true", help="tiny batches: a smoke test, not a measurement"
        )
        parser.add_argument(
            "--scale-results",
            default=str(DOCS / "scale.json"),
            help="the results of `make bench-scale` to include (skipped if missing)",
        )

    def handle(self, *args, output_dir, quick, scale_results, **options):
        timing = Timing(batches=3, per_batch=20) if quick else Timing(batches=30, per_batch=50)
        # disable=None: a bar on a terminal, nothing in a log or a pipe.
        progress = tqdm(total=len(WAYS) + 4, unit="step", file=sys.stderr, disable=None)
        results = {
            "meta": {
                "command": "python manage.py compare" + (" --quick" if quick else ""),
                "machine": processor_name(),
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "django": django.get_version(),
                "database": database_description(),
                "cache": cache_description(),
                "timing": {"batches": timing.batches, "requests_per_batch": timing.per_batch},
            }
        }
        password = secrets.token_urlsafe(16)
        user = User.objects.create_user(
            username=f"compare-{secrets.token_hex(4)}",
            email="compare@example.com",
            password=password,
        )
        try:
            results["user_lookup_us"] = user_lookup_microseconds(timing, user)
            results["ways"] = []
            for way in WAYS:
                progress.set_description(f"way {way.name}")
                measured = measure_way(way, user=user, password=password, timing=timing)
                measured["fast_tradeoff"] = measure_fast_tradeoff(way, user)
                results["ways"].append(measured)
                progress.update()
            # Each way's ratios are to the floor timed beside it; this one is for reading.
            results["floor_us"] = round(
                statistics.median(way["floor_us"] for way in results["ways"]), 1
            )
            progress.set_description("growth")
            results["growth"] = [
                {"way": way.name, "rows": measure_growth(way)} for way in SESSION_WAYS
            ]
        finally:
            # Leave nothing behind: each login was logged out; these go too.
            created_sessions_delete()
            OutstandingToken.objects.filter(user=user).delete()
            user.delete()
        progress.update()
        progress.set_description("HTTP")
        results["http"] = measure_http(seconds=1 if quick else 3)
        progress.update()
        progress.set_description("survival")
        results["survival"] = measure_survival()
        scale = Path(scale_results)
        if scale.exists():
            results["scale"] = json.loads(scale.read_text())
        progress.update()
        progress.set_description("write")
        output = Path(output_dir)
        output.mkdir(parents=True, exist_ok=True)
        write_json(results, output / "comparison.json")
        write_markdown(results, output / "comparison.md")
        write_chart(results, output / "comparison.png")
        if output.resolve() == DOCS.resolve():
            write_readme_blocks(results, Path(settings.BASE_DIR) / "README.md")
        progress.update()
        progress.close()
        self.stdout.write(f"Wrote {output / 'comparison.md'}, .json and .png.")
