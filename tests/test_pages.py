"""The landing page: every way in, where its state lives, its URLs and an example."""

from http import HTTPStatus

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
