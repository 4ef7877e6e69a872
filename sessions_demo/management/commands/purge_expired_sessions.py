"""Delete expired database sessions in batches of short transactions: clearsessions at scale."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from sessions_demo.services import session_purge_expired
from ways.batches import BatchProgress, batch_pause


class Command(BaseCommand):
    help = (
        "Delete expired sessions from django_session (the db and cached-db ways, and the "
        "admin's), a batch per statement, so logins go on while it runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=10_000, help="rows per DELETE")

    def handle(self, *args, batch_size, verbosity, **options):
        pause = batch_pause()
        with BatchProgress(verbosity=verbosity, pause=pause) as progress:
            deleted = session_purge_expired(
                batch_size=batch_size,
                pause=pause,
                now=timezone.now(),
                on_start=progress.start,
                on_batch=progress.batch_done,
            )
        if verbosity:
            self.stdout.write(
                f"Deleted {deleted} expired sessions in {progress.elapsed:.2f} s "
                f"(longest batch {progress.longest:.3f} s)."
            )
