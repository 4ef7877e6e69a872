"""The benchmarks app: compare, bench_scale and their peers, in the development profile only."""

from django.apps import AppConfig
from django.contrib import admin

# The apps of the libraries compare measures the managed profile against (config/settings.py).
PEER_APP_LABELS = frozenset({"knox", "account", "headless", "usersessions", "user_sessions"})


class BenchmarksConfig(AppConfig):
    name = "benchmarks"

    def ready(self) -> None:
        # The peers are measured here, never used: the admin is about the project's ways.
        for model in list(admin.site._registry):
            if model._meta.app_label in PEER_APP_LABELS:
                admin.site.unregister(model)
