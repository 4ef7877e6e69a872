"""Service outages as 503 JSON: an unreachable Redis or database, not the client, is at fault.

Two places turn an outage into the same answer: DRF's exception handler, for everything a view
does (authentication included, which is where sessions and users are loaded), and the session
middleware, which saves the session after the view has answered. Only errors that mean "could
not reach the service" count: an IntegrityError or a ProgrammingError is a bug and stays a 500.

What each way does while a service is down (tests/test_faults.py proves it):

- Redis down: the cache way answers 503 on every verb. So does cached-db: Django's cached_db
  backend reads past a failed cache read to the database, but then writes the copy back and
  raises, checks new keys and deletes sessions in the cache without catching its errors, and a
  session deleted from the database while its Redis copy lives on would come back when Redis
  does, so a clean 503 is the only honest answer. cookie, db, jwt and jwt-cookie never touch
  Redis and keep working.
- Database down: all six ways answer 503, since every one of them loads the user from the
  database on each request (and log in checks the password there).
"""

import logging
from http import HTTPStatus

import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django_redis.exceptions import ConnectionInterrupted
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from ways.refusals import REASONS, CredentialRefused

logger = logging.getLogger(__name__)

SESSION_STORE_UNAVAILABLE = {
    "detail": "The session store (Redis) is unreachable; try again later.",
    "code": "session_store_unavailable",
}
DATABASE_UNAVAILABLE = {
    "detail": "The database is unreachable; try again later.",
    "code": "database_unavailable",
}

# django-redis's cache methods re-raise redis-py's own error (ConnectionInterrupted.__cause__);
# its lower-level client raises ConnectionInterrupted itself.
REDIS_OUTAGES = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionInterrupted,
)
# Refused or lost connections, and SQLite's "database is locked": all worth a retry.
DATABASE_OUTAGES = (OperationalError, InterfaceError)
SERVICE_OUTAGES = REDIS_OUTAGES + DATABASE_OUTAGES


class AnswerableError(Exception):
    """An error that is the client's to hear of, with its own status, code and sentence."""

    status: HTTPStatus
    code: str

    @property
    def detail(self) -> str:
        raise NotImplementedError("subclasses of AnswerableError must provide detail")

    def body(self) -> dict[str, str]:
        return {"detail": self.detail, "code": self.code}


def outage_body(error: BaseException) -> dict | None:
    """The 503 body for an error that means a service is unreachable, or None."""
    if isinstance(error, REDIS_OUTAGES):
        return SESSION_STORE_UNAVAILABLE
    if isinstance(error, DATABASE_OUTAGES):
        return DATABASE_UNAVAILABLE
    return None


def outage_log(error: BaseException, body: dict) -> None:
    logger.error("%s: %s", body["code"], error, exc_info=error)


def api_exception_handler(exc, context):
    """DRF's exception handler: every 401 says why, an unreachable service is a 503 JSON."""
    response = exception_handler(exc, context)
    if response is not None:
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            response.data = refusal_body(exc)
        elif isinstance(exc.detail, str):
            # A one-sentence error (415, 405, 403, a parse error) says what it is, as a 401
            # does.
            response.data = {"detail": str(exc.detail), "code": str(exc.get_codes())}
        elif isinstance(exc, ValidationError):
            # Field errors name their fields; the code says that the body was refused.
            errors = (
                exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            )
            response.data = {**errors, "code": "invalid"}
        return response
    answer = error_answer(exc)
    if answer is None:
        return None
    # As DRF does for the errors it handles: a request that failed commits nothing.
    set_rollback()
    return Response(*answer)


def refusal_body(exc: NotAuthenticated | AuthenticationFailed) -> dict[str, str]:
    """{"detail", "code"} for a 401, whoever raised it: the project's own reason, or REASONS'.

    DRF raises its own (NotAuthenticated from IsAuthenticated): its code is one of REASONS,
    its default sentence is replaced by the project's. Anything else is "invalid".
    """
    if isinstance(exc, CredentialRefused):
        return {"detail": str(exc.detail), "code": str(exc.get_codes())}
    code = exc.get_codes()
    code = code if isinstance(code, str) and code in REASONS else "credential_invalid"
    return {"detail": REASONS[code], "code": code}


def error_answer(error: BaseException) -> tuple[dict, HTTPStatus] | None:
    """The body and status for an error the client should hear of, or None for a bug.

    An AnswerableError gives its own; an outage, wherever it happened, is a 503. Django wraps
    some (a session's save that failed on the database is a SessionInterrupted): the chain of
    causes is searched.
    """
    while error is not None:
        if isinstance(error, AnswerableError):
            return error.body(), error.status
        if (body := outage_body(error)) is not None:
            outage_log(error, body)
            return body, HTTPStatus.SERVICE_UNAVAILABLE
        error = error.__cause__ or error.__context__
    return None


def error_response(error: BaseException) -> JsonResponse | None:
    """error_answer() as a response, for code outside DRF's views (middleware)."""
    answer = error_answer(error)
    if answer is None:
        return None
    response = JsonResponse(answer[0], status=answer[1])
    add_never_cache_headers(response)
    return response
