"""Delete expired refresh tokens in batches of short transactions: flushexpiredtokens at scale."""

from rest_framework_simplejwt.utils import aware_utcnow

from jwt_demo.services import token_purge_expired
from ways.batches import PurgeCommand


class Command(PurgeCommand):
    help = (
        "Delete expired refresh tokens from the outstanding list, with their blacklist rows, "
        "a batch per short transaction, so logins and refreshes go on while it runs."
    )

    def purge(self, **batching) -> str:
        deleted, blacklisted = token_purge_expired(now=aware_utcnow(), **batching)
        return f"{deleted} expired outstanding tokens and {blacklisted} blacklist rows"
