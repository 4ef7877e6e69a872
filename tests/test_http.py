"""The contract probed over real HTTP by clients that know nothing but the contract."""

import re
import shutil
import subprocess
from html import unescape
from http import HTTPStatus

import pytest
import requests

from accounts.services import demo_user_ensure
from ways.registry import served_ways

from conftest import skip_or_fail_without


@pytest.fixture
def demo_user(transactional_db):
    return demo_user_ensure(username="demo", password="demo-password")[0]


def discover(base_url: str) -> list[dict]:
    response = requests.get(f"{base_url}/api/ways/", timeout=10)
    assert response.status_code == HTTPStatus.OK
    return response.json()["ways"]


def walk_every_verb(base_url: str, way: dict) -> dict[str, int]:
    """Log in, call the resource, refresh, log out and replay, as the contract describes."""
    session = requests.Session()
    headers = {}
    statuses = {}

    def csrf() -> dict[str, str]:
        return {"X-CSRFToken": session.cookies["csrftoken"]} if way["transport"] == "cookie" else {}

    if way["transport"] == "cookie":
        assert session.get(base_url + way["login"], timeout=10).status_code == HTTPStatus.OK
    credentials = {"username": "demo", "password": "demo-password"}
    login = session.post(base_url + way["login"], json=credentials, headers=csrf(), timeout=10)
    statuses["login"] = login.status_code
    tokens = login.json() if way["transport"] == "header" else {}
    if tokens:
        headers = {"Authorization": f"Bearer {tokens['access']}"}
    statuses["resource"] = session.get(
        base_url + way["resource"], headers=headers, timeout=10
    ).status_code
    if way["refresh"]:
        body = {"refresh": tokens["refresh"]} if tokens else None
        refresh = session.post(base_url + way["refresh"], json=body, headers=csrf(), timeout=10)
        statuses["refresh"] = refresh.status_code
        tokens = refresh.json() if tokens else {}
    replay = dict(session.cookies)
    body = {"refresh": tokens["refresh"]} if tokens else None
    statuses["logout"] = session.post(
        base_url + way["logout"], json=body, headers=csrf(), timeout=10
    ).status_code
    statuses["after logout"] = requests.get(base_url + way["resource"], timeout=10).status_code
    statuses["replay"] = requests.get(
        base_url + way["resource"], cookies=replay, headers=headers, timeout=10
    ).status_code
    return statuses


def test_every_way_passes_every_verb_over_http(live_server, demo_user):
    statuses = {
        way["name"]: walk_every_verb(live_server.url, way) for way in discover(live_server.url)
    }

    ok, unauthorized = HTTPStatus.OK, HTTPStatus.UNAUTHORIZED
    session = {"login": ok, "resource": ok, "logout": ok, "after logout": unauthorized}
    token = {**session, "refresh": ok}
    assert statuses == {
        "cookie": {**session, "replay": ok},  # the signed cookie lives until it expires
        "db": {**session, "replay": unauthorized},
        "cache": {**session, "replay": unauthorized},
        "cached-db": {**session, "replay": unauthorized},
        "jwt": {**token, "replay": ok},  # the access token lives until it expires
        "jwt-cookie": {**token, "replay": ok},
    }


@pytest.fixture
def curl():
    if shutil.which("curl") is None:
        skip_or_fail_without("curl (.ci/run installs it)")


def test_landing_page_curl_examples_work(live_server, demo_user, curl):
    page = requests.get(live_server.url + "/", timeout=10).text
    examples = [unescape(block) for block in re.findall(r"<pre>(.*?)</pre>", page, re.DOTALL)]
    assert len(examples) == len(served_ways())

    for example in examples:
        result = subprocess.run(  # noqa: S603 - the page's own examples, against our server
            ["bash", "-euo", "pipefail", "-c", example],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, (example, result.stderr)
        assert '"resource":"The same protected resource' in result.stdout, example
        assert '"detail":"Logged out."' in result.stdout, example
