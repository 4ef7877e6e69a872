"""Changing the password through every way: the old one asked, the new one judged, others ended."""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import OperationalError

import jwt_demo.views
import sessions_demo.views
from accounts.models import User
from accounts.services import OTHER_SESSIONS_END, WRONG_OLD_PASSWORD

from helpers import PASSWORD, WayClient, ended_or

NEW_PASSWORD = "a fresh passphrase, long enough"


def unchanged(user: User) -> bool:
    user.refresh_from_db()
    return user.check_password(PASSWORD)


@pytest.mark.asvs("6.2.2", "7.4.3")
def test_the_session_goes_on_under_a_new_credential_and_every_other_one_ends(
    logged_in, user, session_policy
):
    other_session = WayClient(logged_in.way)
    assert other_session.login().status_code == HTTPStatus.OK
    copy_before = logged_in.replaying(logged_in.credential)

    answer = logged_in.password_change(PASSWORD, NEW_PASSWORD)

    assert answer.status_code == HTTPStatus.OK, answer.content
    assert answer.json()["username"] == "alice"
    assert logged_in.resource().status_code == HTTPStatus.OK
    if logged_in.way.kind == "token":
        assert logged_in.refresh().status_code == HTTPStatus.OK
    # The other login, and a copy of this one's credential from before the change. The
    # managed profile ends the other login session, and says so.
    replaced = {"password_changed", "session_not_found"}
    ended = replaced if session_policy == "stock" else {"session_ended"}
    for refused, codes in ((other_session, ended), (copy_before, replaced)):
        answer = refused.resource()
        assert answer.status_code == HTTPStatus.UNAUTHORIZED
        assert answer.json()["code"] in codes
    if logged_in.way.kind == "token":
        code = other_session.refresh().json()["code"]
        assert code == ended_or(session_policy, "password_changed")


@pytest.mark.asvs("6.2.2")
def test_the_new_password_logs_in_and_the_old_one_no_longer_does(logged_in, user):
    assert logged_in.password_change(PASSWORD, NEW_PASSWORD).status_code == HTTPStatus.OK

    fresh = WayClient(logged_in.way)
    assert fresh.login(password=PASSWORD).status_code == HTTPStatus.UNAUTHORIZED
    assert fresh.login(password=NEW_PASSWORD).status_code == HTTPStatus.OK
    assert fresh.resource().status_code == HTTPStatus.OK


@pytest.mark.asvs("6.2.3")
def test_a_wrong_old_password_changes_nothing(logged_in, user):
    answer = logged_in.password_change("not the password", NEW_PASSWORD)

    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert answer.json() == {"old_password": [WRONG_OLD_PASSWORD], "code": "invalid"}
    assert unchanged(user)
    assert logged_in.resource().status_code == HTTPStatus.OK


@pytest.mark.asvs("6.2.3")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD}, "new_password"),
        ({"old_password": PASSWORD, "new_password": 12345678901}, "new_password"),
        ({"old_password": [PASSWORD], "new_password": NEW_PASSWORD}, "old_password"),
        (
            {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "end_other_sessions": "?"},
            "end_other_sessions",
        ),
    ],
    ids=["no old password", "no new password", "a number", "a list", "not a boolean"],
)
def test_a_body_without_both_passwords_is_a_400_naming_the_field(logged_in, user, body, field):
    answer = logged_in.post("password", body)

    assert answer.status_code == HTTPStatus.BAD_REQUEST
    errors = answer.json()
    assert set(errors) == {field, "code"}
    assert errors["code"] == "invalid"
    assert isinstance(errors[field], list)
    assert unchanged(user)


@pytest.mark.parametrize(
    ("new_password", "validator_says"),
    [
        ("short1", "This password is too short."),
        ("password123", "This password is too common."),
        ("83920174655392", "This password is entirely numeric."),
        ("alice@example.com", "The password is too similar to the"),
    ],
    ids=["too short", "too common", "numeric", "like the account"],
)
def test_djangos_validators_judge_the_new_password(logged_in, user, new_password, validator_says):
    answer = logged_in.password_change(PASSWORD, new_password)

    assert answer.status_code == HTTPStatus.BAD_REQUEST
    messages = answer.json()["new_password"]
    assert any(message.startswith(validator_says) for message in messages), messages
    assert unchanged(user)


@pytest.mark.policy("stock")
def test_keeping_the_other_sessions_is_refused_in_the_stock_profile(logged_in, user):
    answer = logged_in.password_change(PASSWORD, NEW_PASSWORD, end_other_sessions=False)

    assert answer.status_code == HTTPStatus.BAD_REQUEST
    assert answer.json()["end_other_sessions"] == [OTHER_SESSIONS_END]
    assert unchanged(user)


def test_nobody_logged_in_changes_no_password(way_client, user):
    answer = way_client.password_change(PASSWORD, NEW_PASSWORD)

    assert answer.status_code == HTTPStatus.UNAUTHORIZED
    assert answer.json()["code"] == "not_authenticated"
    assert unchanged(user)


@pytest.mark.asvs("6.3.1")
def test_guessing_the_old_password_counts_toward_the_login_lockout(logged_in, user):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [
        logged_in.password_change(f"guess {n}", NEW_PASSWORD).status_code for n in range(limit)
    ]

    assert statuses == [HTTPStatus.BAD_REQUEST] * (limit - 1) + [HTTPStatus.TOO_MANY_REQUESTS]
    # Locked out: the right old password too, and the login with it.
    assert logged_in.password_change(PASSWORD, NEW_PASSWORD).status_code == 429
    assert WayClient(logged_in.way).login().status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert unchanged(user)


def test_no_new_password_without_the_credential_to_go_on_with(logged_in, user, monkeypatch):
    def database_gone(**_):
        raise OperationalError("the database went away")

    # What each way renews the credential with, failing as an outage would.
    monkeypatch.setattr(sessions_demo.views, "session_password_changed", database_gone)
    monkeypatch.setattr(jwt_demo.views, "token_password_changed", database_gone)

    answer = logged_in.password_change(PASSWORD, NEW_PASSWORD)

    assert answer.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert answer.json()["code"] == "database_unavailable"
    assert unchanged(user)
    assert logged_in.resource().status_code == HTTPStatus.OK
