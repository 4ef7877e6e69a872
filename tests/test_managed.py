"""The managed profile: every login is a login session its user can list and end, on every way."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from login_sessions.models import EndReason, LoginSession
from testing.clients import jwt_claims
from ways.registry import WAYS

from helpers import PASSWORD, WayClient, way_named, ways

pytestmark = pytest.mark.policy("managed")

NEW_PASSWORD = "a fresh passphrase, long enough"
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
LOGIN_SESSIONS_URL = "/admin/login_sessions/loginsession/"
END_EVERYONE_URL = LOGIN_SESSIONS_URL + "end-everyone/"
USERS_URL = "/admin/accounts/user/"


def sessions_of(client: WayClient):
    return client.send("GET", client.path("sessions"))


def end(client: WayClient, scope: str, password: str = PASSWORD, **more):
    return client.post("sessions_end", {"password": password, "scope": scope, **more})


def logged_in_through(way, **client_defaults) -> WayClient:
    client = WayClient(way, **client_defaults)
    assert client.login().status_code == HTTPStatus.OK
    return client


@pytest.fixture
def every_way(user) -> dict[str, WayClient]:
    """One client per way, each logged in as the same user: six login sessions."""
    return {way.name: logged_in_through(way) for way in WAYS}


def resource_code(client: WayClient) -> str | None:
    response = client.resource()
    return None if response.status_code == HTTPStatus.OK else response.json()["code"]


def refresh_token_of(client: WayClient) -> str:
    if client.uses_cookies:
        return client.client.cookies["jwt-refresh"].value
    return client.tokens["refresh"]


def holding_refresh_token(client: WayClient, token: str) -> WayClient:
    """A client that presents this refresh token, as its owner or a thief would."""
    holder = WayClient(client.way)
    if holder.uses_cookies:
        holder.client.cookies["jwt-refresh"] = token
    else:
        holder.tokens = {"refresh": token}
    return holder


def login_session_of(client: WayClient) -> LoginSession:
    listed = [entry for entry in sessions_of(client).json()["sessions"] if entry["current"]]
    return LoginSession.objects.get(pk=listed[0]["id"])


# --- Listing and ending your own sessions (ASVS 7.5.2) ----------------------------------------


@pytest.mark.asvs("7.5.2")
def test_every_way_lists_the_login_sessions_of_all_six_ways(way, every_way):
    response = sessions_of(every_way[way.name])

    assert response.status_code == HTTPStatus.OK
    listed = response.json()["sessions"]
    assert sorted(entry["way"] for entry in listed) == sorted(w.name for w in WAYS)
    assert [entry["way"] for entry in listed if entry["current"]] == [way.name]
    assert set(listed[0]) == {
        "id",
        "way",
        "created_at",
        "last_seen_at",
        "expires_at",
        "idle_expires_at",
        "ip",
        "user_agent",
        "current",
    }


def test_a_login_session_shows_its_client_parsed_and_its_address(way, user, settings):
    client = logged_in_through(way, HTTP_USER_AGENT=CHROME_ON_LINUX, REMOTE_ADDR="192.0.2.7")

    (entry,) = sessions_of(client).json()["sessions"]

    assert entry["user_agent"] == "Chrome 131 on Linux"
    assert entry["ip"] == "192.0.2.7"
    login_session = LoginSession.objects.get(pk=entry["id"])
    assert entry["expires_at"] == (
        login_session.created_at + timedelta(seconds=settings.SESSION_ABSOLUTE_LIFETIME)
    ).isoformat().replace("+00:00", "Z")


def test_login_session_ids_are_random_128_bit_values(user):
    client = WayClient(way_named("jwt"))
    for _ in range(20):
        assert client.login().status_code == HTTPStatus.OK

    ids = list(LoginSession.objects.values_list("pk", flat=True))
    assert len(set(ids)) == 20
    assert all(len(pk) == 32 and int(pk, 16) >= 0 for pk in ids)  # 32 hex digits: 128 bits
    assert sorted(ids) != sorted(ids, key=lambda pk: LoginSession.objects.get(pk=pk).created_at)


@pytest.mark.asvs("7.5.2", "7.4.1")
@pytest.mark.wstg("SESS-06")
def test_ending_one_login_session_refuses_its_credential_and_no_other(way, every_way):
    other_way = "jwt" if way.name != "jwt" else "cookie"
    target = login_session_of(every_way[other_way]).pk

    response = end(every_way[way.name], "one", id=target)

    assert (response.status_code, response.json()) == (HTTPStatus.OK, {"ended": 1})
    codes = {name: resource_code(client) for name, client in every_way.items()}
    assert codes == {name: "session_ended" if name == other_way else None for name in codes}


@pytest.mark.asvs("7.5.2")
def test_ending_the_others_keeps_only_this_login_session(way, every_way):
    response = end(every_way[way.name], "others")

    assert response.json() == {"ended": len(WAYS) - 1}
    codes = {name: resource_code(client) for name, client in every_way.items()}
    assert codes == {name: None if name == way.name else "session_ended" for name in codes}


@pytest.mark.asvs("7.5.2")
def test_ending_all_ends_this_login_session_too(way, every_way):
    response = end(every_way[way.name], "all")

    assert response.json() == {"ended": len(WAYS)}
    assert {resource_code(client) for client in every_way.values()} == {"session_ended"}


@pytest.mark.asvs("7.5.2")
def test_ending_sessions_needs_the_password_and_a_wrong_one_ends_nothing(way, every_way):
    response = end(every_way[way.name], "all", password="not the password")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {
        "detail": "The password is not the account's password: nothing was ended.",
        "code": "reauthentication_failed",
    }
    assert {resource_code(client) for client in every_way.values()} == {None}


def test_guessing_the_password_to_end_sessions_counts_toward_the_lockout(logged_in, settings):
    statuses = [
        end(logged_in, "others", password=f"guess {attempt}").status_code
        for attempt in range(settings.AXES_FAILURE_LIMIT)
    ]

    assert statuses[:-1] == [HTTPStatus.FORBIDDEN] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    assert end(logged_in, "others").status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_another_users_login_session_cannot_be_ended(logged_in, user):
    User.objects.create_user(username="bob", password=PASSWORD)
    bob = WayClient(way_named("jwt"))
    assert bob.login(username="bob").status_code == HTTPStatus.OK

    response = end(logged_in, "one", id=login_session_of(bob).pk)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "session_not_found"
    assert bob.resource().status_code == HTTPStatus.OK


BAD_END_BODIES = {
    "no password": {"scope": "all"},
    "no scope": {"password": PASSWORD},
    "unknown scope": {"password": PASSWORD, "scope": "everyone"},
    "one without an id": {"password": PASSWORD, "scope": "one"},
    "a number for an id": {"password": PASSWORD, "scope": "one", "id": 7},
    "a list": [PASSWORD, "all"],
}


@pytest.mark.parametrize("body", BAD_END_BODIES.values(), ids=BAD_END_BODIES.keys())
def test_a_bad_end_body_is_refused_with_400_and_ends_nothing(logged_in, body):
    response = logged_in.post("sessions_end", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["code"] == "invalid"
    assert logged_in.resource().status_code == HTTPStatus.OK


@pytest.mark.parametrize("way", ways(transport="cookie"))
def test_ending_sessions_through_a_cookie_way_needs_the_csrf_token(logged_in):
    response = logged_in.post("sessions_end", {"password": PASSWORD, "scope": "all"}, csrf=False)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "csrf_failed"
    assert logged_in.resource().status_code == HTTPStatus.OK


def test_listing_and_ending_need_a_credential(way_client):
    assert sessions_of(way_client).status_code == HTTPStatus.UNAUTHORIZED
    assert end(way_client, "all").status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.policy("stock")
def test_the_stock_profile_answers_404_with_a_reason_on_both_endpoints(logged_in, way_client):
    for client in (logged_in, way_client):
        for response in (sessions_of(client), end(client, "all")):
            assert response.status_code == HTTPStatus.NOT_FOUND
            body = response.json()
            assert body["code"] == "managed_profile_required"
            assert "SESSION_POLICY=managed" in body["detail"]
    assert logged_in.resource().status_code == HTTPStatus.OK


# --- Ended means ended, on every way -----------------------------------------------------------


def by_logout(client, user, admin_client):
    assert client.logout().status_code == HTTPStatus.OK


def by_its_user(client, user, admin_client):
    other = logged_in_through(way_named("cookie"))
    assert end(other, "others").json() == {"ended": 1}


def by_a_password_change_elsewhere(client, user, admin_client):
    other = logged_in_through(way_named("jwt"))
    assert other.password_change(PASSWORD, NEW_PASSWORD).status_code == HTTPStatus.OK


def by_a_password_set_in_the_admin(client, user, admin_client):
    user.set_password(NEW_PASSWORD)
    user.save()


def by_deactivation(client, user, admin_client):
    user.is_active = False
    user.save()


def by_deletion(client, user, admin_client):
    user.delete()


def by_an_administrator(client, user, admin_client):
    response = admin_client.post(
        LOGIN_SESSIONS_URL,
        {
            "action": "end_selected",
            ACTION_CHECKBOX_NAME: list(LoginSession.objects.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == HTTPStatus.FOUND


ENDINGS = [
    by_logout,
    by_its_user,
    by_a_password_change_elsewhere,
    by_a_password_set_in_the_admin,
    by_deactivation,
    by_deletion,
    by_an_administrator,
]


@pytest.mark.asvs("7.4.1", "7.4.2", "7.4.3", "7.4.5")
@pytest.mark.wstg("SESS-06")
@pytest.mark.parametrize("ending", ENDINGS, ids=[ending.__name__ for ending in ENDINGS])
def test_every_credential_of_an_ended_login_session_is_refused_at_once(
    logged_in, user, admin_user, ending
):
    admin_client = Client()
    admin_client.force_login(admin_user)
    copies = [logged_in.replaying(logged_in.credential)]
    if logged_in.way.kind == "token":
        copies.append(holding_refresh_token(logged_in, refresh_token_of(logged_in)))

    ending(logged_in, user, admin_client)

    answers = [copies[0].resource()] + [copy.refresh() for copy in copies[1:]]
    assert [(answer.status_code, answer.json()["code"]) for answer in answers] == [
        (HTTPStatus.UNAUTHORIZED, "session_ended")
    ] * len(answers)


@pytest.mark.asvs("7.2.4")
def test_a_login_ends_the_login_session_whose_credential_it_replaces(way, user):
    client = logged_in_through(way)
    before = client.credential

    # The header way's client sends the token it replaces; a browser sends its cookies.
    answer = client.send(
        "POST",
        client.path("login"),
        {"username": "alice", "password": PASSWORD},
        client.csrf_headers(),
    )

    assert answer.status_code == HTTPStatus.OK
    assert resource_code(client.replaying(before)) == "session_ended"
    assert LoginSession.objects.get(end_reason=EndReason.REPLACED).way == way.name


# --- Inactivity and absolute limits (ASVS 7.3.1, 7.3.2) -----------------------------------------


@pytest.mark.asvs("7.3.1")
@pytest.mark.wstg("SESS-07")
def test_inactivity_ends_the_login_session_and_activity_keeps_it(logged_in, settings, time_machine):
    settings.SESSION_IDLE_TIMEOUT = 100  # all of it inside the access token's five minutes
    start = timezone.now()

    time_machine.move_to(start + timedelta(seconds=80), tick=False)
    assert logged_in.resource().status_code == HTTPStatus.OK  # activity, written
    time_machine.move_to(start + timedelta(seconds=160), tick=False)
    assert logged_in.resource().status_code == HTTPStatus.OK  # 80 s idle: still live
    time_machine.move_to(start + timedelta(seconds=261), tick=False)

    assert resource_code(logged_in) == "session_ended"
    assert LoginSession.objects.get().end_reason == EndReason.IDLE_TIMEOUT


@pytest.mark.asvs("7.3.2")
@pytest.mark.wstg("SESS-07")
def test_the_absolute_lifetime_ends_the_login_session_however_active(
    way_client, user, settings, time_machine
):
    settings.SESSION_ABSOLUTE_LIFETIME = 900
    logged_in = logged_in_through(way_client.way)
    start = timezone.now()
    for seconds in range(100, 900, 100):
        time_machine.move_to(start + timedelta(seconds=seconds), tick=False)
        if logged_in.way.kind == "token":
            assert logged_in.refresh().status_code == HTTPStatus.OK
        assert logged_in.resource().status_code == HTTPStatus.OK

    time_machine.move_to(start + timedelta(seconds=901), tick=False)

    # The tokens' own expiry is capped at the limit, so they say they expired; a session
    # that outlived its store's expiry says what the store says.
    assert resource_code(logged_in) in {"session_ended", "credential_expired", "session_not_found"}
    if logged_in.way.kind == "token":
        assert logged_in.refresh().status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("way", ways(kind="token"))
def test_no_token_outlives_its_login_sessions_absolute_limit(logged_in):
    access, refresh = logged_in.credential, refresh_token_of(logged_in)

    limit = int(login_session_of(logged_in).expires_at.timestamp())
    assert jwt_claims(access)["exp"] <= limit
    assert jwt_claims(refresh)["exp"] == limit  # a day's refresh token, capped to the day


def test_activity_is_written_at_most_once_per_interval_whatever_the_rate(logged_in, time_machine):
    start = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        # 100 requests in a minute and a half-second: the last of them past the interval.
        for request in range(1, 101):
            time_machine.move_to(start + timedelta(seconds=0.605 * request), tick=False)
            assert logged_in.resource().status_code == HTTPStatus.OK

    writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("UPDATE") and "login_sessions_loginsession" in query["sql"]
    ]
    assert len(writes) == 1
    assert LoginSession.objects.get().last_seen_at >= start + timedelta(seconds=60)


# --- Refresh token families (ASVS 10.4.5) --------------------------------------------------------


@pytest.mark.asvs("10.4.5")
@pytest.mark.parametrize("way", ways(kind="token"))
def test_a_rotated_refresh_token_presented_again_ends_its_whole_family(
    logged_in, settings, time_machine
):
    stolen = holding_refresh_token(logged_in, refresh_token_of(logged_in))
    assert logged_in.refresh().status_code == HTTPStatus.OK  # the owner rotates it
    time_machine.move_to(
        timezone.now() + timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE + 1), tick=False
    )

    reused = stolen.refresh()

    assert reused.status_code == HTTPStatus.UNAUTHORIZED
    assert reused.json()["code"] == "token_revoked"
    assert "reuse detection" in reused.json()["detail"]
    # The owner's newest refresh token and access token went with it.
    assert resource_code(logged_in) == "session_ended"
    assert logged_in.refresh().json()["code"] == "session_ended"
    assert LoginSession.objects.get().end_reason == EndReason.REFRESH_REUSED


@pytest.mark.asvs("10.4.5")
@pytest.mark.parametrize("way", ways(kind="token"))
def test_within_the_grace_the_replaced_token_yields_the_same_successor_and_never_chains(
    logged_in,
):
    replaced = refresh_token_of(logged_in)
    assert logged_in.refresh().status_code == HTTPStatus.OK
    successor = refresh_token_of(logged_in)

    again = holding_refresh_token(logged_in, replaced)
    assert again.refresh().status_code == HTTPStatus.OK
    assert refresh_token_of(again) == successor  # the same chain, not a second one
    assert again.resource().status_code == HTTPStatus.OK
    assert logged_in.refresh().status_code == HTTPStatus.OK  # the successor rotates on

    # Two rotations on, the first token is no longer the one just replaced: reuse.
    assert holding_refresh_token(logged_in, replaced).refresh().status_code == (
        HTTPStatus.UNAUTHORIZED
    )
    assert resource_code(logged_in) == "session_ended"


# --- Password change, cap -----------------------------------------------------------------------


@pytest.mark.asvs("7.4.3")
def test_a_password_change_may_keep_the_other_login_sessions(logged_in, user):
    other = logged_in_through(way_named("cached-db"))
    copy_before = logged_in.replaying(logged_in.credential)

    answer = logged_in.password_change(PASSWORD, NEW_PASSWORD, end_other_sessions=False)

    assert answer.status_code == HTTPStatus.OK, answer.content
    assert logged_in.resource().status_code == HTTPStatus.OK
    assert other.resource().status_code == HTTPStatus.OK
    # A copy of the credential from before the change is of the old generation.
    assert resource_code(copy_before) in {"password_changed", "session_not_found"}


@pytest.mark.asvs("7.1.2")
@pytest.mark.wstg("SESS-11")
def test_at_the_cap_a_new_login_ends_the_oldest_login_session(way, user, settings):
    settings.SESSION_MAX_PER_USER = 2
    oldest, middle = logged_in_through(way), logged_in_through(way_named("jwt"))

    newest = logged_in_through(way_named("db"))

    assert [resource_code(c) for c in (oldest, middle, newest)] == ["session_ended", None, None]
    assert LoginSession.objects.get(end_reason=EndReason.CAP_REACHED).way == way.name


# --- The admin (ASVS 7.4.5) ---------------------------------------------------------------------


@pytest.mark.asvs("7.4.5")
def test_the_admin_lists_login_sessions_by_way_and_state(admin_client, every_way):
    every_way["jwt"].logout()

    page = admin_client.get(LOGIN_SESSIONS_URL).content.decode()
    live_jwt = admin_client.get(LOGIN_SESSIONS_URL + "?way=jwt&state=live").context["cl"]
    ended = admin_client.get(LOGIN_SESSIONS_URL + "?state=ended").context["cl"]

    assert "End everyone's login sessions" in page
    assert [session.way for session in ended.result_list] == ["jwt"]
    assert live_jwt.result_count == 0
    assert admin_client.get(LOGIN_SESSIONS_URL + "?way=cache").context["cl"].result_count == 1


@pytest.mark.asvs("7.4.5")
def test_the_admin_ends_every_login_session_of_the_selected_users(admin_client, every_way, user):
    response = admin_client.post(
        USERS_URL, {"action": "end_login_sessions", ACTION_CHECKBOX_NAME: [user.pk]}, follow=True
    )

    assert "Ended 6 login sessions." in response.content.decode()
    assert {resource_code(client) for client in every_way.values()} == {"session_ended"}


@pytest.mark.asvs("7.4.5")
def test_the_admin_ends_everyones_login_sessions_after_asking(admin_client, every_way):
    User.objects.create_user(username="bob", password=PASSWORD)
    bob = WayClient(way_named("cache"))
    assert bob.login(username="bob").status_code == HTTPStatus.OK

    question = admin_client.get(END_EVERYONE_URL)
    assert "7 login sessions are live" in question.content.decode()
    assert bob.resource().status_code == HTTPStatus.OK  # asking ends nothing
    admin_client.post(END_EVERYONE_URL)

    assert resource_code(bob) == "session_ended"
    assert {resource_code(client) for client in every_way.values()} == {"session_ended"}


@pytest.mark.policy("stock")
def test_the_stock_admin_says_why_it_lists_no_login_sessions(admin_client):
    page = admin_client.get(LOGIN_SESSIONS_URL).content.decode()
    users = admin_client.get(USERS_URL)

    assert "records no login sessions" in page
    assert "end_login_sessions" not in users.content.decode()


def test_an_admin_without_the_permission_cannot_end_sessions(client, every_way):
    viewer = User.objects.create_user(username="viewer", password=PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_loginsession"))
    client.force_login(viewer)

    assert client.get(LOGIN_SESSIONS_URL).status_code == HTTPStatus.OK
    assert client.post(END_EVERYONE_URL).status_code == HTTPStatus.FORBIDDEN
    assert {resource_code(c) for c in every_way.values()} == {None}
