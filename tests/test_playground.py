"""The playground in a real Chromium: every way logged in through the page, taken apart, replayed.

gunicorn serves the development profile (the playground is on with DEBUG) on a fresh database
with the demo user, in the session policy the test runs under; Playwright drives Debian's
chromium through the page as a visitor would: its forms, its buttons, the keyboard.
"""

import contextlib
import os
from collections.abc import Callable, Iterator

import pytest

from testing.servers import (
    DEMO_USERNAME,
    OTHER_USERNAME,
    demo_serving,
    server_environment,
    serving_workers,
)
from ways.registry import DEMONSTRATION_WAYS, PLAIN_COOKIE, WAYS

from browsers import chromium
from helpers import ways

# The network answers a page asks for on purpose (a replayed copy refused: 401, a cart that
# no longer fits: 507) are logged by Chromium as console errors of their own; they are not
# errors of the page's scripts, which are what is checked.
NETWORK_ANSWER = "Failed to load resource: the server responded with a status of"
# The server's X-Served-By, which the page shows beside each answer.
NODE_NAME = "node-under-test"
WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__problems.push(`CSP ${event.violatedDirective}: ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="module")
def site() -> Iterator[Callable[[str], str]]:
    """The playground's server for a session policy, started when a test first asks for it."""
    env = server_environment(os.environ)
    started: dict[str, str] = {}
    with contextlib.ExitStack() as stack:

        def serving(policy: str) -> str:
            if policy not in started:
                started[policy] = stack.enter_context(
                    demo_serving(
                        # A node's name, as each node of make cluster has one.
                        {**env, "SESSION_POLICY": policy, "NODE_NAME": NODE_NAME},
                        label=f"playground-{policy}",
                        workers=serving_workers(env),
                        threads=4,
                    )
                )
            return started[policy]

        yield serving


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def playground(browser, site, session_policy):
    """The landing page in a fresh browser context, with what went wrong on it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    errors = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith(NETWORK_ANSWER)
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site(session_policy) + "/")
    page.problems = lambda: [*page.evaluate("window.__problems || []"), *errors]
    yield page
    context.close()


def open_tab(page, way: str):
    page.click(f"#tab-{way}")
    return page.locator(f"#panel-{way}")


def log_in(page, way: str):
    panel = open_tab(page, way)
    panel.locator("form.login button[type=submit]").click()
    last_answer(panel, "POST login")
    return panel


def press(panel, action: str) -> None:
    before = panel.locator(".answers li").count()
    panel.locator(f"[data-action={action}]").click()
    panel.locator(".answers li").nth(before).wait_for()


def last_answer(panel, label: str | None = None) -> dict:
    """The newest answer in the panel's log: its label, status and refusal code."""
    entry = panel.locator(".answers li").first
    entry.wait_for()
    if label:
        entry.filter(has_text=label).wait_for()
    return {
        "text": entry.inner_text(),
        "status": int(entry.get_attribute("data-status")),
        "code": entry.get_attribute("data-code"),
    }


def held(panel) -> dict[str, dict]:
    """What the "browser holds" pane lists: per cookie or token, its attributes."""
    panel.locator(".holds li").first.wait_for()
    return {
        item.get_attribute("data-name"): {
            "readable": item.get_attribute("data-readable"),
            "received": item.get_attribute("data-received"),
            "text": item.inner_text(),
        }
        for item in panel.locator(".holds li").all()
    }


def stores(panel) -> list[str]:
    return panel.locator(".keeps h4").all_inner_texts()


# What each way keeps on the server for a logged-in browser, as the "server keeps" pane says.
KEPT = {
    "cookie": [],
    "db": ["a django_session row"],
    "cache": ["a key in the sessions cache"],
    "cached-db": ["a django_session row", "a key in the sessions cache"],
    "jwt": ["an outstanding refresh token row"],
    "jwt-cookie": ["an outstanding refresh token row"],
}


def test_logging_in_shows_what_the_browser_holds_and_what_the_server_keeps(
    playground, way, session_policy
):
    panel = log_in(playground, way.name)

    holds = held(panel)
    cookies = playground.evaluate("document.cookie")
    if way.transport == "header":
        assert set(holds) == {"access", "refresh"}  # in the page's memory
        assert "access" not in cookies
    else:
        received = {name: item for name, item in holds.items() if item["received"] == "true"}
        assert received
        for name, item in received.items():
            # HttpOnly: the page cannot read it, and says the server showed it.
            assert item["readable"] == "false"
            assert "HttpOnly" in item["text"]
            assert f"{name}=" not in cookies
    kept = KEPT[way.name] + (["a login session row"] if session_policy == "managed" else [])
    panel.locator(".keeps").filter(has_text=kept[0] if kept else "Nothing").wait_for()
    # The demo user's earlier logins keep refresh token rows too: which stores, not how many.
    assert sorted(set(stores(panel))) == sorted(kept)
    parts = panel.locator(".parts").inner_text()
    if way.kind == "token" or way.self_contained:
        assert "payload" in parts
        assert "signature" in parts
    else:
        assert "session_id" in parts
    assert playground.problems() == []


def test_a_copy_replayed_after_logout_and_a_tampered_one_get_the_documented_answers(
    playground, way, session_policy
):
    panel = log_in(playground, way.name)
    press(panel, "copy")
    press(panel, "logout")

    press(panel, "replay")
    replayed = last_answer(panel)
    press(panel, "tamper")
    tampered = last_answer(panel)

    if session_policy == "managed":
        assert (replayed["status"], replayed["code"]) == (401, "session_ended")
    elif way.self_contained:
        assert replayed["status"] == 200  # a copy outlives the logout until it expires
    else:
        assert (replayed["status"], replayed["code"]) == (401, "session_not_found")
    expected = "credential_invalid" if way.self_contained else "session_not_found"
    assert (tampered["status"], tampered["code"]) == (401, expected)
    assert playground.problems() == []


@pytest.mark.parametrize("way", ways(kind="session"))
def test_the_cart_overflows_the_signed_cookie_and_grows_the_store_instead(playground, way):
    panel = open_tab(playground, way.name)
    statuses = []
    for _ in range(25):
        press(panel, "cart")
        statuses.append(last_answer(panel)["status"])

    if way.self_contained:
        assert 507 in statuses
        assert last_answer(panel)["code"] == "session_too_large"
    else:
        assert set(statuses) == {200}
        assert "25 items" in last_answer(panel)["text"]
    assert playground.problems() == []


@pytest.mark.parametrize("way", ways(kind="token"))
def test_a_token_ways_cart_is_kept_by_the_server(playground, way):
    panel = log_in(playground, way.name)

    press(panel, "cart")

    answer = last_answer(panel)
    assert answer["status"] == 200
    assert "signed once, at login" in answer["text"]


@pytest.mark.policy("stock")
def test_the_preference_cookie_round_trips_through_the_server(playground):
    assert playground.evaluate("document.documentElement.dataset.theme") == "light"

    playground.click("#theme-toggle")
    playground.reload()

    assert playground.evaluate("document.documentElement.dataset.theme") == "dark"
    assert playground.inner_text("#theme-seen") == "dark"
    assert "theme=dark" in playground.evaluate("document.cookie")  # readable, on purpose


@pytest.mark.policy("managed")
def test_ending_the_others_from_one_panel_logs_the_other_panels_out(playground):
    others = [log_in(playground, name) for name in ("db", "jwt-cookie", "cookie")]
    panel = log_in(playground, "jwt")

    playground.click("#your-sessions [data-scope=list]")
    # These four, and any an earlier test of the module left live.
    playground.locator("table.sessions tbody tr").nth(3).wait_for()
    playground.click("#your-sessions [data-scope=others]")
    panel.locator(".answers li").filter(has_text="sessions/end (others) → 200").wait_for()

    for other in others:
        playground.click(f"#tab-{other.get_attribute('data-way')}")
        press(other, "resource")
        # Refused as ended; or, where the page's own look at the server (its inspect) found
        # the server-side session gone, Django already told the browser to drop the cookie.
        answer = last_answer(other)
        assert answer["status"] == 401
        assert answer["code"] in {"session_ended", "not_authenticated"}
    open_tab(playground, "jwt")
    press(panel, "resource")
    assert last_answer(panel)["status"] == 200
    assert playground.problems() == []


@pytest.mark.policy("stock")
def test_the_page_fits_a_phone_and_works_by_keyboard(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(site("stock") + "/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.focus("#tab-cookie")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-db"
    assert page.is_visible("#panel-db")
    assert not page.is_visible("#panel-cookie")
    page.focus("#panel-db form.login input[name=password]")
    page.keyboard.press("Enter")  # submits the login form
    panel = page.locator("#panel-db")
    assert last_answer(panel, "POST login")["status"] == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_every_way_has_a_panel(playground):
    tabs = playground.locator("[role=tab]").all_inner_texts()

    assert tabs == [way.name for way in WAYS] + [
        f"{way.name} (insecure)" for way in DEMONSTRATION_WAYS
    ]


def test_the_plain_cookie_way_lets_the_visitor_become_another_user(playground):
    panel = log_in(playground, PLAIN_COOKIE.name)
    own_id = playground.evaluate("document.cookie.match(/(?:^|; )user_id=(\\d+)/)[1]")
    holds = held(panel)
    assert holds["user_id"]["readable"] == "true"  # not HttpOnly: the page reads it
    assert f"user_id={own_id}" in holds["user_id"]["text"]
    assert "Nothing, ever" in panel.locator(".keeps").inner_text()

    other_id = str(int(own_id) % 2 + 1)  # make run's two users, demo and alice
    panel.locator("form.forge input[name=user_id]").fill(other_id)
    panel.locator("form.forge button[type=submit]").click()
    forged = last_answer(panel, f"user_id={other_id}")

    assert forged["status"] == 200
    assert f"As {OTHER_USERNAME}" in forged["text"]
    assert playground.evaluate("document.cookie").count(f"user_id={other_id}") == 1
    assert playground.problems() == []


def test_every_answer_names_the_node_that_served_it(playground):
    panel = log_in(playground, "db")
    press(panel, "resource")

    entries = panel.locator(".answers li").all_inner_texts()
    assert len(entries) == 2
    assert all(entry.endswith(f"(served by {NODE_NAME})") for entry in entries)


def test_a_plain_cookie_copied_before_logout_still_works(playground):
    panel = log_in(playground, PLAIN_COOKIE.name)
    press(panel, "copy")
    press(panel, "logout")
    press(panel, "resource")
    assert last_answer(panel)["status"] == 401  # the browser forgot it

    press(panel, "replay")

    replayed = last_answer(panel)
    assert replayed["status"] == 200
    assert f"As {DEMO_USERNAME}" in replayed["text"]
    assert playground.problems() == []
