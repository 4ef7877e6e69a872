"""Security headers: a Content-Security-Policy on every page and a stricter one on JSON."""

from http import HTTPStatus

import pytest
from django.test import Client

from ways.middleware import JSON_POLICY

from helpers import WayClient


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as directive: sources."""
    header = response["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


def assert_page_policy(response) -> None:
    directives = policy(response)
    # Only what the project serves itself; no plugin, no <base>, no framing, nothing inline.
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)


@pytest.mark.asvs("3.4.3", "3.4.6")
def test_every_way_answers_with_the_strict_json_policy(way, user):
    client = WayClient(way)
    answers = [
        client.client.get(way.path("login")),
        client.resource(),  # 401
        client.login(),
        client.resource(),
        client.logout(),
    ]

    for answer in answers:
        assert answer["Content-Type"] == "application/json"
        assert policy(answer) == {name: list(sources) for name, sources in JSON_POLICY.items()}


@pytest.mark.parametrize("path", ["/", "/admin/login/", "/static/home.css"])
def test_pages_carry_the_page_policy(db, path):
    response = Client().get(path)

    assert response.status_code == HTTPStatus.OK
    assert_page_policy(response)


def test_the_admins_pages_carry_it_signed_in_too(admin_client):
    for path in ("/admin/", "/admin/sessions/session/", "/admin/sessions_demo/cachesession/"):
        response = admin_client.get(path)
        assert response.status_code == HTTPStatus.OK, path
        assert_page_policy(response)


def test_error_pages_carry_it_in_the_production_profile(db, settings):
    settings.DEBUG = False

    response = Client().get("/no-such-page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert_page_policy(response)


def test_json_errors_carry_the_json_policy_even_with_debug_on(db, settings):
    # django-csp leaves out 404s and 500s with DEBUG on, for Django's HTML debug pages.
    settings.DEBUG = True

    response = Client().get("/api/no-such-endpoint/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert policy(response)["default-src"] == ["'none'"]


def test_every_answer_names_the_node_that_served_it(way, user, settings):
    settings.NODE_NAME = "node-2"
    client = WayClient(way)
    answers = [client.login(), client.resource(), Client().get("/"), Client().get("/api/nowhere/")]

    assert [answer["X-Served-By"] for answer in answers] == ["node-2"] * len(answers)


def test_no_node_name_no_header(db):
    assert "X-Served-By" not in Client().get("/api/ways/")
