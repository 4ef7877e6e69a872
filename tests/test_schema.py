"""The OpenAPI schema: valid without a warning, served as JSON, and true to the registry."""

import json
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.management import call_command

from ways.registry import VERBS, WAYS

COOKIE_WAYS = [way for way in WAYS if way.transport == "cookie"]


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == HTTPStatus.OK
    return response.json()


def operations(schema: dict) -> dict[str, set[str]]:
    return {path: set(methods) for path, methods in schema["paths"].items()}


def test_schema_generates_and_validates_without_a_warning(tmp_path, capsys):
    path = tmp_path / "schema.json"

    # --fail-on-warn raises on any warning or error drf-spectacular reports.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", path
    )

    assert capsys.readouterr().err == ""
    assert json.loads(path.read_text())["openapi"] == "3.0.3"


def test_schema_is_served_as_json_at_api_schema(client):
    response = client.get("/api/schema/")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    assert response.json()["info"]["title"] == "Sessions, cookies or JWT? Six ways in"


def test_schema_documents_every_verb_of_every_way_and_nothing_else(schema):
    methods = {"login": {"get", "post"}, "resource": {"get"}, "sessions": {"get"}}
    expected = {
        way.path(verb): methods.get(verb, {"post"})
        for way in WAYS
        for verb in VERBS
        if way.path(verb)
    }

    assert operations(schema) == {**expected, "/api/ways/": {"get"}}


def test_schema_names_each_ways_credential(schema):
    schemes = {
        name: (scheme["type"], scheme.get("in"), scheme.get("name") or scheme["scheme"])
        for name, scheme in schema["components"]["securitySchemes"].items()
    }

    assert schemes == {
        "cookie-session": ("apiKey", "cookie", "cookie-sessionid"),
        "db-session": ("apiKey", "cookie", "db-sessionid"),
        "cache-session": ("apiKey", "cookie", "cache-sessionid"),
        "cached-db-session": ("apiKey", "cookie", "cached-db-sessionid"),
        "jwt-bearer": ("http", None, "bearer"),
        "jwt-cookie-access": ("apiKey", "cookie", "jwt-access"),
        "jwt-cookie-refresh": ("apiKey", "cookie", "jwt-refresh"),
    }


def test_schema_says_which_endpoints_need_which_credential(schema):
    security = {
        (path, method): operation.get("security")
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if operation.get("security")
    }

    sessions = [way for way in WAYS if way.kind == "session"]
    # A password change and the login sessions need the credential a resource request does.
    as_the_resource = (("resource", "get"), ("password", "post"), ("sessions", "get"))
    as_the_resource += (("sessions_end", "post"),)
    credentials = {way.name: f"{way.name}-session" for way in sessions}
    credentials |= {"jwt": "jwt-bearer", "jwt-cookie": "jwt-cookie-access"}
    assert security == {
        **{
            (way.path(verb), method): [{credentials[way.name]: []}]
            for way in WAYS
            for verb, method in as_the_resource
        },
        # Logging out without a session still succeeds: the credential is optional.
        **{(way.path("logout"), "post"): [{f"{way.name}-session": []}, {}] for way in sessions},
        ("/api/jwt-cookie/auth/refresh/", "post"): [{"jwt-cookie-refresh": []}],
        ("/api/jwt-cookie/auth/logout/", "post"): [{"jwt-cookie-refresh": []}, {}],
    }


def test_schema_asks_cookie_ways_for_the_csrf_token_on_every_post(schema):
    csrf = {
        path: {(parameter["in"], parameter["name"]) for parameter in operation["parameters"]}
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if "parameters" in operation
    }

    assert csrf == {
        way.path(verb): {("header", "X-CSRFToken"), ("cookie", settings.CSRF_COOKIE_NAME)}
        for way in COOKIE_WAYS
        for verb in ("login", "refresh", "logout", "password", "sessions_end")
        if way.path(verb)
    }


def test_schema_documents_the_demo_login_as_the_example_body(schema):
    login = schema["paths"]["/api/db/auth/login/"]["post"]["requestBody"]["content"]

    assert login["application/json"]["examples"]["Demo"]["value"] == {
        "username": "demo",
        "password": "demo-password",
    }


def test_methods_the_schema_leaves_out_answer_405(logged_in, schema):
    documented = operations(schema)
    headers = logged_in.csrf_headers()
    if logged_in.tokens:
        headers["Authorization"] = f"Bearer {logged_in.tokens['access']}"

    for verb in VERBS:
        path = logged_in.way.path(verb)
        if path is None:
            continue
        for method in {"get", "post", "put", "patch", "delete"} - documented[path]:
            # Authenticated and with the CSRF token, so that only the method can be wrong.
            response = logged_in.client.generic(method.upper(), path, headers=headers)

            assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED, (method, path)
            assert response.json() == {
                "detail": f'Method "{method.upper()}" not allowed.',
                "code": "method_not_allowed",
            }
            allowed = {name.strip().lower() for name in response["Allow"].split(",")}
            assert allowed - {"head", "options"} == documented[path]
