"""The plain-cookie way, insecure on purpose: what it fails, shown; what it shares, proved.

Its column of the security matrix comes from these tests: a test tagged `fails` shows a
weakness the way exists to teach, and must keep passing (the weakness must stay visible);
the others prove what it has in common with every way (CSRF, headers, throttled logins).
"""

from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from test_headers import policy

from accounts.models import User
from login_sessions.models import LoginSession
from login_sessions.services import login_sessions_end
from ways.middleware import JSON_POLICY
from ways.registry import PLAIN_COOKIE, plain_cookie_name

from helpers import PASSWORD, WayClient, way_named

pytestmark = pytest.mark.ways(PLAIN_COOKIE.name)


@pytest.fixture
def plain_cookie_on(settings):
    settings.PLAIN_COOKIE_WAY = True


@pytest.fixture
def plain(plain_cookie_on, user) -> WayClient:
    return WayClient(PLAIN_COOKIE)


@pytest.fixture
def logged_in_plain(plain) -> WayClient:
    assert plain.login().status_code == HTTPStatus.OK
    return plain


@pytest.fixture
def other_user(db) -> User:
    return User.objects.create_user(username="bob", email="bob@example.com", password=PASSWORD)


def holding(value: str) -> WayClient:
    """A fresh client whose only credential is a user_id cookie with this value."""
    client = WayClient(PLAIN_COOKIE)
    client.client.cookies[plain_cookie_name()] = value
    return client


def resource_user(client: WayClient) -> tuple[int, str | None]:
    response = client.resource()
    body = response.json()
    return response.status_code, body.get("user", {}).get("username") or body.get("code")


# --- what it fails ---------------------------------------------------------------------------


@pytest.mark.asvs("7.2.1", "9.1.1", "9.1.2")
@pytest.mark.wstg("SESS-01", "SESS-09")
@pytest.mark.fails("the server believes whatever user id the cookie holds")
def test_rewriting_the_number_makes_you_another_user(logged_in_plain, user, other_user):
    assert logged_in_plain.credential == str(user.pk)

    logged_in_plain.credential = str(other_user.pk)

    assert resource_user(logged_in_plain) == (HTTPStatus.OK, "bob")
    # No login at all, only a number written by hand: the same.
    assert resource_user(holding(str(other_user.pk))) == (HTTPStatus.OK, "bob")


@pytest.mark.asvs("7.2.2", "7.2.3", "7.2.4")
@pytest.mark.wstg("SESS-03", "SESS-04")
@pytest.mark.fails("every login sets the user's id, the same value for ever")
def test_every_login_sets_the_same_guessable_value(plain, user):
    values = []
    for _ in range(3):
        assert plain.login().status_code == HTTPStatus.OK
        values.append(plain.credential)

    # Known before any login, identical at each, and an earlier copy works after a new login.
    assert values == [str(user.pk)] * 3
    assert resource_user(holding(values[0])) == (HTTPStatus.OK, user.username)


@pytest.mark.asvs("7.3.1", "7.3.2", "9.2.1")
@pytest.mark.wstg("SESS-07")
@pytest.mark.fails("nothing records when the cookie was set or last used")
def test_a_cookie_left_unused_for_years_still_works(logged_in_plain, user):
    value = logged_in_plain.credential

    with time_machine.travel(timezone.now() + timedelta(days=3 * 365)):
        assert resource_user(holding(value)) == (HTTPStatus.OK, user.username)


@pytest.mark.asvs("7.4.1")
@pytest.mark.wstg("SESS-06", "SESS-09")
@pytest.mark.fails("logout only asks the browser to forget the cookie")
def test_a_copy_taken_before_logout_still_works(logged_in_plain, user):
    copy = logged_in_plain.credential

    logout = logged_in_plain.logout()

    assert logout.status_code == HTTPStatus.OK
    assert logout.cookies[plain_cookie_name()]["max-age"] == 0
    assert logged_in_plain.resource().status_code == HTTPStatus.UNAUTHORIZED  # forgotten
    assert resource_user(holding(copy)) == (HTTPStatus.OK, user.username)


@pytest.mark.asvs("7.4.3")
@pytest.mark.fails("the cookie never knew the password")
def test_a_password_change_ends_nothing(logged_in_plain, user):
    # Through another way's endpoint, ending every other session of the account.
    other_way = WayClient(way_named("db"))
    assert other_way.login().status_code == HTTPStatus.OK
    changed = other_way.password_change(PASSWORD, "a new passphrase, long enough")
    assert changed.status_code == HTTPStatus.OK

    assert resource_user(logged_in_plain) == (HTTPStatus.OK, user.username)


@pytest.mark.asvs("7.4.5")
@pytest.mark.fails("the server keeps nothing an administrator could end")
def test_ending_everything_the_server_keeps_leaves_it_working(logged_in_plain, user):
    Session.objects.all().delete()
    for alias in ("default", "sessions"):
        cache = caches[alias]
        # On Redis, only this run's keys: the pattern is under the run's own prefix.
        if hasattr(cache, "delete_pattern"):
            cache.delete_pattern("*")
        else:
            cache.clear()
    OutstandingToken.objects.all().delete()
    login_sessions_end(login_sessions=LoginSession.objects.all(), reason="admin")

    assert resource_user(logged_in_plain) == (HTTPStatus.OK, user.username)


@pytest.mark.asvs("7.5.2")
@pytest.mark.fails("no login is recorded: there are no sessions to list or end")
def test_it_has_no_sessions_to_list_or_end(logged_in_plain):
    assert PLAIN_COOKIE.path("sessions") is None
    assert PLAIN_COOKIE.path("sessions_end") is None
    assert LoginSession.objects.count() == 0
    assert logged_in_plain.send("GET", f"{PLAIN_COOKIE.prefix}sessions/").status_code == (
        HTTPStatus.NOT_FOUND
    )


@pytest.mark.asvs("3.3.4")
@pytest.mark.wstg("SESS-02")
@pytest.mark.fails("not HttpOnly: any script on the page reads and rewrites it")
def test_the_cookie_is_readable_by_scripts(plain):
    cookie = plain.login().cookies[plain_cookie_name()]

    assert not cookie["httponly"]


# --- what it shares with every way -----------------------------------------------------------


@pytest.mark.asvs("3.3.2", "3.3.5")
def test_the_cookie_is_same_site_lax_and_small(plain):
    cookie = plain.login().cookies[plain_cookie_name()]

    assert cookie["samesite"] == "Lax"
    assert len(cookie.key) + len(cookie.value) <= 4096


@pytest.mark.asvs("3.5.1")
@pytest.mark.wstg("SESS-05")
@pytest.mark.parametrize("verb", ["login", "logout"])
def test_posts_without_the_csrf_token_are_refused(logged_in_plain, user, verb):
    body = {"username": user.username, "password": PASSWORD} if verb == "login" else None

    response = logged_in_plain.post(verb, body, csrf=False)

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "csrf_failed"
    assert plain_cookie_name() not in response.cookies  # nothing set, nothing deleted


@pytest.mark.asvs("3.5.3")
@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_safe_methods_change_no_state(logged_in_plain, user, method):
    send = getattr(logged_in_plain.client, method)

    for verb in ("login", "logout"):
        response = send(PLAIN_COOKIE.path(verb), {"username": "alice", "password": PASSWORD})
        assert response.status_code in {HTTPStatus.OK, HTTPStatus.METHOD_NOT_ALLOWED}
        assert plain_cookie_name() not in response.cookies, verb

    assert resource_user(logged_in_plain) == (HTTPStatus.OK, user.username)
    fresh = WayClient(PLAIN_COOKIE)
    credentials = {"username": "alice", "password": PASSWORD}
    getattr(fresh.client, method)(PLAIN_COOKIE.path("login"), credentials)
    assert fresh.resource().status_code == HTTPStatus.UNAUTHORIZED  # and no login by GET


@pytest.mark.asvs("3.4.3", "3.4.4", "3.4.5", "3.4.6")
def test_every_answer_carries_the_security_headers(plain):
    answers = [
        plain.send("GET", PLAIN_COOKIE.path("login")),
        plain.resource(),  # 401
        plain.login(),
        plain.resource(),
        holding("not a number").resource(),
        plain.logout(),
    ]

    assert [answer.status_code for answer in answers] == [200, 401, 200, 200, 401, 200]
    for answer in answers:
        assert answer["Content-Type"] == "application/json"
        assert policy(answer) == {name: list(sources) for name, sources in JSON_POLICY.items()}
        assert answer["X-Content-Type-Options"] == "nosniff"
        assert answer["Referrer-Policy"] == "same-origin"


@pytest.mark.asvs("7.4.2")
@pytest.mark.parametrize("change", ["deactivated", "deleted"])
def test_a_disabled_or_deleted_account_is_refused(logged_in_plain, user, change):
    if change == "deactivated":
        user.is_active = False
        user.save()
    else:
        user.delete()

    response = logged_in_plain.resource()

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["code"] == "account_disabled"


@pytest.mark.wstg("SESS-08")
def test_its_cookie_and_the_others_mean_nothing_to_each_other(logged_in_plain, user):
    db_way = WayClient(way_named("db"))
    assert db_way.login().status_code == HTTPStatus.OK

    # The user's id under a session way's cookie name; a session key as the user_id.
    assert WayClient(way_named("db")).replaying(str(user.pk)).resource().status_code == (
        HTTPStatus.UNAUTHORIZED
    )
    refused = holding(db_way.credential).resource()
    assert (refused.status_code, refused.json()["code"]) == (
        HTTPStatus.UNAUTHORIZED,
        "credential_invalid",
    )


@pytest.mark.asvs("6.3.1")
def test_its_logins_are_throttled_as_every_way_s_are(plain, user, settings):
    limit = settings.AXES_FAILURE_LIMIT
    wrong = [plain.login(password="wrong").status_code for _ in range(limit - 1)]

    assert wrong == [HTTPStatus.UNAUTHORIZED] * (limit - 1)
    assert plain.login(password="wrong").status_code == HTTPStatus.TOO_MANY_REQUESTS
    locked_out = plain.login()  # the right password, once locked out
    assert locked_out.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert plain_cookie_name() not in locked_out.cookies


# --- where it is served ----------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["login", "logout", "resource"])
def test_it_answers_404_json_where_it_is_off(db, settings, verb):
    settings.PLAIN_COOKIE_WAY = False
    method = "GET" if verb == "resource" else "POST"

    response = Client().generic(method, PLAIN_COOKIE.path(verb))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["code"] == "plain_cookie_off"


@pytest.mark.parametrize(
    "value", ["", "-1", "1.0", "0x1", "\u00d9\u00a1", "9" * 19, "1; user_id=2"]
)
def test_a_value_that_is_not_an_id_is_refused_without_a_query(
    plain, value, django_assert_num_queries
):
    """A browser's UTF-8 digits arrive decoded as Latin-1, as WSGI decodes every header."""
    client = holding(value)

    with django_assert_num_queries(0):
        response = client.resource()

    expected = "not_authenticated" if value == "" else "credential_invalid"
    assert (response.status_code, response.json()["code"]) == (HTTPStatus.UNAUTHORIZED, expected)


def test_the_landing_page_labels_it_where_it_is_on_only(db, settings):
    settings.PLAIN_COOKIE_WAY = True
    page = Client().get("/").content.decode()
    assert 'id="panel-plain-cookie"' in page
    assert page.count(PLAIN_COOKIE.warning) == 2  # in the table of ways and on its panel

    settings.PLAIN_COOKIE_WAY = False
    assert "plain-cookie" not in Client().get("/").content.decode()


def test_it_stays_out_of_the_api_listing_and_the_schema(db, plain_cookie_on):
    listing = Client().get("/api/ways/").json()
    schema = Client().get("/api/schema/").json()

    assert PLAIN_COOKIE.name not in [way["name"] for way in listing["ways"]]
    assert not [path for path in schema["paths"] if path.startswith(PLAIN_COOKIE.prefix)]
