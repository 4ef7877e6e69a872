"""Delete expired database sessions in batches of short transactions: clearsessions at scale."""

import sys
import time

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from sessions_demo.services import session_purge_expired


class Command(BaseCommand):
    help = (
        "Delete expired sessions from django_session (the db and cached-db ways, and the "
        "admin's), a batch per statement, so logins go on while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=10_000, help="rows per DELETE")

    def handle(self, *args, batch_size, verbosity, **options):
        now = timezone.now()
        started = time.perf_counter()
        # The longest batch is the longest time a login may wait for this command's lock.
        longest, last_mark = 0.0, started

        def batch_done(rows: int, *_) -> None:
            nonlocal longest, last_mark
            mark = time.perf_counter()
            longest, last_mark = max(longest, mark - last_mark), mark
            bar.update(rows)

        # disable=None: a bar on a terminal, nothing in a log or a pipe.
        with tqdm(
            unit="rows",
            unit_scale=True,
            file=sys.stderr,
            disable=None if verbosity else True,
        ) as bar:
            deleted = session_purge_expired(
                batch_size=batch_size, now=now, on_start=bar.reset, on_batch=batch_done
            )
        elapsed = time.perf_counter() - started
        if verbosity:
            self.stdout.write(
                f"Deleted {deleted} expired sessions in {elapsed:.2f} s "
                f"(longest batch {longest:.3f} s)."
            )
