"""In a real Chromium, against gunicorn in the production profile: what another site can do.

The project is served over HTTPS on 127.0.0.1 (the production profile redirects plain HTTP
and sets __Host- cookies), with a fresh database of its own. A victim logs in through every
way from a page of the project; pages on another site (http://localhost) then try to act
on the victim's behalf.
"""

import html
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus

import pytest
import requests

from sessions_demo.plain_cookie import PLAIN_COOKIE_OFF
from testing.clients import WayHttpClient, ways_served
from testing.servers import (
    demo_database,
    gunicorn_serving,
    manage,
    own_redis_keys,
    server_environment,
    serving_workers,
)
from ways.registry import PLAIN_COOKIE, ways_where

from browsers import another_site, chromium, self_signed_certificate
from security_catalogue import ALL

VICTIM = {"username": "demo", "password": "demo-password"}
ATTACKER = {"username": "mallory", "password": "mallory-password-of-her-own"}
CSRF_COOKIE = "__Host-csrftoken"
# The ways whose credential the browser keeps, and sends on its own, as a cookie.
IN_COOKIES = tuple(way.name for way in ways_where(transport="cookie"))


@dataclass(frozen=True)
class Site:
    base_url: str
    ways: dict[str, dict]  # GET /api/ways/, by name


@pytest.fixture(scope="module")
def production_site(tmp_path_factory) -> Iterator[Site]:
    """gunicorn over HTTPS with DEBUG off, the demo user and an attacker's account."""
    env = {
        **server_environment(os.environ),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    certificate = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    with (
        demo_database(env, label="browser") as database_url,
        own_redis_keys(env, label="browser") as prefix,
    ):
        env = {**env, "DATABASE_URL": database_url, "CACHE_KEY_PREFIX": prefix}
        manage(env, "ensure_demo_user", *(f"--{name}={value}" for name, value in ATTACKER.items()))
        with gunicorn_serving(
            env, workers=serving_workers(env), threads=4, certificate=certificate
        ) as base_url:
            yield Site(base_url, ways_served(base_url))


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


LOG_IN_EVERYWHERE = """
async ({ways, credentials, csrfCookie}) => {
  const csrf = () => document.cookie.split("; ")
    .find((cookie) => cookie.startsWith(csrfCookie + "="))?.split("=")[1];
  const statuses = {};
  for (const way of ways) {
    const headers = {"Content-Type": "application/json"};
    if (way.transport === "cookie") {
      await fetch(way.login);
      headers["X-CSRFToken"] = csrf();
    }
    const answer = await fetch(
      way.login, {method: "POST", headers, body: JSON.stringify(credentials)});
    statuses[way.name] = answer.status;
  }
  return statuses;
}
"""

RESOURCE_STATUSES = """
async (ways) => {
  const statuses = {};
  for (const way of ways) statuses[way.name] = (await fetch(way.resource)).status;
  return statuses;
}
"""


def attacker_form(action: str, body: dict) -> str:
    """A page that posts body, as JSON text, to action the moment it loads.

    An HTML form can send text/plain, which needs no CORS preflight: the browser sends it
    cross-site as it is, with the site's cookies if they may go. Its one field, name=value,
    is made to read as a JSON object.
    """
    text = json.dumps(body)[:-1] + ', "padding": "'
    return (
        f'<form method="post" enctype="text/plain" action="{html.escape(action)}">'
        f'<input type="hidden" name="{html.escape(text)}" value=\'"}}\'></form>'
        "<script>document.forms[0].submit()</script>"
    )


def attacker_refresh_token(site: Site) -> str:
    """The attacker's own refresh token, from her own login through the jwt way."""
    client = WayHttpClient(site.base_url, site.ways["jwt"])
    try:
        client.log_in(**ATTACKER)
        return client.tokens["refresh"]
    finally:
        client.close()


@pytest.mark.asvs("3.5.1", ways=IN_COOKIES)
@pytest.mark.wstg("SESS-05", ways=IN_COOKIES)
@pytest.mark.ways(*ALL)
def test_a_page_on_another_site_cannot_log_the_victim_out(production_site, browser):
    site = production_site
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.goto(site.base_url + "/")
    ways = list(site.ways.values())
    cookie_ways = [way for way in ways if way["transport"] == "cookie"]
    logged_in = page.evaluate(
        LOG_IN_EVERYWHERE, {"ways": ways, "credentials": VICTIM, "csrfCookie": CSRF_COOKIE}
    )
    assert logged_in == dict.fromkeys(site.ways, HTTPStatus.OK)
    cookies_before = {cookie["name"] for cookie in context.cookies()}

    # Every POST endpoint but login, sent from the other site with the attacker's own token.
    body = {"refresh": attacker_refresh_token(site)}
    targets = {
        f"/{way['name']}/{verb}": site.base_url + way[verb]
        for way in ways
        for verb in ("logout", "refresh")
        if way[verb]
    }
    answers = {}
    with another_site({path: attacker_form(url, body) for path, url in targets.items()}) as other:
        for path in targets:
            with page.expect_response(targets[path]) as response:
                page.goto(other + path)
            answer = response.value
            answers[path] = (answer.status, answer.all_headers().get("clear-site-data"))

    assert {cookie["name"] for cookie in context.cookies()} == cookies_before
    page.goto(site.base_url + "/")
    assert page.evaluate(RESOURCE_STATUSES, cookie_ways) == {
        way["name"]: HTTPStatus.OK for way in cookie_ways
    }
    # The header way reads JSON only (text/plain would reach it without a preflight); cookie
    # ways want the CSRF token, which another site cannot read. None clears the site's data.
    assert answers == {
        path: (
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE if path.startswith("/jwt/") else HTTPStatus.FORBIDDEN,
            None,
        )
        for path in targets
    }
    context.close()


# --- Content-Security-Policy: the pages work under it -----------------------------------------

# Every CSP violation the page sees, and every console error, collected before any script of
# the page runs (an init script is the browser's, not the page's: the CSP does not apply).
WATCH_VIOLATIONS = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__problems.push(`CSP ${event.violatedDirective}: ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched_page(browser, production_site):
    """A page of a fresh browser context, with the CSP violations and console errors it meets."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 800})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    console_errors = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.problems = lambda: [*page.evaluate("window.__problems || []"), *console_errors]
    yield page
    context.close()


def admin_log_in(page, site: Site) -> None:
    page.goto(site.base_url + "/admin/login/")
    page.fill("#id_username", VICTIM["username"])
    page.fill("#id_password", VICTIM["password"])
    page.click("input[type=submit]")
    page.wait_for_url(site.base_url + "/admin/")


def state_in_every_store(site: Site) -> None:
    """Sessions and tokens of every way, one refresh token blacklisted: rows to list."""
    for name, way in site.ways.items():
        client = WayHttpClient(site.base_url, way, csrf_cookie_name=CSRF_COOKIE)
        try:
            client.log_in(**VICTIM)
            if name == "jwt":
                assert client.logout().status_code == HTTPStatus.OK
        finally:
            client.close()


@pytest.mark.asvs("3.4.3", "3.4.6")
@pytest.mark.ways(*ALL)
def test_the_landing_page_and_the_admin_work_under_the_csp(production_site, watched_page):
    page, site = watched_page, production_site
    state_in_every_store(site)

    page.goto(site.base_url + "/")
    # Its stylesheet, a file of the project's own, loaded: 72rem wide.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "1152px"
    admin_log_in(page, site)
    pages = page.eval_on_selector_all(
        "#content-main a[href$='/']", "links => links.map(link => link.href)"
    )
    assert len(pages) >= 7  # users, sessions, cache, signed cookies, tokens, access attempts
    for url in pages:
        page.goto(url)
    # The admin's own scripts run: "select all" on a list with actions selects every row.
    page.goto(site.base_url + "/admin/token_blacklist/outstandingtoken/")
    page.click("#action-toggle")
    assert page.eval_on_selector_all(".action-select", "boxes => boxes.every(b => b.checked)")
    # The decoder page posts its form under form-action 'self'.
    page.goto(site.base_url + "/admin/sessions_demo/signedcookiesession/")
    page.fill("input[name=value]", "not-a-cookie")
    page.click("input[type=submit]")

    assert page.problems() == []


@pytest.mark.ways(*ALL)
def test_the_admins_lists_fit_a_1280_pixel_window(production_site, watched_page):
    page, site = watched_page, production_site
    state_in_every_store(site)
    admin_log_in(page, site)

    overflowing = {}
    for path in (
        "/admin/sessions/session/",
        "/admin/sessions_demo/cachesession/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/token_blacklist/blacklistedtoken/",
    ):
        page.goto(site.base_url + path)
        # Any table running past the window, or past the box that scrolls it sideways out of
        # sight (the admin's lists scroll inside their box).
        beyond = page.evaluate(
            """() => [...document.querySelectorAll("table")].map((table) => {
                const box = table.parentElement;
                return Math.max(
                    table.getBoundingClientRect().right - document.documentElement.clientWidth,
                    box.scrollWidth - box.clientWidth);
            }).filter((pixels) => pixels > 0)"""
        )
        if beyond:
            overflowing[path] = beyond

    # Decoded data and claims wrap inside their column instead of running off the screen.
    assert overflowing == {}


# The server's certificate is its own, made for the test.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_gunicorn_names_no_server(production_site):
    response = requests.get(production_site.base_url + "/api/ways/", verify=False, timeout=10)  # noqa: S501

    assert response.status_code == HTTPStatus.OK
    assert "Server" not in response.headers


def requests_leaving(page, base_url: str) -> list[str]:
    """Every URL the page requests from anywhere but the site, collected as it loads."""
    elsewhere = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(base_url) else elsewhere.append(request.url),
    )
    return elsewhere


# The server's certificate is its own, made for the test.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_api_explorer_renders_every_operation_from_the_sites_own_files(
    production_site, watched_page
):
    page, site = watched_page, production_site
    schema = requests.get(site.base_url + "/api/schema/", verify=False, timeout=10).json()  # noqa: S501
    operations = sum(len(methods) for methods in schema["paths"].values())
    elsewhere = requests_leaving(page, site.base_url)

    page.goto(site.base_url + "/api/docs/")
    page.wait_for_selector(".opblock")

    assert page.locator(".opblock").count() == operations
    # Try one out: the listing of ways, called from the page under its connect-src 'self'.
    listing = page.locator(".opblock", has=page.locator("[data-path='/api/ways/']"))
    listing.locator(".opblock-summary").click()
    listing.locator(".try-out__btn").click()
    listing.locator(".execute").click()
    status = listing.locator(".live-responses-table td.response-col_status:not(.col_header)")
    assert status.inner_text(timeout=10_000).strip() == "200"
    assert page.title().endswith("API explorer")
    assert elsewhere == []
    assert page.problems() == []


def test_which_to_choose_works_under_the_csp_on_a_wide_and_a_narrow_screen(
    production_site, watched_page
):
    page, site = watched_page, production_site
    elsewhere = requests_leaving(page, site.base_url)

    page.goto(site.base_url + "/choose/")
    # Its stylesheet, a file of the project's own, loaded: 80rem wide.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "1280px"
    assert page.locator("table.choice tbody tr").count() == 7
    assert page.locator(".measured").count() == 7  # the committed figures, read as served
    page.set_viewport_size({"width": 390, "height": 800})
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    # The sequence diagrams it links, drawn as images under the page's img-src: widths.
    diagrams = page.eval_on_selector_all(
        "a[href*='/static/diagrams/']",
        """links => Promise.all(links.map((link) => new Promise((resolve) => {
            const image = new Image();
            image.onload = image.onerror = () => resolve(image.naturalWidth);
            image.src = link.href;
        })))""",
    )

    assert overflow == 0
    assert len(diagrams) == 4
    assert all(width > 0 for width in diagrams)
    assert elsewhere == []
    assert page.problems() == []


def test_a_forged_user_id_cookie_opens_nothing_in_production(production_site, watched_page):
    """The plain-cookie way exists with DEBUG only: no panel, and its endpoints answer 404."""
    page, site = watched_page, production_site
    page.goto(site.base_url + "/")
    assert page.locator("#tab-plain-cookie").count() == 0
    assert PLAIN_COOKIE.name not in site.ways

    page.evaluate("document.cookie = '__Host-user_id=1; Path=/; Secure; SameSite=Lax'")
    answer = page.evaluate(
        """async (path) => {
          const response = await fetch(path, {credentials: "same-origin"});
          return {status: response.status, body: await response.json()};
        }""",
        PLAIN_COOKIE.path("resource"),
    )

    assert answer == {
        "status": HTTPStatus.NOT_FOUND,
        "body": {"detail": PLAIN_COOKIE_OFF, "code": "plain_cookie_off"},
    }
