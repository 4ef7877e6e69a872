"""Every answer under /api/ is JSON with a code: every path, method, size, host and profile."""

from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ways.registry import VERBS, WAYS

PROFILES = ["development", "production"]


@pytest.fixture(params=PROFILES)
def profile(request, settings, db):
    """DEBUG on (Django's debug pages), or the production profile over HTTPS."""
    if request.param == "development":
        settings.DEBUG = True
        return {"secure": False}
    request.getfixturevalue("production_profile")
    settings.DEBUG = False
    return {"secure": True}


def answer(profile, method: str, path: str, *, body: bytes = b"", host: str = "testserver"):
    return Client(HTTP_HOST=host).generic(
        method, path, body, content_type="application/json", **profile
    )


def assert_json_with_code(response) -> dict:
    # The schema is JSON too: application/vnd.oai.openapi+json.
    media_type = response["Content-Type"].split(";")[0]
    assert media_type in {"application/json", "application/vnd.oai.openapi+json"}
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, response.content[:300]
    if response.request["REQUEST_METHOD"] == "HEAD" and not response.content:
        return {}
    body = response.json()
    if response.status_code >= HTTPStatus.MULTIPLE_CHOICES:
        assert isinstance(body.get("code"), str), body
    return body


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_missing_trailing_slash_names_the_right_path(profile, method):
    response = answer(profile, method, "/api/db/auth/login", body=b'{"username": "alice"}')

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert assert_json_with_code(response) == {
        "detail": "No endpoint at /api/db/auth/login; did you mean /api/db/auth/login/?",
        "code": "not_found",
        "path": "/api/db/auth/login/",
    }


@pytest.mark.parametrize("path", ["/api/nothing/here/", "/api/db/auth/refresh/", "/api"])
def test_an_unknown_path_is_a_json_404_that_lists_nothing(profile, path):
    response = answer(profile, "GET", path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    body = assert_json_with_code(response)
    assert body == {
        "detail": f"No endpoint at {path}; GET /api/ways/ lists every one.",
        "code": "not_found",
    }
    assert b"URLconf" not in response.content  # Django's debug page lists every pattern


def test_a_body_over_the_upload_limit_is_a_json_413(profile, settings):
    body = b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    response = answer(profile, "POST", "/api/db/auth/login/", body=body)

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert assert_json_with_code(response)["code"] == "body_too_large"


def test_a_host_not_allowed_is_a_json_400(profile):
    response = answer(profile, "GET", "/api/ways/", host="attacker.example")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert assert_json_with_code(response) == {
        "detail": "This server does not answer for the host in the Host header.",
        "code": "host_not_allowed",
    }


def test_plain_http_in_production_is_a_json_redirect_to_https(db, production_profile):
    response = Client().get("/api/ways/")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "https://testserver/api/ways/"
    assert assert_json_with_code(response) == {
        "detail": "This resource is at https://testserver/api/ways/.",
        "code": "https_required",
    }


def test_pages_outside_the_api_keep_their_html(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"].startswith("text/html")


# Paths built from the real segments and from anything at all, with and without a slash.
REAL_SEGMENTS = sorted({"auth", "schema", "docs", "ways", *VERBS, *(way.name for way in WAYS)})
# The one page under /api/: the API explorer is HTML when it answers 200, JSON otherwise.
EXPLORER = "/api/docs/"
ANY_SEGMENT = st.text(max_size=12).map(lambda text: quote(text, safe=""))
PATHS = st.builds(
    lambda segments, slash: "/api/" + "/".join(segments) + ("/" if slash and segments else ""),
    st.lists(st.sampled_from(REAL_SEGMENTS) | ANY_SEGMENT, max_size=5),
    st.booleans(),
)
METHODS = st.sampled_from(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND"]
)
BODIES = st.sampled_from([b"", b"{}", b'{"username": "alice", "password": "x"}', b"x" * 3_000_000])
HOSTS = st.sampled_from(["testserver", "attacker.example"])


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=PATHS, method=METHODS, body=BODIES, host=HOSTS)
@example(path="/api/jwt/auth/logout", method="POST", body=b"{}", host="testserver")
@example(path="/api/", method="GET", body=b"", host="testserver")
@example(path=EXPLORER, method="GET", body=b"", host="testserver")
@example(path=EXPLORER, method="DELETE", body=b"{}", host="testserver")
def test_every_path_method_size_and_host_gets_json_with_a_code(profile, path, method, body, host):
    response = answer(profile, method, path, body=body, host=host)

    if path == EXPLORER and response.status_code == HTTPStatus.OK:
        assert response["Content-Type"] == "text/html; charset=utf-8"
    elif response.status_code not in {HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED}:
        assert_json_with_code(response)
