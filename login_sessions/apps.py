"""App configuration for the registry of login sessions."""

from django.apps import AppConfig


class LoginSessionsConfig(AppConfig):
    name = "login_sessions"
    verbose_name = "Login sessions (managed profile)"

    def ready(self):
        from login_sessions import signals  # noqa: F401 - connects the user signals
