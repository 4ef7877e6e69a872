"""django-allauth's accounts app as the allauth peer of compare needs it."""

from allauth.account.apps import AccountConfig


class AllauthAccountConfig(AccountConfig):
    """django-allauth's accounts, without its demand for AccountMiddleware in MIDDLEWARE.

    The allauth peer's requests run under a MIDDLEWARE of their own that has it
    (benchmarks.measure); in every other request it would only cost time.
    """

    def ready(self) -> None:
        from allauth.account import checks  # noqa: F401 - registers allauth's system checks
