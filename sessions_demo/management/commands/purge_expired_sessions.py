"""Delete expired database sessions in batches of short transactions: clearsessions at scale."""

from django.utils import timezone

from sessions_demo.services import session_purge_expired
from ways.batches import PurgeCommand


class Command(PurgeCommand):
    help = (
        "Delete expired sessions from django_session (the db and cached-db ways, and the "
        "admin's), a batch per statement, so logins go on while it runs."
    )

    def purge(self, **batching) -> str:
        deleted = session_purge_expired(now=timezone.now(), **batching)
        return f"{deleted} expired sessions"
