"""Delete expired refresh tokens in batches of short transactions: flushexpiredtokens at scale."""

import sys
import time

from django.core.management.base import BaseCommand
from rest_framework_simplejwt.utils import aware_utcnow
from tqdm import tqdm

from jwt_demo.services import token_purge_expired


class Command(BaseCommand):
    help = (
        "Delete expired refresh tokens from the outstanding list, with their blacklist rows, "
        "a batch per short transaction, so logins and refreshes go on while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=10_000, help="tokens per batch")

    def handle(self, *args, batch_size, verbosity, **options):
        now = aware_utcnow()
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
            deleted, blacklisted = token_purge_expired(
                batch_size=batch_size,
                now=now,
                on_start=bar.reset,
                on_batch=batch_done,
            )
        elapsed = time.perf_counter() - started
        if verbosity:
            self.stdout.write(
                f"Deleted {deleted} expired outstanding tokens and {blacklisted} blacklist "
                f"rows in {elapsed:.2f} s (longest batch {longest:.3f} s)."
            )
