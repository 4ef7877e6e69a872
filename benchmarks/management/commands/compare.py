"""Measure every way in and write docs/comparison.md, .json and .png."""

import json
import secrets
import statistics
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from tqdm import tqdm

from accounts.models import User
from benchmarks.harness import Configured, round_robin_microseconds
from benchmarks.host import machine
from benchmarks.http_bench import measure_http
from benchmarks.measure import (
    created_sessions_delete,
    measure_growth,
    measure_peers,
    measure_way,
)
from benchmarks.report import write_chart, write_json, write_markdown, write_readme_blocks
from benchmarks.survival import measure_survival
from login_sessions.models import LoginSession
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
            "--readme-only",
            action="store_true",
            help="measure nothing: rewrite the README's blocks from docs/comparison.json",
        )

    def handle(self, *args, output_dir, quick, readme_only, **options):
        if readme_only:
            return self.readme_rewrite()
        timing = {"rounds": 3, "per_batch": 20} if quick else {"rounds": 30, "per_batch": 50}
        host = machine()
        results = {
            "meta": {
                "command": "python manage.py compare" + (" --quick" if quick else ""),
                "machine": host.pop("processor"),
                **host,
                "database": database_description(),
                "cache": cache_description(),
                "timing": {"batches": timing["rounds"], "requests_per_batch": timing["per_batch"]},
            }
        }
        # disable=None: a bar on a terminal, nothing in a log or a pipe.
        with tqdm(total=len(WAYS) + 5, unit="step", file=sys.stderr, disable=None) as progress:

            def next_step(name: str) -> None:  # the one before it is done
                progress.set_description(name)
                progress.update()

            results |= self.in_process(timing, progress=progress)
            next_step("HTTP")
            results["http"] = measure_http(seconds=1 if quick else 3)
            next_step("survival")
            results["survival"] = measure_survival()
            # The results of `make bench-scale`, if it was run.
            if (DOCS / "scale.json").exists():
                results["scale"] = json.loads((DOCS / "scale.json").read_text())
            next_step("write")
            output = Path(output_dir)
            output.mkdir(parents=True, exist_ok=True)
            write_json(results, output / "comparison.json")
            write_markdown(results, output / "comparison.md")
            write_chart(results, output / "comparison.png")
            if output.resolve() == DOCS.resolve():
                write_readme_blocks(results, Path(settings.BASE_DIR) / "README.md")
            progress.update()
        self.stdout.write(f"Wrote {output / 'comparison.md'}, .json and .png.")

    def readme_rewrite(self) -> None:
        """The README's blocks from the committed figures: after a template or the security
        matrix changed, without a two-minute run that would change every figure too.
        """
        results = json.loads((DOCS / "comparison.json").read_text())
        # As a run would include them: bench-scale writes its own README block from it.
        if (DOCS / "scale.json").exists():
            results["scale"] = json.loads((DOCS / "scale.json").read_text())
        write_readme_blocks(results, Path(settings.BASE_DIR) / "README.md")
        self.stdout.write("Rewrote the README's blocks from docs/comparison.json.")

    def in_process(self, timing: dict, *, progress: tqdm) -> dict:
        """Every way measured in-process by a throwaway user, who leaves nothing behind."""
        password = secrets.token_urlsafe(16)
        user = User.objects.create_user(
            username=f"compare-{secrets.token_hex(4)}",
            email="compare@example.com",
            password=password,
        )
        try:
            lookup = {"lookup": Configured(lambda: User.objects.get(pk=user.pk))}
            results = {"user_lookup_us": round_robin_microseconds(lookup, **timing)["lookup"]}
            results["ways"] = ways = []
            for way in WAYS:
                progress.set_description(f"way {way.name}")
                ways.append(measure_way(way, user=user, password=password, timing=timing))
                progress.update()
            # Each way's ratios are to the floor timed beside it; this one is for reading.
            results["floor_us"] = round(statistics.median(way["floor_us"] for way in ways), 1)
            progress.set_description("peers")
            results["peers"] = measure_peers(user=user, password=password, timing=timing)
            progress.update()
            progress.set_description("growth")
            results["growth"] = [
                {"way": way.name, "rows": measure_growth(way)} for way in SESSION_WAYS
            ]
        finally:
            # Each login was logged out; these go too.
            created_sessions_delete()
            OutstandingToken.objects.filter(user=user).delete()
            LoginSession.objects.filter(user=user).delete()
            user.delete()  # and with the user, the peers' tokens and sessions
        return results
