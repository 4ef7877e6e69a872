"""Schemathesis drives every operation of the OpenAPI schema through the WSGI app, in process."""

from http import HTTPStatus

import pytest
import schemathesis
from axes.utils import reset as axes_reset
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings

from accounts.services import demo_user_ensure
from config.wsgi import application
from testing.clients import WayClient
from ways.registry import WAYS, way_for_path

from helpers import ways

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # the documented example body of every login

# A fixed seed and a bounded number of examples: the same cases on every run, in seconds.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20_260_101,
        "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "ignored_auth": {"enabled": True},
        },
    }
)


def application_in_the_test_transaction(environ, start_response):
    """Django's WSGI app, called the way Django's test client calls it.

    Django closes old database connections when a request starts and when its response is
    closed; inside a test that would close the connection in the middle of the transaction
    pytest-django rolls back. The test client disconnects that receiver around each request,
    and so does this: the response is read and closed before the receiver is back.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return [body]


schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", application_in_the_test_transaction, config=CONFIG
)


# Schemathesis builds some cases while pytest collects, before any database exists: the auth
# provider only marks where a credential goes, and the test fills in one from a real login.
PENDING = "filled-in-by-a-real-login"


@schema.auth(refresh_interval=None)  # per operation, so never cached
class CredentialFromTheRealLogin:
    """Marks the credential an operation's first security requirement asks for."""

    def get(self, case, context):
        requirements = case.operation.definition.raw.get("security") or [{}]
        return requirements[0] or None

    def set(self, case, data, context):
        schemes = case.operation.schema.raw_schema["components"]["securitySchemes"]
        for name in data:
            scheme = schemes[name]
            if scheme["type"] == "http":
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {PENDING}"}
            else:
                case.cookies = {**(case.cookies or {}), scheme["name"]: PENDING}


def with_fresh_credential(case) -> None:
    """Log in through the way's real login endpoint and put its credential where marked.

    Fresh for every case: cases log out, refresh (which blacklists the refresh token) and
    replay, and ignored_auth compares a valid credential with none and with a wrong one.
    """
    pending_cookies = [name for name, value in (case.cookies or {}).items() if value == PENDING]
    pending_header = (case.headers or {}).get("Authorization") == f"Bearer {PENDING}"
    if not pending_cookies and not pending_header:
        return
    # The generated old passwords of password changes count toward the login lockout, as a
    # wrong password at login does: each case starts with none counted, as it starts logged
    # in afresh.
    axes_reset()
    way_client = WayClient(way_for_path(case.operation.path))
    response = way_client.login(DEMO_USERNAME, DEMO_PASSWORD)
    assert response.status_code == HTTPStatus.OK, response.content
    for name in pending_cookies:
        case.cookies[name] = way_client.client.cookies[name].value
    if pending_header:
        case.headers["Authorization"] = f"Bearer {way_client.tokens['access']}"


@pytest.fixture
def demo_user(db):
    return demo_user_ensure(username=DEMO_USERNAME, password=DEMO_PASSWORD)[0]


@pytest.fixture
def csrf_token(db) -> str:
    """A CSRF token as a browser gets one: from GET on a cookie way's login endpoint."""
    client = Client()
    client.get("/api/db/auth/login/")
    return client.cookies[django_settings.CSRF_COOKIE_NAME].value


def with_real_csrf_token(case, token: str) -> None:
    """Put a valid CSRF token where the case has generated one, and leave missing ones out."""
    if case.headers and "X-CSRFToken" in case.headers:
        case.headers["X-CSRFToken"] = token
    if case.cookies and django_settings.CSRF_COOKIE_NAME in case.cookies:
        case.cookies[django_settings.CSRF_COOKIE_NAME] = token


@pytest.mark.ways(*(way.name for way in WAYS))
@pytest.mark.policy("stock", "managed")  # the login sessions' endpoints answer in managed only
@schema.parametrize()
# The fixtures hold for every case on purpose: one demo user, one CSRF token per operation.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented_and_never_fails(case, demo_user, csrf_token):
    with_fresh_credential(case)
    with_real_csrf_token(case, csrf_token)

    case.call_and_validate()


@pytest.mark.parametrize("verb", ["refresh", "logout"])
@pytest.mark.parametrize("way", ways(transport="header"))
def test_jwt_token_endpoints_answer_a_real_refresh_token_as_documented(demo_user, way, verb):
    # Generated bodies cannot hold a valid refresh token: this case brings a real one.
    way_client = WayClient(way)
    assert way_client.login(DEMO_USERNAME, DEMO_PASSWORD).status_code == HTTPStatus.OK
    case = schema[way.path(verb)]["POST"].Case(
        body={"refresh": way_client.tokens["refresh"]}, media_type="application/json"
    )

    response = case.call_and_validate()

    assert response.status_code == HTTPStatus.OK
