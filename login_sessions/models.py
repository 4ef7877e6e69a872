"""One row per login, through any way: the managed profile's single source of session truth."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


def login_session_id() -> str:
    """A random id of 128 bits from the operating system's CSPRNG (ASVS 7.2.3).

    Never a database sequence: the id travels in cookies and tokens, and a guessable one
    would let anyone name (and probe) another user's login session.
    """
    return secrets.token_hex(16)


class EndReason(models.TextChoices):
    LOGOUT = "logout", "logged out"
    USER_ENDED = "user_ended", "ended by its user"
    PASSWORD_CHANGED = "password_changed", "ended by a password change"
    ACCOUNT_DISABLED = "account_disabled", "the account was deactivated or deleted"
    ADMIN_ENDED = "admin_ended", "ended by an administrator"
    REFRESH_REUSED = "refresh_reused", "a rotated refresh token was presented again"
    IDLE_TIMEOUT = "idle_timeout", "idle for longer than the inactivity timeout"
    ABSOLUTE_LIFETIME = "absolute_lifetime", "older than the absolute lifetime"
    REPLACED = "replaced", "replaced by a new login in the same client"
    CAP_REACHED = "cap_reached", "the oldest, ended when a new login reached the cap"


class LoginSessionQuerySet(models.QuerySet):
    def live(self, *, now: datetime | None = None) -> "LoginSessionQuerySet":
        """Not ended, and within both the absolute and the inactivity limit."""
        now = now or timezone.now()
        idle = timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
        return self.filter(ended_at__isnull=True, expires_at__gt=now, last_seen_at__gt=now - idle)


class LoginSession(models.Model):
    """One login through one way: who, where from, how long it may live, and whether it has ended.

    Every credential of the managed profile names its login session (the JWTs' `sid` claim,
    the session ways' session data) and is accepted only while the login session is live.
    `generation` counts the credentials the login session has been renewed to (a password
    change): a credential of an older generation is refused although its session lives on.
    """

    id = models.CharField(primary_key=True, max_length=32, default=login_session_id, editable=False)
    # Null once the user is deleted: the row stays, ended, so that a credential it issued
    # is still refused as ended, and the admin still shows what happened.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="login_sessions",
    )
    way = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="the absolute limit, counted from the login")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    generation = models.PositiveIntegerField(default=1)
    # The password this login is bound to (login_sessions.selectors.password_digest): a
    # password change ends every login session it was not bound again to.
    password_digest = models.CharField(max_length=64)
    # The server-side session ways: the key of the Django session this login wrote, so that
    # ending the login session also makes the store forget it.
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    # The token ways: the refresh token now current in this login's family, the one it
    # replaced, and when, for the grace window of concurrent refreshes.
    refresh_jti = models.CharField(max_length=255, blank=True)
    previous_refresh_jti = models.CharField(max_length=255, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    objects = LoginSessionQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=["user", "ended_at"], name="login_session_user_ended"),
            models.Index(fields=["expires_at"], name="login_session_expires"),
        ]

    def __str__(self):
        return f"{self.way} login of {self.user_id} ({self.id[:8]}…)"

    @property
    def idle_expires_at(self) -> datetime:
        return self.last_seen_at + timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)

    @property
    def is_live(self) -> bool:
        now = timezone.now()
        return self.ended_at is None and self.expires_at > now and self.idle_expires_at > now
