"""Which session policy the server runs: each way as its library ships it, or managed."""

from django.conf import settings

STOCK = "stock"
MANAGED = "managed"
POLICIES = (STOCK, MANAGED)


def is_managed() -> bool:
    return settings.SESSION_POLICY == MANAGED
