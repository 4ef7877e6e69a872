"""The HTTP contract, proved for every way in through its real endpoints."""

import json
import time
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client, override_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from ways.refusals import REASONS, cookie_challenge
from ways.registry import WAYS, ways_where

from helpers import (
    MANAGED_QUERIES_PER_RESOURCE_REQUEST,
    PASSWORD,
    QUERIES_PER_RESOURCE_REQUEST,
    WayClient,
    ended_or,
    way_named,
    ways,
)
from security_catalogue import SELF_CONTAINED, SERVER_SIDE, SESSIONS, TOKENS
from tampering import (
    another_session_id,
    flip_last_character,
    jwt_with_alg_none,
    jwt_with_claims,
    signed_cookie_with_payload,
)


def expected_resource(user: User, way_name: str) -> dict:
    return {
        "way": way_name,
        "user": {"id": user.pk, "username": user.username, "email": user.email},
        "resource": "The same protected resource, reached through every way in.",
    }


def assert_json_error(response, status: HTTPStatus) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body  # a message for the client, never an empty body
    if status == HTTPStatus.UNAUTHORIZED:
        # Every 401 says why: a stable code and a plain sentence, nothing else.
        assert set(body) == {"detail", "code"}
        assert body["code"] in REASONS
        assert body["detail"]
    return body


def refusal_code(response) -> str:
    return assert_json_error(response, HTTPStatus.UNAUTHORIZED)["code"]


def test_listing_names_every_way_with_its_endpoints(client):
    response = client.get("/api/ways/")

    assert response.status_code == HTTPStatus.OK
    listing = response.json()["ways"]
    assert [way["name"] for way in listing] == [
        "cookie",
        "db",
        "cache",
        "cached-db",
        "jwt",
        "jwt-cookie",
    ]
    for way, entry in zip(WAYS, listing, strict=True):
        assert entry == {
            "name": way.name,
            "kind": way.kind,
            "transport": way.transport,
            "login": f"/api/{way.name}/auth/login/",
            "logout": f"/api/{way.name}/auth/logout/",
            "resource": f"/api/{way.name}/resource/",
            "refresh": f"/api/{way.name}/auth/refresh/" if way.kind == "token" else None,
            "password": f"/api/{way.name}/auth/password/",
            "sessions": f"/api/{way.name}/sessions/",
            "sessions_end": f"/api/{way.name}/sessions/end/",
            "state": entry["state"],
        }
        assert entry["state"]


def test_listing_says_when_the_cache_is_local_memory(client, settings):
    settings.REDIS_URL = ""
    states = {way["name"]: way["state"] for way in client.get("/api/ways/").json()["ways"]}

    assert "local-memory cache: only this process can see it" in states["cache"]
    assert "local-memory cache: only this process can see it" in states["cached-db"]


def test_login_then_resource_returns_the_shared_body(logged_in, user):
    response = logged_in.resource()

    assert response.status_code == HTTPStatus.OK
    assert response.json() == expected_resource(user, logged_in.way.name)


def test_resource_body_is_the_same_for_every_way_but_its_name(user):
    bodies = {}
    for way in WAYS:
        way_client = WayClient(way)
        assert way_client.login().status_code == HTTPStatus.OK
        bodies[way.name] = way_client.resource().json()

    assert [body.pop("way") for body in bodies.values()] == list(bodies)
    first, *others = bodies.values()
    assert all(body == first for body in others)


def test_anonymous_resource_request_is_refused_with_401(way_client):
    response = way_client.resource()

    assert refusal_code(response) == "not_authenticated"
    # The challenge names what to send: the Bearer scheme, or the cookie that carries it.
    expected = (
        'Bearer realm="api"'
        if way_client.way.transport == "header"
        else cookie_challenge(way_client.credential_name)
    )
    assert response["WWW-Authenticate"] == expected


def test_resource_answers_json_even_when_the_client_asks_for_html(way_client):
    response = way_client.resource(headers={"Accept": "text/html"})

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["Content-Type"] == "application/json"


def test_wrong_password_is_refused_with_401(way_client):
    response = way_client.login(password="not the password")

    assert assert_json_error(response, HTTPStatus.UNAUTHORIZED) == {
        "detail": "Wrong username or password.",
        "code": "wrong_credentials",
    }


def test_unknown_user_is_refused_like_a_wrong_password(way_client):
    response = way_client.login(username="nobody")

    assert assert_json_error(response, HTTPStatus.UNAUTHORIZED) == {
        "detail": "Wrong username or password.",
        "code": "wrong_credentials",
    }


def test_inactive_user_cannot_log_in(way_client, user):
    user.is_active = False
    user.save()

    assert_json_error(way_client.login(), HTTPStatus.UNAUTHORIZED)


MALFORMED_BODIES = {
    "not json": (b"username=alice&password=x", "application/json"),
    "form encoded": (b"username=alice&password=x", "application/x-www-form-urlencoded"),
    "no content type": (b"{not json", ""),
    "empty body": (b"", "application/json"),
    "missing password": (b'{"username": "alice"}', "application/json"),
    "number username": (b'{"username": 1, "password": "x"}', "application/json"),
    "null password": (b'{"username": "alice", "password": null}', "application/json"),
    "nested object": (b'{"username": {"$ne": ""}, "password": "x"}', "application/json"),
    "list body": (b'["alice", "x"]', "application/json"),
    "string body": (b'"alice"', "application/json"),
    "huge username": (json.dumps({"username": "a" * 100_000, "password": "x"}).encode(), ""),
}


@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_login_body_is_refused_with_400(way_client, body):
    data, content_type = body
    response = way_client.client.post(
        way_client.way.path("login"),
        data,
        content_type=content_type,
        headers=way_client.csrf_headers(),
    )

    # The header way reads only bodies labelled JSON (no CSRF token guards it): another
    # label is a 415 before anything is parsed.
    labelled_json = content_type.startswith("application/json")
    if way_client.way.transport == "header" and not labelled_json:
        body = assert_json_error(response, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
        assert body["code"] == "unsupported_media_type"
    else:
        assert_json_error(response, HTTPStatus.BAD_REQUEST)


@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_cookie_ways_get_login_sets_the_csrf_cookie(way_client):
    response = way_client.client.get(way_client.way.path("login"))

    assert response.status_code == HTTPStatus.OK
    assert response.cookies["csrftoken"].value


@pytest.mark.asvs("3.5.1")
@pytest.mark.wstg("SESS-05")
@pytest.mark.parametrize(
    ("way", "verb"),
    [
        pytest.param(way, verb, id=f"{way.name}-{verb}")
        for way in ways_where(transport="cookie")
        for verb in ("login", "logout", "refresh", "password")
        if verb != "refresh" or way.kind == "token"
    ],
)
def test_cookie_ways_refuse_state_changes_without_csrf_token(logged_in, verb):
    body = {
        "login": {"username": "alice", "password": PASSWORD},
        "password": {"old_password": PASSWORD, "new_password": "a fresh passphrase, long enough"},
    }.get(verb)

    response = logged_in.post(verb, body, csrf=False)

    assert assert_json_error(response, HTTPStatus.FORBIDDEN)["detail"].startswith("CSRF Failed")
    assert logged_in.resource().status_code == HTTPStatus.OK  # nothing happened


@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_cookie_ways_refuse_a_wrong_csrf_token(way_client):
    way_client.csrf_headers()  # the csrftoken cookie is set, the header will not match it

    response = way_client.client.post(
        way_client.way.path("login"),
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
        headers={"X-CSRFToken": "x" * 32},
    )

    assert_json_error(response, HTTPStatus.FORBIDDEN)


@pytest.mark.asvs("3.5.1")
@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_cookie_ways_check_the_referer_over_https(way_client):
    headers = way_client.csrf_headers()

    response = way_client.client.post(
        way_client.way.path("login"),
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
        headers=headers,
        secure=True,
    )

    assert assert_json_error(response, HTTPStatus.FORBIDDEN) == {
        "detail": "CSRF Failed: Referer checking failed - no Referer.",
        "code": "csrf_failed",
    }
    same_site = way_client.client.post(
        way_client.way.path("login"),
        {"username": "alice", "password": PASSWORD},
        content_type="application/json",
        headers={**headers, "Referer": "https://testserver/"},
        secure=True,
    )
    assert same_site.status_code == HTTPStatus.OK


def test_header_way_needs_no_csrf_token(user):
    jwt = WayClient(way_named("jwt"))

    assert jwt.login(csrf=False).status_code == HTTPStatus.OK
    assert jwt.logout().status_code == HTTPStatus.OK


@pytest.mark.wstg("SESS-03")
@pytest.mark.parametrize("way", ways(kind="session"))
def test_session_login_replaces_a_planted_session(way_client, user):
    first = WayClient(way_client.way)
    assert first.login().status_code == HTTPStatus.OK
    planted = first.credential
    way_client.credential = planted

    assert way_client.login().status_code == HTTPStatus.OK

    assert way_client.credential != planted
    assert way_client.resource().status_code == HTTPStatus.OK


@pytest.mark.asvs("7.2.2")
def test_every_login_issues_a_new_credential(logged_in):
    before = logged_in.credential

    assert logged_in.login().status_code == HTTPStatus.OK

    assert logged_in.credential != before


def test_session_ways_each_have_their_own_cookie(user):
    session_ways = ways_where(kind="session")
    browser = WayClient(session_ways[0])
    for way in session_ways:
        browser.way = way
        assert browser.login().status_code == HTTPStatus.OK

    names = {way.session_cookie_name for way in session_ways}
    assert names == {"cookie-sessionid", "db-sessionid", "cache-sessionid", "cached-db-sessionid"}
    assert names <= set(browser.client.cookies)
    # One browser, logged in four ways at once; ending one leaves the others alone.
    browser.way = way_named("db")
    assert browser.logout().status_code == HTTPStatus.OK
    for way in session_ways:
        browser.way = way
        expected = HTTPStatus.UNAUTHORIZED if way.name == "db" else HTTPStatus.OK
        assert browser.resource().status_code == expected, way.name


@pytest.mark.asvs("3.3.2", "3.3.4")
@pytest.mark.wstg("SESS-02")
@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_credential_cookies_are_httponly_and_samesite_lax(way_client):

    response = way_client.login()

    credential_cookies = {
        name: morsel for name, morsel in response.cookies.items() if name != "csrftoken"
    }
    assert credential_cookies
    for morsel in credential_cookies.values():
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["secure"] == ""  # DEBUG-profile default; see the next test


@pytest.mark.asvs("3.3.1")
@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_credential_cookies_are_secure_when_configured(way_client, settings):
    settings.SESSION_COOKIE_SECURE = True

    response = way_client.login()

    secure = {name: m["secure"] for name, m in response.cookies.items() if name != "csrftoken"}
    assert secure
    assert all(secure.values())


def test_jwt_way_hands_both_tokens_over_in_the_body(user):
    response = WayClient(way_named("jwt")).login()

    assert response.status_code == HTTPStatus.OK
    assert set(response.json()) == {"way", "username", "detail", "access", "refresh"}
    assert not response.cookies


def test_jwt_cookie_way_keeps_tokens_out_of_the_body(user):
    response = WayClient(way_named("jwt-cookie")).login()

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"way": "jwt-cookie", "username": "alice", "detail": "Logged in."}
    assert response.cookies["jwt-access"]["path"] == "/"
    # The refresh token reaches the refresh and logout endpoints, never the resource.
    assert response.cookies["jwt-refresh"]["path"] == "/api/jwt-cookie/auth/"


@pytest.mark.asvs("7.2.1")
@pytest.mark.wstg("SESS-01")
@pytest.mark.wstg("SESS-10", ways=TOKENS)
@pytest.mark.parametrize(
    ("way_name", "tamper"),
    [
        ("cookie", lambda value, other: signed_cookie_with_payload(value, other)),
        ("cookie", lambda value, other: flip_last_character(value)),
        ("db", lambda value, other: another_session_id(value)),
        ("cache", lambda value, other: another_session_id(value)),
        ("cached-db", lambda value, other: another_session_id(value)),
        ("jwt", lambda value, other: jwt_with_claims(value, {"user_id": str(other.pk)})),
        ("jwt", lambda value, other: flip_last_character(value)),
        ("jwt", lambda value, other: jwt_with_alg_none(value)),
        ("jwt", lambda value, other: jwt_with_alg_none(value, alg="None")),
        ("jwt-cookie", lambda value, other: jwt_with_claims(value, {"user_id": str(other.pk)})),
        ("jwt-cookie", lambda value, other: flip_last_character(value)),
        ("jwt-cookie", lambda value, other: jwt_with_alg_none(value)),
    ],
    ids=[
        "cookie-payload",
        "cookie-signature",
        "db-session-id",
        "cache-session-id",
        "cached-db-session-id",
        "jwt-payload",
        "jwt-signature",
        "jwt-alg-none",
        "jwt-alg-None",
        "jwt-cookie-payload",
        "jwt-cookie-signature",
        "jwt-cookie-alg-none",
    ],
)
def test_tampered_credential_is_refused(user, way_name, tamper):
    other = User.objects.create_user(username="mallory-target", password=PASSWORD)
    honest = WayClient(way_named(way_name))
    assert honest.login().status_code == HTTPStatus.OK
    change = {"_auth_user_id": str(other.pk)} if way_name == "cookie" else other

    attacker = honest.replaying(tamper(honest.credential, change))

    assert_json_error(attacker.resource(), HTTPStatus.UNAUTHORIZED)


def test_garbage_credential_is_refused(way_client):
    way_client.credential = "garbage\u00e9" if way_client.way.transport == "header" else "garbage"

    assert_json_error(way_client.resource(), HTTPStatus.UNAUTHORIZED)


@pytest.mark.asvs("9.2.2")
@pytest.mark.wstg("SESS-08", "SESS-10")
@pytest.mark.ways("jwt")
def test_jwt_refresh_token_used_as_access_token_is_refused(user):
    jwt = WayClient(way_named("jwt"))
    assert jwt.login().status_code == HTTPStatus.OK
    jwt.credential = jwt.tokens["refresh"]

    assert_json_error(jwt.resource(), HTTPStatus.UNAUTHORIZED)


@pytest.mark.asvs("7.3.2", ways=SESSIONS)
@pytest.mark.asvs("9.2.1", ways=SELF_CONTAINED)
@pytest.mark.wstg("SESS-07")
def test_expired_credential_is_refused(way_client, settings, monkeypatch):
    # One-second lifetimes and a real wait: Redis expires keys by its own clock, which no
    # time-travel library reaches. The managed profile's sessions last as long as their
    # login session may (SESSION_ABSOLUTE_LIFETIME), whatever SESSION_COOKIE_AGE says.
    settings.SESSION_COOKIE_AGE = settings.SESSION_ABSOLUTE_LIFETIME = 1
    monkeypatch.setattr(AccessToken, "lifetime", AccessToken.lifetime.__class__(seconds=1))
    assert way_client.login().status_code == HTTPStatus.OK
    assert way_client.resource().status_code == HTTPStatus.OK

    time.sleep(1.5)

    # A cache forgets an expired key, so the id then names nothing; the others can tell.
    expected = "session_not_found" if way_client.way.name == "cache" else "credential_expired"
    assert refusal_code(way_client.resource()) == expected


def test_logout_answers_and_this_client_is_logged_out(logged_in):
    response = logged_in.logout()

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"way": logged_in.way.name, "detail": "Logged out."}
    assert logged_in.resource().status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("7.4.1")
@pytest.mark.wstg("SESS-06")
@pytest.mark.parametrize("way", [pytest.param(way_named(name), id=name) for name in SERVER_SIDE])
def test_logout_revokes_a_replayed_credential(logged_in, session_policy):
    stolen = logged_in.replaying(logged_in.credential)

    assert logged_in.logout().status_code == HTTPStatus.OK

    # The server forgot the session: the id a thief copied now points at nothing (the
    # managed profile remembers that its login session ended).
    assert refusal_code(stolen.resource()) == ended_or(session_policy, "session_not_found")


@pytest.mark.asvs("7.4.1")
@pytest.mark.wstg("SESS-06")
@pytest.mark.policy("managed")
def test_logout_ends_every_copy_of_the_credential_self_contained_ones_too(logged_in):
    stolen = logged_in.replaying(logged_in.credential)

    assert logged_in.logout().status_code == HTTPStatus.OK

    # The signed cookie and the access token name their login session, which has ended.
    assert refusal_code(stolen.resource()) == "session_ended"


@pytest.mark.asvs("7.4.1")
@pytest.mark.wstg("SESS-06")
@pytest.mark.by_design(
    "the signed cookie and the JWT access token are self-contained: the server checks a "
    "signature and an expiry and keeps nothing it could delete"
)
@pytest.mark.parametrize("way", [pytest.param(way_named(name), id=name) for name in SELF_CONTAINED])
@pytest.mark.policy("stock")
def test_replayed_credential_outlives_logout_until_it_expires(logged_in):
    stolen = logged_in.replaying(logged_in.credential)

    assert logged_in.logout().status_code == HTTPStatus.OK

    # Django's and SimpleJWT's documented behaviour, explained in the README.
    assert stolen.resource().status_code == HTTPStatus.OK


def test_jwt_cookie_logout_clears_its_cookies(user):
    jwt_cookie = WayClient(way_named("jwt-cookie"))
    assert jwt_cookie.login().status_code == HTTPStatus.OK

    response = jwt_cookie.logout()

    assert response.cookies["jwt-access"].value == ""
    assert response.cookies["jwt-access"]["max-age"] == 0
    assert response.cookies["jwt-refresh"].value == ""
    assert response.cookies["jwt-refresh"]["path"] == "/api/jwt-cookie/auth/"


@pytest.mark.parametrize("way", ways(kind="token"))
def test_logout_blacklists_the_refresh_token(way_client, session_policy):
    assert way_client.login().status_code == HTTPStatus.OK
    stolen = way_client.replaying(way_client.credential)
    refresh_cookie = way_client.client.cookies.get("jwt-refresh")

    assert way_client.logout().status_code == HTTPStatus.OK

    if refresh_cookie is not None:
        stolen.client.cookies["jwt-refresh"] = refresh_cookie.value
    assert refusal_code(stolen.refresh()) == ended_or(session_policy, "token_revoked")


@pytest.mark.asvs("10.4.5")
@pytest.mark.by_design("a rotated refresh token presented again leaves the chain it started alive")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.policy("stock")  # the managed profile's refresh families: tests/test_managed.py
def test_refresh_rotates_and_the_old_refresh_token_is_refused(way_client):
    assert way_client.login().status_code == HTTPStatus.OK
    old = way_client.replaying(way_client.credential)
    if way_client.uses_cookies:
        old.client.cookies["jwt-refresh"] = way_client.client.cookies["jwt-refresh"].value

    response = way_client.refresh()

    assert response.status_code == HTTPStatus.OK
    assert way_client.resource().status_code == HTTPStatus.OK
    assert refusal_code(old.refresh()) == "token_revoked"
    # The rotated token is still good once; reuse of the old one did not revoke it.
    assert way_client.refresh().status_code == HTTPStatus.OK


@pytest.mark.parametrize("way", ways(kind="token"))
def test_refresh_without_a_refresh_token_is_refused(way_client):
    if way_client.uses_cookies:
        assert_json_error(way_client.post("refresh"), HTTPStatus.UNAUTHORIZED)
    else:
        assert_json_error(way_client.post("refresh", {}), HTTPStatus.BAD_REQUEST)
        assert_json_error(way_client.post("refresh", {"refresh": 7}), HTTPStatus.BAD_REQUEST)
        assert_json_error(way_client.post("refresh", {"refresh": "x"}), HTTPStatus.UNAUTHORIZED)


@pytest.mark.parametrize("way", ways(kind="token"))
def test_refresh_for_a_deleted_user_is_refused(way_client, user, session_policy):
    assert way_client.login().status_code == HTTPStatus.OK
    user.delete()

    assert refusal_code(way_client.refresh()) == ended_or(session_policy, "account_disabled")


def test_jwt_logout_with_a_bad_refresh_token_is_refused(user):
    jwt = WayClient(way_named("jwt"))
    jwt.tokens = {"refresh": "not-a-token"}

    assert_json_error(jwt.logout(), HTTPStatus.UNAUTHORIZED)
    assert_json_error(jwt.post("logout", {}), HTTPStatus.BAD_REQUEST)


@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_logout_without_a_session_still_succeeds(way_client):

    response = way_client.logout()

    assert response.status_code == HTTPStatus.OK


def test_queries_per_resource_request(logged_in, django_assert_num_queries, session_policy):
    queries = {
        "stock": QUERIES_PER_RESOURCE_REQUEST,
        "managed": MANAGED_QUERIES_PER_RESOURCE_REQUEST,
    }
    with django_assert_num_queries(queries[session_policy][logged_in.way.name]):
        response = logged_in.resource()

    assert response.status_code == HTTPStatus.OK


def test_resource_request_writes_nothing(logged_in):
    response = logged_in.resource()

    assert response.status_code == HTTPStatus.OK
    assert not response.cookies  # no session re-saved, no token re-issued
    assert settings.SESSION_SAVE_EVERY_REQUEST is False


# --- Every refusal says why -----------------------------------------------------------------


def session_of_the_site_wide_engine(way, user) -> str:
    """A session of the way's own engine that the admin (the site-wide engine) wrote."""
    with override_settings(SESSION_ENGINE=way.session_engine):
        admin = Client()
        admin.force_login(user)
        return admin.cookies[settings.SESSION_COOKIE_NAME].value


def token_of_the_other_token_way(way) -> str:
    other = next(other for other in ways_where(kind="token") if other != way)
    client = WayClient(other)
    assert client.login().status_code == HTTPStatus.OK
    return client.credential


def credential_of_another_way(way, user) -> str:
    if way.kind == "session":
        return session_of_the_site_wide_engine(way, user)
    return token_of_the_other_token_way(way)


def replaying(way, credential: str) -> WayClient:
    thief = WayClient(way)
    thief.credential = credential
    return thief


def garbled(logged_in, user) -> WayClient:
    return replaying(logged_in.way, "garbled!")


def tampered(logged_in, user) -> WayClient:
    return replaying(logged_in.way, flip_last_character(logged_in.credential))


def from_another_way(logged_in, user) -> WayClient:
    return replaying(logged_in.way, credential_of_another_way(logged_in.way, user))


def replayed_after_logout(logged_in, user) -> WayClient:
    stolen = logged_in.replaying(logged_in.credential)
    assert logged_in.logout().status_code == HTTPStatus.OK
    return stolen


def after_a_password_change(logged_in, user) -> WayClient:
    user.set_password("changed elsewhere")
    user.save()
    return logged_in


def of_a_deactivated_account(logged_in, user) -> WayClient:
    user.is_active = False
    user.save()
    return logged_in


# The resource's answer to a credential, per case: for every way unless the way says otherwise.
REFUSALS = {
    garbled: {"*": "credential_invalid"},
    # Any changed character breaks a signature; a changed session id names no session.
    tampered: {"*": "credential_invalid"},
    from_another_way: {"*": "wrong_way"},
    # The signed cookie and the access token outlive a logout (see the by_design tests).
    replayed_after_logout: {
        **dict.fromkeys(SERVER_SIDE, "session_not_found"),
        **dict.fromkeys(SELF_CONTAINED, None),
    },
    after_a_password_change: {"*": "password_changed"},
    of_a_deactivated_account: {"*": "account_disabled"},
}


# In the managed profile a logout, a password change and a deactivation end the login session
# every credential names, self-contained ones included.
MANAGED_REFUSALS = {
    **REFUSALS,
    replayed_after_logout: {"*": "session_ended"},
    after_a_password_change: {"*": "session_ended"},
    of_a_deactivated_account: {"*": "session_ended"},
}


@pytest.mark.parametrize("case", REFUSALS, ids=[case.__name__ for case in REFUSALS])
def test_a_refused_credential_says_why(logged_in, user, case, session_policy):
    refusals = MANAGED_REFUSALS if session_policy == "managed" else REFUSALS
    expected = refusals[case].get(logged_in.way.name, refusals[case].get("*"))

    response = case(logged_in, user).resource()

    if expected is None:
        assert response.status_code == HTTPStatus.OK
    else:
        assert refusal_code(response) == expected


@pytest.mark.parametrize("way", [pytest.param(way_named(name), id=name) for name in SERVER_SIDE])
def test_a_session_id_the_server_never_issued_is_not_found(logged_in):
    thief = replaying(logged_in.way, another_session_id(logged_in.credential))

    assert refusal_code(thief.resource()) == "session_not_found"
