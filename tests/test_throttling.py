"""Login throttling (django-axes): per account and per address, on every way and the admin."""

import os
from collections.abc import Iterator
from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from test_multi_instance import ServerPair, two_servers

from testing.clients import WayHttpClient
from testing.servers import demo_database, server_environment
from ways.registry import ways_where

from helpers import PASSWORD, WayClient, ways
from security_catalogue import ALL

LIMIT = settings.AXES_FAILURE_LIMIT
WINDOW_S = int(settings.AXES_COOLOFF_TIME.total_seconds())

pytestmark = pytest.mark.asvs("6.3.1")


def from_address(way, address: str) -> WayClient:
    return WayClient(way, REMOTE_ADDR=address)


def fail_logins(way, *, count: int, username: str = "alice", address: str = "10.0.0.1") -> list:
    return [
        from_address(way, address).login(username=username, password="wrong").status_code
        for _ in range(count)
    ]


def assert_throttled(response) -> int:
    """The 429 of a locked-out login: JSON with a code, and the seconds left in Retry-After."""
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "throttled"
    seconds = int(response["Retry-After"])
    assert 0 < seconds <= WINDOW_S
    assert f"Expected available in {seconds} seconds." in body["detail"]
    return seconds


@pytest.mark.parametrize("way", ways())
def test_an_account_is_locked_after_the_limit_from_any_address(way, user):
    # Each failure from an address of its own: the account's count locks it, not theirs.
    statuses = [
        from_address(way, f"10.0.1.{n}").login(password="wrong").status_code for n in range(LIMIT)
    ]

    assert statuses[:-1] == [HTTPStatus.UNAUTHORIZED] * (LIMIT - 1)
    # The failure that reaches the limit is the first refused as locked out.
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    # The right password, from an address never seen, is refused too until the window ends.
    assert_throttled(from_address(way, "10.0.2.1").login())


@pytest.mark.parametrize("way", ways())
def test_an_address_is_locked_after_the_limit_whatever_the_accounts(way, user):
    statuses = [
        from_address(way, "10.0.3.1").login(username=f"guess-{n}", password="x").status_code
        for n in range(LIMIT)
    ]

    assert statuses == [HTTPStatus.UNAUTHORIZED] * (LIMIT - 1) + [HTTPStatus.TOO_MANY_REQUESTS]
    assert_throttled(from_address(way, "10.0.3.1").login())
    # Another address logs in to the same account: only the guessing address is locked.
    assert from_address(way, "10.0.3.2").login().status_code == HTTPStatus.OK


@pytest.mark.parametrize("way", ways())
def test_the_right_password_works_again_once_the_window_has_passed(way, user):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail_logins(way, count=LIMIT)
        seconds = assert_throttled(from_address(way, "10.0.0.1").login())
        assert seconds == WINDOW_S

        # Trying on during a lockout neither counts nor extends it.
        traveller.shift(timedelta(seconds=WINDOW_S // 2))
        fail_logins(way, count=LIMIT)
        assert assert_throttled(from_address(way, "10.0.0.1").login()) == WINDOW_S - WINDOW_S // 2

        traveller.shift(timedelta(seconds=WINDOW_S - WINDOW_S // 2 + 1))
        assert from_address(way, "10.0.0.1").login().status_code == HTTPStatus.OK


@pytest.mark.parametrize("way", ways())
def test_failures_below_the_limit_leave_the_account_open(way, user):
    assert fail_logins(way, count=LIMIT - 1) == [HTTPStatus.UNAUTHORIZED] * (LIMIT - 1)

    assert from_address(way, "10.0.0.1").login().status_code == HTTPStatus.OK


@pytest.mark.ways(*ALL)
def test_a_lockout_on_one_way_holds_on_every_way_and_leaves_others_alone(user, django_user_model):
    django_user_model.objects.create_user(username="bob", password=PASSWORD)
    first, *others = ways_where()
    fail_logins(first, count=LIMIT)

    for way in others:
        assert_throttled(from_address(way, "10.0.9.9").login())
        assert from_address(way, "10.0.9.9").login(username="bob").status_code == HTTPStatus.OK


def admin_login(client: Client, password: str):
    client.get("/admin/login/")
    return client.post("/admin/login/?next=/admin/", {"username": "alice", "password": password})


@pytest.mark.ways(*ALL)
def test_the_admin_login_is_throttled_too(user):
    user.is_staff = True
    user.save()
    client = Client(REMOTE_ADDR="10.0.4.1")
    statuses = [admin_login(client, "wrong").status_code for _ in range(LIMIT)]

    assert statuses[:-1] == [HTTPStatus.OK] * (LIMIT - 1)  # the form again, with an error
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    locked = admin_login(Client(REMOTE_ADDR="10.0.4.2"), PASSWORD)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 0 < int(locked["Retry-After"]) <= WINDOW_S
    assert b"Too many failed logins" in locked.content
    # The lockout is the account's: the way logins refuse it too.
    assert_throttled(from_address(ways_where()[0], "10.0.4.3").login())


# --- Across processes: two servers sharing one database ---------------------------------------


@pytest.fixture(scope="module")
def servers_sharing_a_database() -> Iterator[ServerPair]:
    """Two gunicorn processes on one fresh database (the run's kind) with the demo user."""
    env = {
        key: value
        for key, value in server_environment(os.environ).items()
        if key not in {"REDIS_URL"}
    }
    with (
        demo_database(env, label="throttle") as database_url,
        two_servers({**env, "DATABASE_URL": database_url}) as pair,
    ):
        yield pair


@pytest.mark.ways(*ALL)
@pytest.mark.policy("stock")  # the servers run the default profile; lockouts do not differ
def test_failures_on_two_servers_count_together(servers_sharing_a_database):
    pair = servers_sharing_a_database
    a, b, listing = pair.a, pair.b, pair.ways
    statuses = []
    for attempt in range(LIMIT):
        client = WayHttpClient(a if attempt % 2 else b, listing["jwt"])
        try:
            statuses.append(client.login(password="wrong").status_code)
        finally:
            client.close()
    on_either = []
    for base_url in (a, b):
        client = WayHttpClient(base_url, listing["db"])
        try:
            on_either.append(client.login().status_code)
        finally:
            client.close()

    # Each server saw half the failures; the database saw them all.
    assert statuses == [HTTPStatus.UNAUTHORIZED] * (LIMIT - 1) + [HTTPStatus.TOO_MANY_REQUESTS]
    assert on_either == [HTTPStatus.TOO_MANY_REQUESTS] * 2
