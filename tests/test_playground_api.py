"""The playground's endpoints, in-process: what a credential is, its copy replayed, a cart."""

import secrets
from http import HTTPStatus

import pytest
from django.core.cache import caches
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from playground.services import CART_KEY_PREFIX

from helpers import WayClient, ended_or, way_named, ways


def inspected(client: WayClient) -> dict:
    response = client.send("GET", client.way.path("inspect"))
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def copied(client: WayClient) -> str:
    response = client.post("copy")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["copy"]


def replayed(client: WayClient, copy: str, *, tamper: bool = False) -> dict:
    response = client.post("replay", {"copy": copy, "tamper": tamper})
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def test_inspect_shows_what_the_browser_sent_and_never_hands_it_back(logged_in):
    body = inspected(logged_in)

    (sent, *_) = [part for part in body["browser_sent"] if part["received"]]
    assert sent["bytes"] > 0
    # No part of the answer holds the credential itself, nor its signature whole.
    assert logged_in.credential not in str(body)
    if logged_in.way.kind == "token" or logged_in.way.self_contained:
        assert sent["parts"]["payload"]["way"] == logged_in.way.name
        assert sent["parts"]["signature"].endswith("…")
    else:
        assert sent["parts"]["session_id"] == logged_in.credential[:8] + "…"
    if logged_in.way.transport == "cookie":
        assert sent["http_only"] is True


@pytest.mark.parametrize("way", ways(kind="session"))
def test_inspect_reads_what_the_server_keeps_live(logged_in, session_policy):
    kept = inspected(logged_in)["server_keeps"]
    stores = [entry["store"] for entry in kept]

    expected = {
        "cookie": [],
        "db": ["a django_session row"],
        "cache": ["a key in the sessions cache"],
        "cached-db": ["a django_session row", "a key in the sessions cache"],
    }[logged_in.way.name]
    if session_policy == "managed":
        expected = [*expected, "a login session row"]
    assert stores == expected
    assert all(entry["found"] for entry in kept)


@pytest.mark.parametrize("way", ways(kind="token"))
def test_inspect_lists_the_refresh_token_rows_and_says_which_are_blacklisted(logged_in):
    assert logged_in.refresh().status_code == HTTPStatus.OK

    rows = [e for e in inspected(logged_in)["server_keeps"] if "refresh token" in e["store"]]

    assert [row["blacklisted"] for row in rows] == [False, True]  # newest first
    assert OutstandingToken.objects.count() == 2


def test_a_copy_replayed_after_logout_gets_the_documented_answer(logged_in, session_policy):
    copy = copied(logged_in)
    assert replayed(logged_in, copy)["status"] == HTTPStatus.OK

    assert logged_in.logout().status_code == HTTPStatus.OK
    answer = replayed(logged_in, copy)

    # As test_contract's REFUSALS: server-side ways forget, self-contained ones do not.
    if logged_in.way.self_contained and session_policy == "stock":
        assert answer["status"] == HTTPStatus.OK
    else:
        assert answer["status"] == HTTPStatus.UNAUTHORIZED
        assert answer["body"]["code"] == ended_or(session_policy, "session_not_found")


def test_a_tampered_copy_is_refused_as_invalid(logged_in):
    answer = replayed(logged_in, copied(logged_in), tamper=True)

    assert answer["status"] == HTTPStatus.UNAUTHORIZED
    expected = "credential_invalid" if logged_in.way.self_contained else "session_not_found"
    assert answer["body"]["code"] == expected


def test_a_copy_is_of_its_own_way_only(logged_in, user):
    other = WayClient(way_named("jwt" if logged_in.way.name != "jwt" else "cookie"))
    assert other.login().status_code == HTTPStatus.OK

    response = other.post("replay", {"copy": copied(logged_in)})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "copy_not_found"


@pytest.mark.parametrize("body", [{}, {"copy": 7}, {"copy": "x", "tamper": "yes please"}])
def test_a_bad_replay_body_is_a_400(logged_in, body):
    assert logged_in.post("replay", body).status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("way", ways(kind="session"))
def test_a_session_cart_grows_in_the_session_and_the_signed_cookie_overflows(way_client):
    # Items that do not compress, as real ones mostly would not.
    items = [secrets.token_urlsafe(150) for _ in range(25)]
    statuses = [way_client.post("cart", {"item": item}).status_code for item in items]

    if way_client.way.self_contained:
        # About 4096 bytes: the signed cookie cannot hold the cart any more, and says so.
        assert HTTPStatus.INSUFFICIENT_STORAGE in statuses
        refused = statuses.index(HTTPStatus.INSUFFICIENT_STORAGE)
        assert statuses[:refused] == [HTTPStatus.OK] * refused
    else:
        assert statuses == [HTTPStatus.OK] * 25
        cart = way_client.send("GET", way_client.way.path("cart")).json()
        assert len(cart["items"]) == 25
        assert cart["kept"].startswith("In the session:")


@pytest.mark.parametrize("way", ways(kind="token"))
def test_a_token_ways_cart_is_kept_by_the_server_and_needs_a_login(way_client, user):
    caches["default"].delete(f"{CART_KEY_PREFIX}{user.pk}")  # an earlier test's user had the id
    assert way_client.post("cart", {"item": "a book"}).status_code == HTTPStatus.UNAUTHORIZED
    assert way_client.login().status_code == HTTPStatus.OK

    response = way_client.post("cart", {"item": "a book"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["items"] == ["a book"]
    assert "signed once, at login" in response.json()["kept"]


def test_the_playground_is_off_unless_set(logged_in, settings):
    settings.PLAYGROUND = False

    for verb, method in (
        ("inspect", "GET"),
        ("copy", "POST"),
        ("replay", "POST"),
        ("cart", "POST"),
    ):
        headers = logged_in.csrf_headers()
        response = logged_in.send(method, logged_in.way.path(verb), {}, headers)
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json()["code"] == "playground_off"
