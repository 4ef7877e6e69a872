"""Bad input, from any body to hostile headers, gets a 4xx JSON answer: never a 500, never HTML."""

import json
import operator
import string
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ways.refusals import REASONS
from ways.registry import ways_where
from ways.schema import responses

from helpers import WayClient, ways

# Bounded and derandomized: the same examples on every run and machine, in a few seconds.
# Examples share the function-scoped user fixture on purpose: only the body varies.
BOUNDED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

POST_ENDPOINTS = [
    pytest.param(way, verb, id=f"{way.name}-{verb}")
    for way in ways_where()
    for verb in ("login", "refresh", "logout", "sessions_end")
    if verb != "refresh" or way.kind == "token"
]

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
HUGE_STRINGS = st.builds(operator.mul, st.characters(), st.integers(10_000, 200_000))
JSON_VALUES = st.recursive(
    JSON_SCALARS | HUGE_STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
# Objects with the fields the endpoints read, so that field validation is reached too.
FIELD_NAMES = st.sampled_from(["username", "password", "refresh", "scope", "id"]) | st.text(
    max_size=8
)
# "alice" is the test user: a wrong password for her reaches the password check.
SHAPED_OBJECTS = st.dictionaries(
    FIELD_NAMES, st.just("alice") | JSON_VALUES, min_size=1, max_size=3
)


def encoded(value, ascii_only: bool) -> bytes:
    # UTF-8 as is, lone surrogates included: those make bytes that are not valid UTF-8.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


JSON_BODIES = st.builds(encoded, JSON_VALUES | SHAPED_OBJECTS, st.booleans())
BODIES = JSON_BODIES | st.binary(max_size=512)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "",
    ]
)

NOT_PROVIDED = {"detail": REASONS["not_authenticated"], "code": "not_authenticated"}


def refusal_code(response) -> str:
    """The code of a 401, checked to come with a plain detail and nothing else."""
    assert response.status_code == HTTPStatus.UNAUTHORIZED, response.content[:500]
    body = assert_json_answer(response)
    assert set(body) == {"detail", "code"}
    assert body["detail"]
    return body["code"]


def assert_json_answer(response) -> dict:
    assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, response.content[:500]
    assert response["Content-Type"] == "application/json", response.content[:500]
    body = response.json()
    assert isinstance(body, dict)
    assert body
    return body


@pytest.mark.parametrize(("way", "verb"), POST_ENDPOINTS)
@BOUNDED
@given(body=BODIES, content_type=CONTENT_TYPES, csrf=st.booleans(), signed_in=st.booleans())
@example(body=b"", content_type="application/json", csrf=True, signed_in=False)
# JSON nested this deep made json.load raise RecursionError: a 500 until ways/parsers.py.
@example(body=b"[" * 100_000, content_type="application/json", csrf=True, signed_in=False)
# Sent as a form, a body that is JSON but no object broke Django's CSRF check (a 500, ditto).
@example(body=b"null", content_type="multipart/form-data; boundary=x", csrf=True, signed_in=True)
@example(
    body=b'{"username": "\\u0000", "password": "\\u0000"}',
    content_type="",
    csrf=True,
    signed_in=False,
)
@example(body=b'{"refresh": "\\ud800"}', content_type="application/json", csrf=True, signed_in=True)
@example(body=b"1" * 5_000, content_type="application/json", csrf=True, signed_in=False)
@example(body=b"NaN", content_type="application/json", csrf=True, signed_in=False)
@example(body=b"\xff\xfe\xfd", content_type="application/json", csrf=True, signed_in=True)
def test_any_body_gets_a_documented_json_answer_never_a_server_error(
    user, way, verb, body, content_type, csrf, signed_in, session_policy
):
    way_client = WayClient(way)
    if signed_in:  # a session way's authentication then runs a CSRF check of its own
        assert way_client.login().status_code == HTTPStatus.OK
    headers = way_client.csrf_headers() if csrf else {}

    # generic() sends the bytes as they are; post() would re-encode them to the charset.
    response = way_client.client.generic(
        "POST", way.path(verb), body, content_type=content_type, headers=headers
    )

    assert_json_answer(response)
    assert response.status_code in responses(way, verb, "POST")
    stock_only_404 = verb == "sessions_end" and session_policy == "stock"
    if way.transport == "cookie" and not csrf and not stock_only_404:
        # Without the token the POST is refused, unless its body fails to parse first.
        assert response.status_code in {HTTPStatus.BAD_REQUEST, HTTPStatus.FORBIDDEN}


# What the jwt way answers: a header that is no Bearer token sends nothing it can read.
HOSTILE_AUTHORIZATION = {
    "only-spaces": ("     ", "not_authenticated"),
    "several-spaces": ("Bearer     not.a.token", "credential_invalid"),
    "no-scheme": ("not.a.token", "not_authenticated"),
    "only-Bearer": ("Bearer", "credential_invalid"),
    "three-values": ("Bearer not a.token", "credential_invalid"),
    "8KB": ("Bearer " + "a" * 8192, "credential_invalid"),
    # A WSGI server hands header bytes over as latin-1 characters.
    "latin-1-bytes": ("Bearer \xe9\xff\x80\x00", "credential_invalid"),
    "three-dots": ("Bearer a.b.c.d", "credential_invalid"),
    "another-scheme": ("Basic ZGVtbzpkZW1vLXBhc3N3b3Jk", "not_authenticated"),
}


@pytest.mark.asvs("7.2.1")
@pytest.mark.wstg("SESS-01")
@pytest.mark.wstg("SESS-10", ways=("jwt",))
@pytest.mark.parametrize("header", HOSTILE_AUTHORIZATION)
@pytest.mark.parametrize("way", ways())
def test_hostile_authorization_header_gets_401_json(db, way, header):
    value, jwt_answer = HOSTILE_AUTHORIZATION[header]

    response = Client().get(way.path("resource"), HTTP_AUTHORIZATION=value)

    # Only the jwt way reads the header; to every other way it is noise.
    expected = jwt_answer if way.transport == "header" else "not_authenticated"
    assert refusal_code(response) == expected


def latin1(text: str) -> str:
    """Text as a WSGI server hands over its UTF-8 bytes: one latin-1 character per byte."""
    return text.encode().decode("latin-1")


SESSION_ID_ALPHABET = (string.ascii_lowercase + string.digits) * 2
HOSTILE_COOKIE_VALUES = {
    "31-characters": SESSION_ID_ALPHABET[:31],
    "33-characters": SESSION_ID_ALPHABET[:33],
    "uppercase": SESSION_ID_ALPHABET[:32].upper(),
    "unicode": latin1("ñ" * 16),
    "8KB": "a" * 8192,
    # A quoted cookie may carry octal escapes: this one is a NUL, which PostgreSQL refuses
    # in a query (a 500 for db and cached-db until sessions_demo/middleware.py checked keys).
    "NUL": f'"\\000{SESSION_ID_ALPHABET[:31]}"',
    "empty": '""',
}
# A session id of the right shape may name a session that is not there; any other value is
# garbled. An emptied cookie is no credential at all.
SHAPED_LIKE_A_SESSION_ID = {"31-characters", "33-characters"}


def malformed_cookie_refusal(way, value: str) -> str:
    if value == "empty":
        return "not_authenticated"
    if way.session_engine and value in SHAPED_LIKE_A_SESSION_ID:
        signed = way.session_engine == django_settings.SESSION_ENGINES["cookie"]
        return "credential_invalid" if signed else "session_not_found"
    return "credential_invalid"


@pytest.mark.asvs("7.2.1")
@pytest.mark.wstg("SESS-01")
@pytest.mark.wstg("SESS-10", ways=("jwt-cookie",))
@pytest.mark.parametrize("value", HOSTILE_COOKIE_VALUES)
@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_malformed_credential_cookie_gets_401_json(db, way, value):
    cookie_name = WayClient(way).credential_name

    response = Client().get(
        way.path("resource"), HTTP_COOKIE=f"{cookie_name}={HOSTILE_COOKIE_VALUES[value]}"
    )

    assert refusal_code(response) == malformed_cookie_refusal(way, value)


def junk_cookies(count: int) -> dict[str, str]:
    """Cookies that look like session ids under names no way uses."""
    return {f"junk{number}": f"{number:032x}" for number in range(count)}


@pytest.mark.asvs("7.2.1")
@pytest.mark.parametrize("way", ways())
def test_hundreds_of_cookies_without_a_credential_get_401_json(db, way):
    cookie_header = "; ".join(f"{name}={value}" for name, value in junk_cookies(300).items())

    response = Client().get(way.path("resource"), HTTP_COOKIE=cookie_header)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert assert_json_answer(response) == NOT_PROVIDED


def test_a_credential_among_hundreds_of_cookies_still_works(logged_in):
    for name, value in junk_cookies(300).items():
        logged_in.client.cookies[name] = value

    response = logged_in.resource()

    assert response.status_code == HTTPStatus.OK
    assert assert_json_answer(response)["way"] == logged_in.way.name


@pytest.mark.parametrize("way", ways(kind="token", transport="cookie"))
def test_an_emptied_refresh_cookie_is_refused_like_a_missing_one(db, way):
    # Found by schemathesis: the empty value reached SimpleJWT's serializer, whose 400 named a
    # body field the cookie way does not have.
    way_client = WayClient(way)
    way_client.client.cookies[django_settings.JWT_REFRESH_COOKIE_NAME] = ""

    response = way_client.post("refresh")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert assert_json_answer(response) == {
        "detail": "No refresh token was sent: log in again.",
        "code": "not_authenticated",
    }
