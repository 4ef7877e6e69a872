"""The pages: the landing page with every way in, which way to choose, and the API explorer."""

import json
import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from ways.registry import served_ways


def test_landing_page_lists_every_way_with_its_urls(client, db):
    response = client.get("/")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    for way in served_ways():
        listing = way.as_dict()
        assert f'<h2 id="{way.name}"><code>{way.name}</code></h2>' in page
        assert f"<code>POST {listing['login']}</code>" in page
        assert f"<code>GET {listing['resource']}</code>" in page
        assert f"<code>POST {listing['logout']}</code>" in page
        assert (f"<code>POST {listing['refresh']}</code>" in page) == (way.kind == "token")
    assert page.count("<pre>") == len(served_ways())
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


def comparison_with(settings, tmp_path, **changes) -> Path:
    """The committed comparison with some of the db way's figures changed, as a file."""
    results = json.loads(settings.COMPARISON_RESULTS.read_text())
    next(way for way in results["ways"] if way["way"] == "db").update(changes)
    path = tmp_path / "comparison.json"
    path.write_text(json.dumps(results))
    return path


def matrix_with(matrix: str, *, requirement: str, way: str, status: str) -> str:
    """The security matrix with one cell of its first (stock) table changed."""
    lines = matrix.splitlines()
    header = next(line for line in lines if line.startswith("| requirement |"))
    column = 3 + re.findall(r"`([^`]+)`", header).index(way)  # after "", requirement, title
    row = next(index for index, line in enumerate(lines) if line.startswith(f"| {requirement} |"))
    cells = lines[row].split("|")
    cells[column] = f" {status} "
    lines[row] = "|".join(cells)
    return "\n".join(lines)


def choose_page(client) -> str:
    response = client.get(reverse("choose"))
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


@pytest.mark.parametrize(("project_us", "floor_us"), [(1000.0, 250.0), (3000.0, 200.0)])
def test_which_to_choose_quotes_the_figures_of_the_comparison_it_reads(
    client, db, settings, tmp_path, project_us, floor_us
):
    figures = {"project_us": project_us, "floor_us": floor_us}
    settings.COMPARISON_RESULTS = comparison_with(settings, tmp_path, **figures)

    page = choose_page(client)

    ratio = f"{project_us / floor_us:.2f}"
    assert f"A request cost {project_us} µs ({ratio}× the floor) on <code>db</code>" in page
    assert "<strong>Measured:</strong>" in page
    assert "is missing" not in page


def test_scaling_out_quotes_the_cluster_drill_it_reads_and_links_it(client, db, settings, tmp_path):
    results = json.loads(settings.CLUSTER_RESULTS.read_text())
    results["profiles"]["stock"]["scenarios"]["redis_primary_killed"][
        "sentinel_promoted_seconds"
    ] = 7.25
    settings.CLUSTER_RESULTS = tmp_path / "cluster.json"
    settings.CLUSTER_RESULTS.write_text(json.dumps(results))

    page = choose_page(client)

    assert "every Sentinel named its replica the new primary after 7.25 s" in page
    assert "docs/cluster.md" in page


def test_scaling_out_says_what_is_not_measured_without_the_drill(client, db, settings, tmp_path):
    settings.CLUSTER_RESULTS = tmp_path / "never-drilled.json"

    page = choose_page(client)

    assert "Not measured yet: what each way loses behind a load balancer." in page


def test_which_to_choose_says_when_there_are_no_figures(client, db, settings, tmp_path):
    settings.COMPARISON_RESULTS = tmp_path / "never-measured.json"

    page = choose_page(client)

    assert "No measurements to quote: <code>docs/comparison.json</code> is missing." in page
    assert "Measured:" not in page
    assert page.count('<th scope="row">') == 7  # every situation is still answered
    assert "A browser app on the same site as its API" in page


def test_which_to_choose_cites_the_security_matrix_as_the_tests_found_it(
    client, db, settings, tmp_path
):
    matrix = settings.SECURITY_MATRIX.read_text()
    settings.SECURITY_MATRIX = tmp_path / "security-matrix.md"

    settings.SECURITY_MATRIX.write_text(matrix)
    committed = choose_page(client)
    settings.SECURITY_MATRIX.write_text(
        matrix_with(matrix, requirement="ASVS 9.2.3", way="jwt", status="⏳ not yet")
    )
    changed = choose_page(client)
    settings.SECURITY_MATRIX.unlink()
    missing = choose_page(client)

    assert "ASVS 9.2.3 (stock): pass: <code>jwt</code>" in committed
    assert "ASVS 9.2.3 (stock): not yet: <code>jwt</code>" in changed
    assert "ASVS 9.2.3 (stock) <span" in missing
    assert "<code>docs/security-matrix.md</code> is missing" in missing


def test_which_to_choose_links_the_sequence_diagrams_the_server_serves(client, db):
    page = choose_page(client)

    diagrams = re.findall(r'href="(/static/diagrams/[^"]+)"', page)
    assert diagrams
    for path in diagrams:
        assert client.get(path).status_code == HTTPStatus.OK, path


def test_which_to_choose_is_under_the_page_policy(client, db):
    response = client.get(reverse("choose"))

    assert response["Content-Security-Policy"] == client.get("/")["Content-Security-Policy"]
    assert "<script" not in response.content.decode()
    assert "style=" not in response.content.decode()
