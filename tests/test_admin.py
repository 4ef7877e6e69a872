"""The admin's inspection of stored sessions and tokens, which never shows a credential."""

import html
import json
import re
import uuid
from http import HTTPStatus

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as CACHED_DB_KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from sessions_demo.admin import session_reference
from sessions_demo.selectors import session_key_hint, sessions_cache_is_local_memory
from ways.registry import WAYS_BY_NAME, cache_description

from helpers import PASSWORD, WayClient

SESSIONS_URL = reverse("admin:sessions_session_changelist")
CACHE_SESSIONS_URL = reverse("admin:sessions_demo_cachesession_changelist")
SIGNED_COOKIE_URL = reverse("admin:sessions_demo_signedcookiesession_changelist")
OUTSTANDING_URL = reverse("admin:token_blacklist_outstandingtoken_changelist")
BLACKLISTED_URL = reverse("admin:token_blacklist_blacklistedtoken_changelist")

LOCAL_MEMORY_NOTICE = (
    "local-memory cache: this page sees only the sessions of the process that serves it; "
    "another process (a second worker, <code>manage.py shell</code>) has its own empty memory; "
    "set <code>REDIS_URL</code> for Redis."
)


@pytest.fixture
def local_memory_sessions(settings):
    """The sessions cache in this process's memory, as with no REDIS_URL, and empty."""
    settings.REDIS_URL = ""
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-admin-{uuid.uuid4()}",
        },
    }
    cache = caches["sessions"]
    yield cache
    cache.clear()


@pytest.fixture
def configured_sessions():
    """The sessions cache this run configured: local memory, or Redis when REDIS_URL is set."""
    return caches["sessions"]


def logged_in(way_name: str, username: str = "alice") -> WayClient:
    way_client = WayClient(WAYS_BY_NAME[way_name])
    response = way_client.login(username=username)
    assert response.status_code == HTTPStatus.OK, response.content
    return way_client


def page_text(response) -> str:
    """The page's HTML with entities decoded and whitespace runs collapsed, for matching."""
    return " ".join(html.unescape(response.content.decode()).split())


def row_with(text: str, needle: str) -> str:
    """The one table row of the page that contains the needle."""
    rows = [row for row in re.findall(r"<tr.*?</tr>", text) if needle in row]
    assert len(rows) == 1, f"{len(rows)} rows contain {needle!r}"
    return rows[0]


def user_link(user: User) -> str:
    return f'<a href="/admin/accounts/user/{user.pk}/change/">{user.username}</a>'


def test_db_login_is_listed_with_user_way_and_data_but_never_its_key(admin_client, user):
    key = logged_in("db").credential

    response = admin_client.get(SESSIONS_URL)

    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    row = row_with(text, session_key_hint(key))
    assert user_link(user) in row
    assert '<td class="field-way">db</td>' in row
    assert f'"_auth_user_id": "{user.pk}"' in row
    assert '"way": "db"' in row
    assert '<td class="field-expired"><img src="/static/admin/img/icon-no.svg" alt="False">' in row
    assert key not in response.content.decode()
    assert admin_client.cookies["sessionid"].value not in response.content.decode()
    # No change page is linked: its URL would carry the whole key.
    assert "/admin/sessions/session/" + key[:8] not in text


def test_session_change_page_does_not_exist(admin_client, user):
    key = logged_in("db").credential

    response = admin_client.get(f"/admin/sessions/session/{key}/change/")

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_session_changelist_notes_where_other_ways_keep_sessions(admin_client):
    response = admin_client.get(SESSIONS_URL)

    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "The <code>cookie</code> way stores nothing on the server" in text
    assert f'<a href="{CACHE_SESSIONS_URL}">sessions in the cache</a>' in text


@pytest.mark.asvs("7.4.5")
@pytest.mark.parametrize("way_name", ["db", "cached-db"])
def test_end_selected_sessions_revokes_replayed_cookie(admin_client, user, way_name):
    alice = logged_in(way_name)
    key = alice.credential
    if way_name == "cached-db":
        assert caches["sessions"].get(CACHED_DB_KEY_PREFIX + key) is not None
    assert alice.replaying(key).resource().status_code == HTTPStatus.OK
    assert f'value="{session_reference(key)}"' in admin_client.get(SESSIONS_URL).content.decode()

    response = admin_client.post(
        SESSIONS_URL,
        {"action": "end_selected", ACTION_CHECKBOX_NAME: [session_reference(key)], "index": 0},
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    assert "Ended 1 session." in page_text(response)
    assert not Session.objects.filter(pk=key).exists()
    # For cached-db this 401 proves the cache copy went too: it alone would still let it in.
    assert alice.replaying(key).resource().status_code == HTTPStatus.UNAUTHORIZED
    assert caches["sessions"].get(CACHED_DB_KEY_PREFIX + key) is None


@pytest.mark.parametrize(
    "selection",
    [
        pytest.param(lambda key: key, id="the raw key"),
        pytest.param(lambda key: key[:8] + ":" + "0" * 64, id="a forged digest"),
        pytest.param(lambda key: ":" + session_reference(key).partition(":")[2], id="no hint"),
    ],
)
def test_end_selected_sessions_ends_nothing_for_a_forged_selection(admin_client, user, selection):
    alice = logged_in("db")
    key = alice.credential

    response = admin_client.post(
        SESSIONS_URL,
        {"action": "end_selected", ACTION_CHECKBOX_NAME: [selection(key)], "index": 0},
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    assert "Items must be selected in order to perform actions on them." in page_text(response)
    assert Session.objects.filter(pk=key).exists()
    assert alice.replaying(key).resource().status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "sessions_cache", ["configured_sessions", "local_memory_sessions", "redis_sessions"]
)
def test_cache_sessions_page_lists_cache_and_cached_db_logins(
    request, admin_client, user, sessions_cache
):
    request.getfixturevalue(sessions_cache)
    keys = {way_name: logged_in(way_name).credential for way_name in ("cache", "cached-db")}

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CACHE_SESSIONS_URL)

    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    for way_name, key in keys.items():
        row = row_with(text, session_key_hint(key))
        assert f"<td><code>{way_name}</code></td>" in row
        assert user_link(user) in row
        assert f'"way": "{way_name}"' in row
        assert re.search(r"<td>\d+ s</td>", row)
        assert key not in response.content.decode()
    assert f"Sessions cache: {cache_description()}." in text
    assert (LOCAL_MEMORY_NOTICE in text) == sessions_cache_is_local_memory()
    # The page's model has no table: nothing may query it.
    assert not [query for query in queries.captured_queries if "sessions_demo" in query["sql"]]


def test_cache_sessions_page_labels_the_admins_own_cache_session(
    request, settings, local_memory_sessions
):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    admin_client = request.getfixturevalue("admin_client")  # logs in under that engine

    response = admin_client.get(CACHE_SESSIONS_URL)

    assert response.status_code == HTTPStatus.OK
    key = admin_client.cookies["sessionid"].value
    row = row_with(page_text(response), session_key_hint(key))
    assert "<td><code>cache (admin)</code></td>" in row
    assert '<a href="/admin/accounts/user/' in row
    assert key not in response.content.decode()


def test_cache_sessions_page_drops_a_logged_out_session(admin_client, user, local_memory_sessions):
    alice = logged_in("cache")
    key = alice.credential
    assert alice.logout().status_code == HTTPStatus.OK

    response = admin_client.get(CACHE_SESSIONS_URL)

    assert response.status_code == HTTPStatus.OK
    assert session_key_hint(key) not in page_text(response)
    assert "No session in the cache." in page_text(response)


def test_signed_cookie_page_decodes_a_cookie_login_without_echoing_it(admin_client, user):
    value = logged_in("cookie").credential

    response = admin_client.post(SIGNED_COOKIE_URL, {"value": value})

    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "The <code>cookie</code> way stores nothing on the server." in text
    assert f'"_auth_user_id": "{user.pk}"' in text
    assert '<tr><th scope="row">way</th><td><code>cookie</code></td></tr>' in text
    assert f'<tr><th scope="row">user</th><td>{user_link(user)}</td></tr>' in text
    assert f"Cookie {session_key_hint(value)}" in text
    assert value not in response.content.decode()
    # The admin's header still greets the admin, with the link to change the password.
    assert "Welcome, <strong>admin</strong>." in text
    assert 'href="/admin/password_change/"' in text


def test_signed_cookie_page_accepts_the_cookie_as_name_and_value(admin_client, user):
    value = logged_in("cookie").credential

    response = admin_client.post(SIGNED_COOKIE_URL, {"value": f"cookie-sessionid={value}\n"})

    assert response.status_code == HTTPStatus.OK
    assert f'"_auth_user_id": "{user.pk}"' in page_text(response)


def test_signed_cookie_page_says_invalid_for_a_tampered_cookie(admin_client, user):
    value = logged_in("cookie").credential
    tampered = value[:-1] + ("A" if value[-1] != "A" else "B")

    response = admin_client.post(SIGNED_COOKIE_URL, {"value": tampered})

    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Invalid signature or expired" in text
    assert "_auth_user_id" not in text


def test_signed_cookie_page_says_expired_for_an_old_cookie(admin_client, user, settings):
    value = logged_in("cookie").credential
    settings.SESSION_COOKIE_AGE = 0  # any cookie signed before now is too old

    response = admin_client.post(SIGNED_COOKIE_URL, {"value": value})

    assert response.status_code == HTTPStatus.OK
    assert "Invalid signature or expired" in page_text(response)


@pytest.mark.parametrize(
    ("value", "answer"),
    [
        pytest.param("", "This field is required.", id="empty"),
        pytest.param("x", "Invalid signature or expired", id="short"),
        pytest.param("a:b:c", "Invalid signature or expired", id="colons"),
        pytest.param("ünïcødé🍪:€:ß", "Invalid signature or expired", id="unicode"),
        pytest.param(".eJwx:1:2", "Invalid signature or expired", id="compressed-looking"),
        pytest.param("a\x00b", "Null characters are not allowed.", id="null"),
        pytest.param("y" * 4096, "Invalid signature or expired", id="longest-cookie"),
        pytest.param("z" * 100_000, "Ensure this value has at most 4096", id="very-long"),
    ],
)
def test_signed_cookie_page_answers_junk_without_error(admin_client, value, answer):
    response = admin_client.post(SIGNED_COOKIE_URL, {"value": value})

    assert response.status_code == HTTPStatus.OK
    assert answer in page_text(response)


def test_signed_cookie_form_requires_the_csrf_token(admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)

    response = browser.post(SIGNED_COOKIE_URL, {"value": "anything"})

    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("url", [CACHE_SESSIONS_URL, SIGNED_COOKIE_URL])
def test_cache_and_signed_cookie_pages_need_the_view_permission(client, django_user_model, url):
    staff = django_user_model.objects.create_user("staff", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN

    model_name = url.rstrip("/").rpartition("/")[2]
    staff.user_permissions.add(Permission.objects.get(codename=f"view_{model_name}"))

    assert client.get(url).status_code == HTTPStatus.OK


def test_outstanding_token_shows_its_claims_but_never_the_token(admin_client, user):
    refresh = logged_in("jwt").tokens["refresh"]
    claims = token_backend.decode(refresh, verify=False)
    token = OutstandingToken.objects.get(jti=claims["jti"])

    for url in (
        OUTSTANDING_URL,
        reverse("admin:token_blacklist_outstandingtoken_change", args=[token.pk]),
    ):
        response = admin_client.get(url)

        assert response.status_code == HTTPStatus.OK, url
        text = page_text(response)
        assert '"token_type": "refresh"' in text
        assert f'"jti": "{claims["jti"]}"' in text
        assert f'"user_id": {json.dumps(claims["user_id"])}' in text
        assert refresh not in response.content.decode()
        assert refresh.rpartition(".")[2] not in response.content.decode()  # nor its signature


def test_outstanding_token_that_does_not_decode_shows_an_error(admin_client, user):
    token = OutstandingToken.objects.create(
        user=user, jti="not-a-jwt", token="garbage", expires_at=timezone.now()
    )

    for url in (
        OUTSTANDING_URL,
        reverse("admin:token_blacklist_outstandingtoken_change", args=[token.pk]),
    ):
        response = admin_client.get(url)

        assert response.status_code == HTTPStatus.OK, url
        assert "(does not decode: Token is invalid)" in page_text(response)


def test_blacklist_selected_tokens_revokes_refresh(admin_client, user):
    alice = logged_in("jwt")
    jti = token_backend.decode(alice.tokens["refresh"], verify=False)["jti"]
    token = OutstandingToken.objects.get(jti=jti)
    row = row_with(page_text(admin_client.get(OUTSTANDING_URL)), jti)
    assert '<td class="field-blacklisted"><img src="/static/admin/img/icon-no.svg"' in row

    response = admin_client.post(
        OUTSTANDING_URL,
        {"action": "blacklist_selected", ACTION_CHECKBOX_NAME: [token.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    text = page_text(response)
    assert "Blacklisted 1 token; 0 were already blacklisted." in text
    assert '<td class="field-blacklisted"><img src="/static/admin/img/icon-yes.svg"' in row_with(
        text, jti
    )
    assert BlacklistedToken.objects.filter(token=token).exists()
    assert alice.refresh().status_code == HTTPStatus.UNAUTHORIZED


def test_blacklist_selected_tokens_counts_those_already_blacklisted(admin_client, user):
    alice = logged_in("jwt")
    jti = token_backend.decode(alice.tokens["refresh"], verify=False)["jti"]
    assert alice.logout().status_code == HTTPStatus.OK
    token = OutstandingToken.objects.get(jti=jti)

    response = admin_client.post(
        OUTSTANDING_URL,
        {"action": "blacklist_selected", ACTION_CHECKBOX_NAME: [token.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    assert "Blacklisted 0 tokens; 1 was already blacklisted." in page_text(response)
    assert BlacklistedToken.objects.filter(token=token).count() == 1


def test_a_blacklisted_token_cannot_be_deleted_back_to_life(admin_client, user):
    client = logged_in("jwt")
    refresh = client.tokens["refresh"]
    assert client.logout().status_code == HTTPStatus.OK
    blacklisted = BlacklistedToken.objects.get()

    listing = admin_client.get(BLACKLISTED_URL)
    deleting = admin_client.post(
        BLACKLISTED_URL,
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [blacklisted.pk], "post": "yes"},
    )
    delete_page = admin_client.get(
        reverse("admin:token_blacklist_blacklistedtoken_delete", args=[blacklisted.pk])
    )

    assert "delete_selected" not in page_text(listing)
    assert deleting.status_code == HTTPStatus.OK  # the list again: no such action
    assert delete_page.status_code == HTTPStatus.FORBIDDEN
    assert BlacklistedToken.objects.filter(pk=blacklisted.pk).exists()
    client.tokens = {"access": "", "refresh": refresh}
    assert client.refresh().status_code == HTTPStatus.UNAUTHORIZED


def test_blacklisted_token_shows_claims_of_a_logged_out_token(admin_client, user):
    alice = logged_in("jwt")
    refresh = alice.tokens["refresh"]
    claims = token_backend.decode(refresh, verify=False)
    assert alice.logout().status_code == HTTPStatus.OK

    response = admin_client.get(BLACKLISTED_URL)

    assert response.status_code == HTTPStatus.OK
    row = row_with(page_text(response), f'"jti": "{claims["jti"]}"')
    assert '"token_type": "refresh"' in row
    assert f'"user_id": {json.dumps(claims["user_id"])}' in row
    assert refresh not in response.content.decode()


@pytest.mark.parametrize(
    ("url", "way_name"),
    [
        pytest.param(SESSIONS_URL, "db", id="sessions"),
        pytest.param(CACHE_SESSIONS_URL, "cache", id="cache-sessions"),
        pytest.param(OUTSTANDING_URL, "jwt", id="outstanding-tokens"),
        pytest.param(BLACKLISTED_URL, "jwt", id="blacklisted-tokens"),
    ],
)
def test_listing_costs_the_same_queries_however_many_users_and_rows(
    admin_client, user, url, way_name
):
    def queries_to_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == HTTPStatus.OK
        return len(queries)

    def log_in_and_out(username: str) -> None:
        way_client = logged_in(way_name, username)
        if url == BLACKLISTED_URL:
            assert way_client.logout().status_code == HTTPStatus.OK

    log_in_and_out("alice")
    one_row = queries_to_list()
    for username in ("bob", "carol"):
        User.objects.create_user(username, password=PASSWORD)
        log_in_and_out(username)

    assert queries_to_list() == one_row


@pytest.mark.asvs("7.4.5")
@pytest.mark.by_design(
    "the admin can end every stored session, but a signed cookie is stored nowhere"
)
@pytest.mark.ways("cookie")
@pytest.mark.policy("stock")  # the managed profile ends it: tests/test_managed.py
def test_ending_every_stored_session_leaves_a_signed_cookie_valid(admin_client, user):
    alice = logged_in("cookie")
    keys = [session_reference(key) for key in Session.objects.values_list("pk", flat=True)]

    response = admin_client.post(
        SESSIONS_URL,
        {"action": "end_selected", ACTION_CHECKBOX_NAME: keys, "index": 0},
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    assert alice.resource().status_code == HTTPStatus.OK


@pytest.mark.asvs("7.4.5")
@pytest.mark.by_design("blacklisting ends a refresh token; the access token lives until exp")
@pytest.mark.parametrize("way_name", ["jwt", "jwt-cookie"])
@pytest.mark.policy("stock")
def test_blacklisting_every_token_leaves_access_tokens_valid(admin_client, user, way_name):
    alice = logged_in(way_name)
    tokens = list(OutstandingToken.objects.filter(user=user).values_list("pk", flat=True))

    response = admin_client.post(
        OUTSTANDING_URL,
        {"action": "blacklist_selected", ACTION_CHECKBOX_NAME: tokens, "index": 0},
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    assert BlacklistedToken.objects.filter(token__user=user).count() == len(tokens)
    assert alice.refresh().status_code == HTTPStatus.UNAUTHORIZED
    assert alice.resource().status_code == HTTPStatus.OK
