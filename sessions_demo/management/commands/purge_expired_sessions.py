"""Delete expired database sessions in batches of short transactions: clearsessions at scale."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from sessions_demo.services import session_purge_expired
from ways.batches import BATCH_SECONDS, BatchProgress, batch_pause


class Command(BaseCommand):
    help = (
        "Delete expired sessions from django_session (the db and cached-db ways, and the "
        "admin's), a batch per statement, so logins go on while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-seconds",
            type=float,
            default=BATCH_SECONDS,
            help="how long one batch may take, in seconds: the longest a login waits",
        )
        parser.add_argument(
            "--batch-size", type=int, default=None, help="a fixed number of rows per DELETE instead"
        )

    def handle(self, *args, batch_size, batch_seconds, verbosity, **options):
        pause = batch_pause()
        with BatchProgress(verbosity=verbosity, pause=pause) as progress:
            deleted = session_purge_expired(
                batch_size=batch_size,
                batch_seconds=batch_seconds,
                pause=pause,
                now=timezone.now(),
                on_start=progress.start if progress.wants_total else None,
                on_batch=progress.batch_done,
            )
        if verbosity:
            self.stdout.write(
                f"Deleted {deleted} expired sessions in {progress.elapsed:.2f} s "
                f"(longest batch {progress.longest:.3f} s)."
            )
