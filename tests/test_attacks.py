"""Attacks on every way in, through the real endpoints; each names the requirement it proves."""

import functools
import json
import logging
import secrets
from http import HTTPStatus

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import signing
from django.http import JsonResponse
from django.test import Client
from jwt.algorithms import RSAAlgorithm

from accounts.models import User
from login_sessions.policy import MANAGED
from sessions_demo.middleware import WaySessionMiddleware
from ways.registry import ways_where

from helpers import PASSWORD, WayClient, ended_or, way_named, ways
from tampering import (
    b64url_decode,
    b64url_encode,
    changed_tail,
    forged_access_token,
    hmac_signed_token,
    jwt_with_alg_none,
)

SESSION_WAY_NAMES = [way.name for way in ways_where(kind="session")]
SERVER_SIDE_WAY_NAMES = ["db", "cache", "cached-db"]
SELF_CONTAINED_WAY_NAMES = ["cookie", "jwt", "jwt-cookie"]


def holding(way_name: str, credential: str) -> WayClient:
    """A client that never logged in and presents the given credential."""
    client = WayClient(way_named(way_name))
    client.credential = credential
    return client


def status_of(way_name: str, credential: str) -> HTTPStatus:
    return HTTPStatus(holding(way_name, credential).resource().status_code)


@pytest.fixture
def forge(user, way, session_policy):
    """forged_access_token for the test's user and way, naming a live login session if the
    profile is managed: an attacker with the key can forge any claim, that one included."""
    claims = {}
    if session_policy == MANAGED:
        client = WayClient(way)
        assert client.login().status_code == HTTPStatus.OK
        issued = json.loads(b64url_decode(client.credential.split(".")[1]))
        claims = {name: issued[name] for name in ("sid", "gen")}
    return functools.partial(forged_access_token, user, way, **claims)


@pytest.fixture(scope="module")
def attacker_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_public(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- self-contained tokens (V9, WSTG-SESS-10) -------------------------------------------


@pytest.mark.parametrize("way", ways(kind="token"))
def test_forged_token_with_the_right_key_is_accepted(way, user, forge):
    # The control for every forgery below: the helper builds tokens the server accepts, so
    # each refusal is caused by the one thing the test changes.
    assert status_of(way.name, forge()) == HTTPStatus.OK


@pytest.mark.asvs("9.1.2")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_unsigned_token_is_refused_in_every_casing_of_none(way, user, alg, forge):
    token = jwt_with_alg_none(forge(), alg=alg)

    assert status_of(way.name, token) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.1.1", "7.2.1")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
def test_token_signed_with_a_wrong_key_is_refused(way, user, forge):
    token = forge(key="a" * 64 + "-not-the-project-key")

    assert status_of(way.name, token) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.1.1")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.parametrize("change", [{"typ": "JWS"}, {"kid": "other"}, {"alg": "HS512"}])
def test_token_with_a_changed_header_is_refused(way, user, change, forge):
    header, payload, signature = forge().split(".")
    claims = {**json.loads(b64url_decode(header)), **change}

    forged = f"{b64url_encode(json.dumps(claims).encode())}.{payload}.{signature}"

    assert status_of(way.name, forged) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.1.2")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
def test_token_signed_with_an_asymmetric_algorithm_is_refused(way, user, attacker_rsa_key, forge):
    token = forge(key=attacker_rsa_key, algorithm="RS256")

    assert status_of(way.name, token) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.1.2")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
def test_hs256_token_keyed_with_a_public_key_is_refused(way, user, attacker_rsa_key, forge):
    # Key confusion: a server that verified RS256 with this public key and also accepted
    # HS256 would take the public key (known to everyone) as an HMAC secret.
    token = hmac_signed_token(forge(), key=pem_public(attacker_rsa_key))

    assert status_of(way.name, token) == HTTPStatus.UNAUTHORIZED


def attacker_headers(attacker_rsa_key) -> dict[str, dict]:
    jwk = json.loads(RSAAlgorithm.to_jwk(attacker_rsa_key.public_key()))
    return {
        "kid": {"kid": "attacker-key"},
        "jwk": {"jwk": jwk},
        "jku": {"jku": "https://attacker.invalid/jwks.json"},
        "x5u": {"x5u": "https://attacker.invalid/cert.pem"},
    }


@pytest.mark.asvs("9.1.3")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.parametrize("header", ["kid", "jwk", "jku", "x5u"])
def test_key_named_by_the_token_is_never_used(way, user, attacker_rsa_key, header, forge):
    headers = attacker_headers(attacker_rsa_key)[header]
    signed_by_attacker = forge(key=attacker_rsa_key, algorithm="RS256", headers=headers)
    signed_by_project = forge(headers=headers)

    # The attacker's key is refused; with the project's key the header changes nothing:
    # keys come from settings only, whatever the token points to.
    assert status_of(way.name, signed_by_attacker) == HTTPStatus.UNAUTHORIZED
    assert status_of(way.name, signed_by_project) == HTTPStatus.OK


@pytest.mark.asvs("9.2.1")
@pytest.mark.wstg("SESS-07", "SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.parametrize(
    "claims",
    [{"exp": 1}, {"nbf": 4_102_444_800}, {"exp": None}],
    ids=["expired", "not-yet-valid", "no-expiry"],
)
def test_token_outside_its_validity_period_is_refused(way, user, claims, forge):
    assert status_of(way.name, forge(**claims)) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.2.2")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.parametrize("token_type", ["refresh", "sliding", None])
def test_token_of_another_type_is_refused_as_access(way, user, token_type, forge):
    token = forge(token_type=token_type)

    assert status_of(way.name, token) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.2.2")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
def test_access_token_is_refused_as_refresh(way, user):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK
    access = client.credential
    if client.uses_cookies:
        client.client.cookies["jwt-refresh"] = access
    else:
        client.tokens["refresh"] = access

    assert client.refresh().status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.2.3", "9.2.4")
@pytest.mark.wstg("SESS-10")
@pytest.mark.parametrize("way", ways(kind="token"))
@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "another-service"},
        {"aud": None},
        {"iss": "https://attacker.invalid"},
        {"iss": None},
    ],
    ids=["wrong-audience", "no-audience", "wrong-issuer", "no-issuer"],
)
def test_token_for_another_audience_or_issuer_is_refused(way, user, claims, forge):
    assert status_of(way.name, forge(**claims)) == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("way", ways(kind="token"))
def test_issued_tokens_name_their_audience_and_issuer(way, user, settings):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK

    claims = json.loads(b64url_decode(client.credential.split(".")[1]))

    assert claims["aud"] == settings.SIMPLE_JWT["AUDIENCE"]
    assert claims["iss"] == settings.SIMPLE_JWT["ISSUER"]


# --- signed-cookie sessions --------------------------------------------------------------


@pytest.mark.asvs("9.1.1", "7.2.1")
@pytest.mark.wstg("SESS-01")
@pytest.mark.ways("cookie")
def test_signed_cookie_forged_with_a_wrong_key_is_refused(user):
    session = {"_auth_user_id": str(user.pk), "way": "cookie"}
    forged = signing.dumps(
        session,
        key="b" * 64 + "-not-the-project-key",
        salt="django.contrib.sessions.backends.signed_cookies",
        compress=True,
    )

    assert status_of("cookie", forged) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.2.2")
@pytest.mark.ways("cookie")
def test_value_signed_for_another_purpose_is_refused_as_a_session(user):
    # The right key, but the default salt: Django signs other values with it too.
    session = {"_auth_user_id": str(user.pk), "way": "cookie"}

    assert status_of("cookie", signing.dumps(session, compress=True)) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("9.1.2")
@pytest.mark.ways("cookie")
@pytest.mark.parametrize("algorithm", ["sha1", "sha512", "md5"])
def test_signed_cookie_with_another_hmac_algorithm_is_refused(user, algorithm):
    # Django's signer verifies with the one algorithm it is configured for (SHA-256): a
    # value signed with the right key under any other algorithm does not verify.
    session = {"_auth_user_id": str(user.pk), "way": "cookie"}
    signer = signing.TimestampSigner(
        salt="django.contrib.sessions.backends.signed_cookies", algorithm=algorithm
    )

    assert status_of("cookie", signer.sign_object(session, compress=True)) == (
        HTTPStatus.UNAUTHORIZED
    )


# --- session ids (V7.2) ------------------------------------------------------------------


@pytest.mark.asvs("7.2.3")
@pytest.mark.wstg("SESS-01")
@pytest.mark.parametrize("way", ways(kind="session", transport="cookie")[1:])
def test_session_ids_are_random_with_at_least_128_bits(way, user):
    keys = set()
    for _ in range(20):
        client = WayClient(way)
        assert client.login().status_code == HTTPStatus.OK
        keys.add(client.credential)

    assert len(keys) == 20
    alphabet = set("abcdefghijklmnopqrstuvwxyz0123456789")
    for key in keys:
        assert len(key) == 32
        assert set(key) <= alphabet
    # 32 characters drawn by Django from a CSPRNG over 36 symbols: 32 * log2(36) > 165 bits.


@pytest.mark.asvs("7.2.4")
@pytest.mark.parametrize(
    "way", [pytest.param(way_named(name), id=name) for name in SERVER_SIDE_WAY_NAMES]
)
def test_login_ends_the_session_it_replaces(way, user):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK
    before = client.credential

    assert client.login().status_code == HTTPStatus.OK

    assert status_of(way.name, before) == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("7.2.4")
@pytest.mark.by_design(
    "a signed cookie or JWT issued earlier stays valid until it expires: the server keeps "
    "no list of what it issued"
)
@pytest.mark.parametrize(
    "way", [pytest.param(way_named(n), id=n) for n in SELF_CONTAINED_WAY_NAMES]
)
@pytest.mark.policy("stock")
def test_login_leaves_an_earlier_self_contained_credential_valid(way, user):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK
    before = client.credential

    assert client.login().status_code == HTTPStatus.OK

    assert status_of(way.name, before) == HTTPStatus.OK


@pytest.mark.wstg("SESS-08")
@pytest.mark.parametrize(
    ("issued_by", "presented_to"),
    [
        ("db", "cache"),
        ("cache", "db"),
        ("db", "cached-db"),
        ("cached-db", "db"),
        ("cached-db", "cache"),
        ("cookie", "db"),
    ],
)
def test_session_of_one_way_means_nothing_to_another(user, issued_by, presented_to):
    client = WayClient(way_named(issued_by))
    assert client.login().status_code == HTTPStatus.OK

    assert status_of(presented_to, client.credential) == HTTPStatus.UNAUTHORIZED


@pytest.mark.wstg("SESS-08")
@pytest.mark.parametrize("way", ways(kind="session"))
def test_admin_session_cookie_is_ignored_by_every_way(way, admin_user):
    admin = Client()
    admin.force_login(admin_user)  # the site-wide engine's cookie, as the admin sets it
    admin_key = admin.cookies["sessionid"].value
    client = WayClient(way)
    client.client.cookies["sessionid"] = admin_key

    assert client.resource().status_code == HTTPStatus.UNAUTHORIZED
    # Nor under the way's own cookie name, though db and cached-db share the admin's table.
    assert status_of(way.name, admin_key) == HTTPStatus.UNAUTHORIZED


# --- accounts that change (V7.4) ---------------------------------------------------------


@pytest.mark.asvs("7.4.2")
@pytest.mark.parametrize("change", ["deactivated", "deleted"])
def test_disabled_or_deleted_account_loses_every_way_in(way, user, change):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK

    if change == "deleted":
        user.delete()
    else:
        user.is_active = False
        user.save()

    assert client.resource().status_code == HTTPStatus.UNAUTHORIZED
    if way.kind == "token":
        assert client.refresh().status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.asvs("7.4.3")
def test_password_change_ends_every_credential_issued_before_it(way, user, session_policy):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK

    user.set_password("a new password, changed elsewhere")
    user.save()

    # Django keeps a hash of the password in every session and compares it on every request;
    # SimpleJWT's CHECK_REVOKE_TOKEN keeps one in every token, access and refresh alike. The
    # managed profile ends every login session the new password was not bound to.
    answers = [client.resource()] + ([client.refresh()] if way.kind == "token" else [])
    for answer in answers:
        assert answer.status_code == HTTPStatus.UNAUTHORIZED
        assert answer.json()["code"] == ended_or(session_policy, "password_changed")
    assert client.login(password="a new password, changed elsewhere").status_code == HTTPStatus.OK
    assert client.resource().status_code == HTTPStatus.OK


# --- exposure (WSTG-SESS-04) -------------------------------------------------------------


@pytest.mark.wstg("SESS-04")
def test_credentials_in_the_query_string_do_not_log_in(way, user):
    client = WayClient(way)
    query = f"?username=alice&password={PASSWORD}"

    response = client.client.post(
        way.path("login") + query,
        b"",
        content_type="application/json",
        headers=client.csrf_headers(),
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert client.client.get(way.path("resource") + query).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.wstg("SESS-04")
def test_error_bodies_never_echo_a_credential(way, user):
    client = WayClient(way)
    wrong = client.login(password="wrong-" + PASSWORD)
    assert client.login().status_code == HTTPStatus.OK
    tampered = changed_tail(client.credential)

    refused = holding(way.name, tampered).resource()

    assert refused.status_code == HTTPStatus.UNAUTHORIZED
    for response in (wrong, refused):
        body = response.content.decode()
        assert PASSWORD not in body
        assert tampered not in body
        assert client.credential not in body


@pytest.mark.wstg("SESS-04")
def test_logs_never_hold_a_credential(way, user, caplog):
    caplog.set_level(logging.DEBUG)
    client = WayClient(way)
    client.login(password="wrong-" + PASSWORD)
    assert client.login().status_code == HTTPStatus.OK
    credential = client.credential
    holding(way.name, changed_tail(credential)).resource()
    client.resource()
    if way.kind == "token":
        client.refresh()
    client.logout()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert PASSWORD not in logged
    assert credential not in logged
    assert credential[:-2] not in logged


@pytest.mark.wstg("SESS-04")
def test_every_answer_about_credentials_is_never_cached(way, user):
    client = WayClient(way)
    responses = [client.login(), client.resource()]
    if way.kind == "token":
        responses.append(client.refresh())
    responses += [client.logout(), client.resource()]

    credential_header = "Cookie" if way.transport == "cookie" else "Authorization"
    for response in responses:
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert credential_header in response["Vary"]


# --- concurrent sessions (V7.1.2, WSTG-SESS-11) -----------------------------------------


@pytest.mark.asvs("7.1.2")
@pytest.mark.wstg("SESS-11")
def test_one_account_may_hold_several_independent_sessions(way, user):
    laptop, phone = WayClient(way), WayClient(way)
    assert laptop.login().status_code == HTTPStatus.OK
    assert phone.login().status_code == HTTPStatus.OK

    assert laptop.logout().status_code == HTTPStatus.OK

    assert phone.resource().status_code == HTTPStatus.OK
    assert phone.credential != laptop.client.cookies.get(laptop.credential_name, "")


def test_other_users_are_untouched_by_an_accounts_changes(way, user):
    bob = User.objects.create_user(username="bob", password=PASSWORD)
    bobs = WayClient(way)
    assert bobs.login(username="bob").status_code == HTTPStatus.OK

    user.set_password("changed")
    user.is_active = False
    user.save()

    assert bobs.resource().json()["user"]["username"] == bob.username


# --- fixation of planted tokens, safe methods, cookie size -------------------------------


@pytest.mark.wstg("SESS-03")
@pytest.mark.ways("jwt-cookie")
def test_planted_token_cookies_are_replaced_at_login(user):
    mallory = User.objects.create_user(username="mallory", password=PASSWORD)
    planted = WayClient(way_named("jwt-cookie"))
    assert planted.login(username=mallory.username).status_code == HTTPStatus.OK
    victim = WayClient(way_named("jwt-cookie"))
    for name, morsel in planted.client.cookies.items():
        victim.client.cookies[name] = morsel.value

    assert victim.login().status_code == HTTPStatus.OK

    assert victim.resource().json()["user"]["username"] == "alice"
    assert victim.credential != planted.credential


@pytest.mark.asvs("3.5.3")
@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_safe_methods_change_no_state(way, user, method):
    client = WayClient(way)
    assert client.login().status_code == HTTPStatus.OK
    send = getattr(client.client, method)

    for verb in ("login", "logout", "refresh"):
        if way.path(verb):
            response = send(way.path(verb), {"username": "alice", "password": PASSWORD})
            assert response.status_code in {HTTPStatus.OK, HTTPStatus.METHOD_NOT_ALLOWED}
            assert not response.cookies.get(client.credential_name), verb

    assert client.resource().status_code == HTTPStatus.OK  # still logged in, not logged out
    fresh = WayClient(way)
    getattr(fresh.client, method)(way.path("login"), {"username": "alice", "password": PASSWORD})
    assert fresh.resource().status_code == HTTPStatus.UNAUTHORIZED  # and no login by GET


@pytest.mark.asvs("3.3.5")
@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_login_cookies_stay_within_4096_bytes(way, user):
    response = WayClient(way).login()

    assert response.status_code == HTTPStatus.OK
    for name, morsel in response.cookies.items():
        assert len(name.encode()) + len(morsel.value.encode()) <= 4096, name


def session_response_with(rf, data_size: int):
    """The cookie way's middleware answering a request whose view stored data_size bytes."""
    request = rf.get("/api/cookie/resource/")
    middleware = WaySessionMiddleware(lambda request: JsonResponse({"stored": True}))
    middleware.process_request(request)
    # Random text: the signed cookie is compressed, and repeated text would shrink to nothing.
    request.session["cart"] = secrets.token_urlsafe(data_size)[:data_size]
    return middleware.process_response(request, JsonResponse({"stored": True}))


@pytest.mark.asvs("3.3.5")
@pytest.mark.ways("cookie")
def test_signed_cookie_session_near_the_limit_is_kept(rf):
    response = session_response_with(rf, 3800)

    assert response.status_code == HTTPStatus.OK
    cookie = response.cookies["cookie-sessionid"]
    assert 3900 < len("cookie-sessionid") + len(cookie.value) <= 4096


@pytest.mark.asvs("3.3.5")
@pytest.mark.ways("cookie")
def test_signed_cookie_session_over_the_limit_fails_loudly(rf, caplog):
    response = session_response_with(rf, 4000)

    assert response.status_code == HTTPStatus.INSUFFICIENT_STORAGE
    body = json.loads(response.content)
    assert body["code"] == "session_too_large"
    assert "nothing was saved" in body["detail"]
    assert "cookie-sessionid" not in response.cookies
    assert "would be" in caplog.text
