"""Business logic of the login sessions: start, check, touch, renew, rebind and end them.

Every change locks the rows it changes and sets their cache entries while it holds the
locks (see login_sessions.selectors for why that keeps the cache true).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from login_sessions.models import EndReason, LoginSession
from login_sessions.selectors import (
    LiveLoginSession,
    entries_set,
    login_session_entry,
    now_epoch,
    password_digest,
)
from ways.batches import dated_rows_delete
from ways.refusals import REASONS, CredentialRefused
from ways.registry import WAYS_BY_NAME, Way

USER_AGENT_MAX_LENGTH = LoginSession._meta.get_field("user_agent").max_length


def locked(login_sessions: QuerySet[LoginSession]) -> QuerySet[LoginSession]:
    """The login sessions with their users, their rows locked until the transaction ends."""
    return login_sessions.select_related("user").select_for_update(of=("self",))


def login_session_start(*, request: HttpRequest, user: User, way: Way) -> LoginSession:
    """Record a new login through a way; at SESSION_MAX_PER_USER the oldest live one ends."""
    now = timezone.now()
    with transaction.atomic():
        if settings.SESSION_MAX_PER_USER:
            # Locking the user's live sessions queues concurrent logins of the same user, so
            # two of them cannot both find room under the cap.
            live = list(
                locked(LoginSession.objects.live(now=now).filter(user=user)).order_by("-created_at")
            )
            surplus = live[settings.SESSION_MAX_PER_USER - 1 :]
            login_sessions_end(
                login_sessions=LoginSession.objects.filter(pk__in=[s.pk for s in surplus]),
                reason=EndReason.CAP_REACHED,
            )
        login_session = LoginSession.objects.create(
            user=user,
            way=way.name,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.SESSION_ABSOLUTE_LIFETIME),
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX_LENGTH],
            password_digest=password_digest(user),
        )
        entries_set([login_session])
    return login_session


def login_session_check(*, login_session_id: str | None, generation, way: Way) -> LiveLoginSession:
    """The live login session a credential names, or a 401 that says why not.

    The credential must name a login session of this way, of its current generation, live:
    not ended, within its absolute and its inactivity limit. Activity is written at most once
    per SESSION_ACTIVITY_WRITE_INTERVAL, whatever the request rate.
    """
    if not isinstance(login_session_id, str):
        # Issued by the stock profile, which records no login sessions.
        raise CredentialRefused(
            "session_not_found",
            "This credential names no login session: it was issued before the server ran "
            "the managed profile. Log in again.",
        )
    entry = login_session_entry(login_session_id)
    if entry is None:
        raise CredentialRefused("session_ended", ended_detail(None))
    if entry["state"] == "ended":
        raise CredentialRefused("session_ended", ended_detail(entry["reason"]))
    live = LiveLoginSession.from_entry(entry)
    if live.way != way.name:
        raise CredentialRefused("wrong_way")
    if live.generation != generation:
        raise CredentialRefused("password_changed")
    now = now_epoch()
    if (
        now >= live.expires_at
        or now >= live.idle_expires_at
        or not live.user.is_active
        or live.password_digest != live.user.password_digest
        or now - live.last_seen_at >= settings.SESSION_ACTIVITY_WRITE_INTERVAL
    ):
        # Time to write: the entry's last activity may be older than the database's, so
        # the verdict is the locked row's.
        live = login_session_touch(login_session_id=login_session_id)
    return live


def login_session_touch(*, login_session_id: str) -> LiveLoginSession:
    """Record activity on a login session, or end it if a limit has passed; locked."""
    with transaction.atomic():
        login_session = locked(LoginSession.objects.filter(pk=login_session_id)).first()
        if login_session is None:
            raise CredentialRefused("session_ended", ended_detail(None))
        reason = end_reason_due(login_session)
        if reason is None:
            now = timezone.now()
            interval = timedelta(seconds=settings.SESSION_ACTIVITY_WRITE_INTERVAL)
            # Another request may have written it since this one read the entry.
            if now - login_session.last_seen_at >= interval:
                login_session.last_seen_at = now
                login_session.save(update_fields=["last_seen_at"])
            entries_set([login_session])
            return LiveLoginSession.of(login_session)
        if login_session.ended_at is None:
            login_sessions_end(
                login_sessions=LoginSession.objects.filter(pk=login_session.pk), reason=reason
            )
        else:
            entries_set([login_session])
    # Outside the transaction: raised inside, the end would be rolled back with it.
    raise CredentialRefused("session_ended", ended_detail(reason))


def end_reason_due(login_session: LoginSession) -> str | None:
    """Why the login session is over, judged from its row, or None while it is live."""
    if login_session.ended_at is not None:
        return login_session.end_reason
    now = timezone.now()
    if login_session.user is None or not login_session.user.is_active:
        return EndReason.ACCOUNT_DISABLED
    if login_session.password_digest != password_digest(login_session.user):
        return EndReason.PASSWORD_CHANGED
    if now >= login_session.expires_at:
        return EndReason.ABSOLUTE_LIFETIME
    if now >= login_session.idle_expires_at:
        return EndReason.IDLE_TIMEOUT
    return None


def ended_detail(reason: str | None) -> str:
    if reason is None:
        return f"{REASONS['session_ended']} (No login session has this id any more.)"
    label = EndReason(reason).label if reason in EndReason.values else reason
    return f"{REASONS['session_ended']} (It ended: {label}.)"


def login_sessions_end(*, login_sessions: QuerySet[LoginSession], reason: str) -> int:
    """End login sessions that have not ended yet, and every credential they issued.

    Each way forgets what it stored for them (a database session, a cache key, a refresh
    token), so the server keeps nothing that could open them again. Returns how many ended.
    """
    with transaction.atomic():
        ending = list(locked(login_sessions.filter(ended_at__isnull=True)))
        if not ending:
            return 0
        now = timezone.now()
        LoginSession.objects.filter(pk__in=[s.pk for s in ending]).update(
            ended_at=now, end_reason=reason
        )
        for login_session in ending:
            login_session.ended_at, login_session.end_reason = now, reason
        entries_set(ending)
        for way_name, of_way in grouped_by_way(ending).items():
            way = WAYS_BY_NAME.get(way_name)
            if way is not None:
                import_string(way.credentials_forget)(login_sessions=of_way)
    return len(ending)


def grouped_by_way(login_sessions: Iterable[LoginSession]) -> dict[str, list[LoginSession]]:
    groups: dict[str, list[LoginSession]] = {}
    for login_session in login_sessions:
        groups.setdefault(login_session.way, []).append(login_session)
    return groups


def login_session_end(*, login_session_id: str | None, reason: str) -> int:
    if not login_session_id:
        return 0
    return login_sessions_end(
        login_sessions=LoginSession.objects.filter(pk=login_session_id), reason=reason
    )


def login_sessions_rebind(*, user: User, login_sessions: QuerySet[LoginSession]) -> None:
    """Bind login sessions to the user's new password, before it is saved, so they go on.

    Saving the password ends every other login session of the user (the user's post_save).
    """
    with transaction.atomic():
        ids = [session.pk for session in locked(login_sessions.filter(ended_at__isnull=True))]
        LoginSession.objects.filter(pk__in=ids).update(password_digest=password_digest(user))


def login_session_renew(*, login_session_id: str, session_key: str = "") -> LoginSession:
    """Move a login session on to a new generation of credentials: the old ones are refused."""
    with transaction.atomic():
        login_session = locked(LoginSession.objects.filter(pk=login_session_id)).get()
        login_session.generation += 1
        login_session.session_key = session_key or login_session.session_key
        login_session.save(update_fields=["generation", "session_key"])
        entries_set([login_session])
    return login_session


def login_session_record(*, login_session: LoginSession, **fields) -> None:
    """Record what a way issued for a login session it has just started (its session key)."""
    for name, value in fields.items():
        setattr(login_session, name, value)
    login_session.save(update_fields=list(fields))


def login_sessions_user_changed(*, user: User) -> None:
    """After a user is saved: end what the change ends, refresh the rest's snapshots.

    Deactivation ends every login session of the user (ASVS 7.4.2); a new password every one
    not bound to it again (ASVS 7.4.3); any other change only refreshes the cached snapshot.
    """
    with transaction.atomic():
        open_sessions = list(locked(LoginSession.objects.filter(user=user, ended_at__isnull=True)))
        ended_by_password = [
            session.pk
            for session in open_sessions
            if session.password_digest != password_digest(user)
        ]
        if not user.is_active:
            login_sessions_end(
                login_sessions=LoginSession.objects.filter(user=user),
                reason=EndReason.ACCOUNT_DISABLED,
            )
            return
        login_sessions_end(
            login_sessions=LoginSession.objects.filter(pk__in=ended_by_password),
            reason=EndReason.PASSWORD_CHANGED,
        )
        entries_set([s for s in open_sessions if s.pk not in ended_by_password])


def login_sessions_user_deleted(*, user: User) -> None:
    """Before a user is deleted: end every login session of theirs (ASVS 7.4.2)."""
    login_sessions_end(
        login_sessions=LoginSession.objects.filter(user=user), reason=EndReason.ACCOUNT_DISABLED
    )


def login_sessions_purge_expired(*, now: datetime | None = None, **batching) -> int:
    """Delete the login sessions past their absolute limit, in batches; returns how many.

    An ended login session is kept until then: a credential it issued may be presented
    until its own expiry, which the limit caps, and is answered `session_ended`.
    `batching`: ways.batches.dated_rows_delete's keywords.
    """
    expired = LoginSession.objects.filter(expires_at__lt=now or timezone.now())
    return dated_rows_delete(rows=expired, date_field="expires_at", **batching)
