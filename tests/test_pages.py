"""The pages: the landing page with every way in, and the API explorer."""

import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from ways.registry import WAYS


def test_landing_page_lists_every_way_with_its_urls(client, db):
    response = client.get("/")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    for way in WAYS:
        listing = way.as_dict()
        assert f'<h2 id="{way.name}"><code>{way.name}</code></h2>' in page
        assert f"<code>POST {listing['login']}</code>" in page
        assert f"<code>GET {listing['resource']}</code>" in page
        assert f"<code>POST {listing['logout']}</code>" in page
        assert (f"<code>POST {listing['refresh']}</code>" in page) == (way.kind == "token")
    assert page.count("<pre>") == len(WAYS)
    assert 'href="/admin/"' in page
    assert 'href="/api/ways/"' in page


def test_landing_page_says_when_sessions_live_in_local_memory(client, db, settings):
    settings.REDIS_URL = ""

    page = client.get("/").content.decode()

    assert "Sessions cache: Django&#x27;s local-memory cache: only this process can see it" in page


def test_landing_page_names_redis_when_configured(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/11"

    page = client.get("/").content.decode()

    assert "Sessions cache: Redis through django-redis, values stored as JSON." in page
    assert "local-memory" not in page


def explorer_page(client) -> str:
    response = client.get(reverse("api-docs"))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


def test_the_api_explorer_loads_only_the_sites_own_files(client, db):
    page = explorer_page(client)

    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert {source.split("?")[0] for source in sources} == {
        "/static/favicon.svg",
        "/static/api-docs.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/api/docs/",  # its start-up script, ?script
    }
    assert "<script>" not in page
    assert "<style>" not in page


@pytest.mark.parametrize("debug", [True, False])
def test_the_api_explorers_files_are_served(db, settings, debug):
    settings.DEBUG = debug
    client = Client()  # WhiteNoise reads DEBUG when the client first loads the middleware
    page = explorer_page(client)

    for source in re.findall(r'(?:src|href)="([^"]*)"', page):
        response = client.get(source)
        assert response.status_code == HTTPStatus.OK, source
    script = client.get(reverse("api-docs") + "?script=")
    assert script["Content-Type"] == "application/javascript"
    assert 'url: "/api/schema/"' in script.content.decode()


def test_the_api_explorer_may_show_data_images_beyond_the_page_policy(client, db):
    page_policy = client.get("/")["Content-Security-Policy"]

    explorer_policy = client.get(reverse("api-docs"))["Content-Security-Policy"]

    assert explorer_policy.replace("img-src 'self' data:", "img-src 'self'") == page_policy


def test_the_api_explorers_errors_are_json_as_everywhere_under_the_api(client, db):
    response = client.post(reverse("api-docs"))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.json() == {"detail": "Method Not Allowed.", "code": "method_not_allowed"}
