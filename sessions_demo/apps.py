"""App configuration for the session ways."""

from django.apps import AppConfig


class SessionsDemoConfig(AppConfig):
    name = "sessions_demo"
    verbose_name = "Session ways"
