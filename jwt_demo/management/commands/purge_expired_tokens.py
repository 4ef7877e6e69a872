"""Delete expired refresh tokens in batches of short transactions: flushexpiredtokens at scale."""

from django.core.management.base import BaseCommand
from rest_framework_simplejwt.utils import aware_utcnow

from jwt_demo.services import token_purge_expired
from ways.batches import BATCH_SECONDS, BatchProgress, batch_pause


class Command(BaseCommand):
    help = (
        "Delete expired refresh tokens from the outstanding list, with their blacklist rows, "
        "a batch per short transaction, so logins and refreshes go on while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-seconds",
            type=float,
            default=BATCH_SECONDS,
            help="how long one batch may take, in seconds: the longest a login waits",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="a fixed number of token ids per batch instead",
        )

    def handle(self, *args, batch_size, batch_seconds, verbosity, **options):
        pause = batch_pause()
        with BatchProgress(verbosity=verbosity, pause=pause) as progress:
            deleted, blacklisted = token_purge_expired(
                batch_size=batch_size,
                batch_seconds=batch_seconds,
                pause=pause,
                now=aware_utcnow(),
                on_start=progress.start if progress.wants_total else None,
                on_batch=progress.batch_done,
            )
        if verbosity:
            self.stdout.write(
                f"Deleted {deleted} expired outstanding tokens and {blacklisted} blacklist "
                f"rows in {progress.elapsed:.2f} s (longest batch {progress.longest:.3f} s)."
            )
