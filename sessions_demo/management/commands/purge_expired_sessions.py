"""Delete expired database sessions in batches of short transactions: clearsessions at scale."""

from django.utils import timezone

from login_sessions.services import login_sessions_purge_expired
from sessions_demo.services import session_purge_expired
from ways.batches import PurgeCommand


class Command(PurgeCommand):
    help = (
        "Delete expired sessions from django_session (the db and cached-db ways, and the "
        "admin's), then the managed profile's login sessions past their absolute limit, a "
        "batch per statement, so logins go on while it runs."
    )

    def purge(self, **batching) -> str:
        now = timezone.now()
        sessions = session_purge_expired(now=now, **batching)
        login_sessions = login_sessions_purge_expired(now=now, **batching)
        return f"{sessions} expired sessions and {login_sessions} expired login sessions"
