"""App configuration for the ways in."""

from django.apps import AppConfig


class WaysConfig(AppConfig):
    name = "ways"
    verbose_name = "Ways in"

    def ready(self):
        from ways import checks  # noqa: F401 - registers the system checks
