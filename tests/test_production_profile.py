"""The production profile (DEBUG off): HTTPS only, __Host- cookies, HSTS, strong keys."""

from http import HTTPStatus

import pytest

from helpers import WayClient, way_named, ways
from security_catalogue import SESSIONS
from test_settings import STRONG_KEY, settings_under


@pytest.fixture
def https_client(way, user, production_profile):
    return WayClient(way, https=True)


@pytest.mark.asvs("3.3.1", "3.3.4")
@pytest.mark.asvs("3.3.3", ways=SESSIONS)
@pytest.mark.wstg("SESS-02", "SESS-09")
@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_credential_cookies_are_secure_host_only_and_httponly(https_client):
    response = https_client.login()

    assert response.status_code == HTTPStatus.OK
    cookies = {name: morsel for name, morsel in response.cookies.items() if "csrftoken" not in name}
    assert cookies
    for name, morsel in cookies.items():
        assert morsel["secure"] is True
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert not morsel["domain"]
        if name.startswith("__Host-"):
            assert morsel["path"] == "/"
        else:  # the refresh token's narrow path rules __Host- out
            assert name == "__Secure-jwt-refresh"
            assert morsel["path"] == "/api/jwt-cookie/auth/"


@pytest.mark.asvs("3.3.1")
@pytest.mark.asvs("3.3.3", ways=SESSIONS)
@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_csrf_cookie_is_secure_and_host_only(https_client):
    response = https_client.client.get(https_client.way.path("login"), secure=True)

    morsel = response.cookies["__Host-csrftoken"]
    assert morsel["secure"] is True
    assert morsel["path"] == "/"


@pytest.mark.wstg("SESS-09")
def test_every_way_works_over_https_and_a_cookie_ways_logout_clears_site_data(https_client):
    assert https_client.login().status_code == HTTPStatus.OK
    assert https_client.resource().status_code == HTTPStatus.OK

    response = https_client.logout()

    assert response.status_code == HTTPStatus.OK
    # Only where the browser holds the credential, behind the CSRF token: the header way's
    # logout, which another site can reach, must never clear every way's cookies.
    expected = '"cache", "cookies"' if https_client.way.transport == "cookie" else None
    assert response.headers.get("Clear-Site-Data") == expected


@pytest.mark.asvs("3.4.1")
@pytest.mark.wstg("SESS-09")
def test_plain_http_is_redirected_to_https(way, user, production_profile):
    response = WayClient(way).client.get(way.path("resource"))

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == f"https://testserver{way.path('resource')}"


@pytest.mark.asvs("3.4.1", "3.4.4", "3.4.5")
@pytest.mark.wstg("SESS-09")
def test_https_answers_carry_hsts_for_a_year_with_subdomains(https_client):
    response = https_client.resource()

    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.asvs("3.3.3")
@pytest.mark.by_design(
    "__Host- demands Path=/; the refresh token would then travel with every request"
)
@pytest.mark.ways("jwt-cookie")
def test_refresh_cookie_trades_the_host_prefix_for_a_narrow_path(user, production_profile):
    response = WayClient(way_named("jwt-cookie"), https=True).login()

    assert response.status_code == HTTPStatus.OK
    assert response.cookies["__Host-jwt-access"]["path"] == "/"
    assert "__Host-jwt-refresh" not in response.cookies
    assert response.cookies["__Secure-jwt-refresh"]["path"] == "/api/jwt-cookie/auth/"


def test_development_profile_sends_no_clear_site_data(way, user):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK

    assert "Clear-Site-Data" not in client.logout()


def check_output(environment: dict[str, str], *arguments: str):
    """`manage.py check` in a fresh interpreter, in the production profile."""
    import subprocess
    import sys

    from test_settings import PROJECT_ROOT, environment_without_project_variables

    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check", *arguments],
        cwd=PROJECT_ROOT,
        env={
            **environment_without_project_variables(),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "example.com",
            **environment,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_production_profile_passes_check_deploy():
    result = check_output({"SECRET_KEY": STRONG_KEY}, "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 50 characters"),
        ({"SECRET_KEY": "x" * 60}, "SECRET_KEY has fewer than 5 different characters"),
        (
            {"SECRET_KEY": "django-insecure-development-only-key-never-use-in-production"},
            "SECRET_KEY is a well-known or development key",
        ),
        (
            {"SECRET_KEY": STRONG_KEY, "JWT_SIGNING_KEY": "changeme"},
            "SIMPLE_JWT['SIGNING_KEY'] (JWT_SIGNING_KEY) is a well-known or development key",
        ),
    ],
    ids=["short", "repetitive", "development", "weak-jwt-key"],
)
def test_weak_signing_key_stops_the_production_profile(environment, message):
    result = check_output(environment)

    assert result.returncode != 0
    assert f"(ways.E001) {message}" in result.stderr


@pytest.mark.parametrize("module", ["manage.py check", "config.wsgi"])
def test_the_plain_cookie_way_stops_the_production_profile(module):
    environment = {"SECRET_KEY": STRONG_KEY, "PLAIN_COOKIE_WAY": "true"}
    if module == "config.wsgi":
        result = settings_under({"DEBUG": "false", **environment}, "DEBUG", module=module)
    else:
        result = check_output(environment)

    assert result.returncode != 0
    assert "PLAIN_COOKIE_WAY is on with DEBUG off" in result.stderr


def test_the_production_profile_serves_no_plain_cookie_way(client, production_profile):
    response = client.post("/api/plain-cookie/auth/login/", secure=True)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "plain_cookie_off"
    assert "plain-cookie" not in client.get("/", secure=True).content.decode()


def test_weak_signing_key_stops_a_wsgi_server_too():
    result = settings_under(
        {"DEBUG": "false", "SECRET_KEY": "short"}, "DEBUG", module="config.wsgi"
    )

    assert result.returncode != 0
    assert "SECRET_KEY is shorter than 50 characters" in result.stderr
