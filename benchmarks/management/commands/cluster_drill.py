"""Run the cluster drill and write docs/cluster.md and docs/cluster.json."""

import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from benchmarks.cluster import DrillCounts, cluster_drill
from benchmarks.cluster_report import write_cluster_markdown, write_readme_cluster
from benchmarks.report import write_json
from testing.cluster import missing_commands
from testing.servers import is_postgresql, server_environment

DOCS = Path(settings.BASE_DIR) / "docs"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sessions_cookies_jwt_cluster"


class Command(BaseCommand):
    help = (
        "HAProxy in front of app nodes, Redis with a replica and Sentinels, all on loopback: "
        "for every way and both session policies, what a client loses when nodes keep their "
        "own cache, with sticky sessions, when a node dies and when the Redis primary dies. "
        "Writes docs/cluster.md and docs/cluster.json (and the README's table)."
    )

    def add_arguments(self, parser):
        defaults = DrillCounts()
        parser.add_argument("--clients", type=int, default=defaults.clients, help="per way")
        parser.add_argument(
            "--last-moment-clients",
            type=int,
            default=defaults.last_moment_clients,
            help="per way, logged in just before the Redis primary is killed",
        )
        parser.add_argument(
            "--ended-clients",
            type=int,
            default=defaults.ended_clients,
            help="per way, logged out just before the Redis primary is killed",
        )
        parser.add_argument(
            "--load-clients",
            type=int,
            default=defaults.load_clients,
            help="wrk connections per way for the whole drill (0: no load)",
        )
        parser.add_argument("--output-dir", default=str(DOCS))
        parser.add_argument(
            "--docs-only",
            action="store_true",
            help="measure nothing: write docs/cluster.md and the README's table again from "
            "docs/cluster.json (after their templates changed)",
        )

    def handle(self, *args, output_dir, verbosity, docs_only, **options):
        if docs_only:
            results = json.loads((DOCS / "cluster.json").read_text())
            write_cluster_markdown(results, DOCS / "cluster.md")
            write_readme_cluster(results, Path(settings.BASE_DIR) / "README.md")
            self.stdout.write(
                "Wrote docs/cluster.md and the README's table from docs/cluster.json."
            )
            return
        if missing := missing_commands():
            raise CommandError(f"Missing {', '.join(missing)}: run scripts/cluster_packages.sh.")
        counts = DrillCounts(
            clients=options["clients"],
            last_moment_clients=options["last_moment_clients"],
            ended_clients=options["ended_clients"],
            load_clients=options["load_clients"],
        )
        env = server_environment(os.environ)
        # The drill creates a database of its own beside this one, and drops it.
        if not is_postgresql(env.get("DATABASE_URL", "")):
            env["DATABASE_URL"] = DEFAULT_DATABASE_URL
        command = "python manage.py cluster_drill" + "".join(
            f" --{name.replace('_', '-')} {value}"
            for name, value in vars(counts).items()
            if name in options and value != getattr(DrillCounts(), name)
        )
        say = self.stderr.write if verbosity else lambda line: None
        results = cluster_drill(env, counts=counts, command=command, say=say)
        output = Path(output_dir)
        output.mkdir(parents=True, exist_ok=True)
        write_json(results, output / "cluster.json")
        write_cluster_markdown(results, output / "cluster.md")
        if output.resolve() == DOCS.resolve():
            write_readme_cluster(results, Path(settings.BASE_DIR) / "README.md")
        self.stdout.write(f"Wrote {output / 'cluster.md'} and {output / 'cluster.json'}.")
