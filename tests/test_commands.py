"""Management commands."""

import os
import secrets
import subprocess
import sys
from http import HTTPStatus
from urllib.parse import urlsplit

import psycopg
import pytest
from django.core.management import call_command

from accounts.models import User
from testing.clients import WayClient
from ways.registry import WAYS

from conftest import POSTGRESQL_URL, needs
from helpers import QUERIES_PER_RESOURCE_REQUEST
from test_settings import PROJECT_ROOT


def test_ensure_demo_user_creates_then_updates_one_user(db, capsys):
    call_command("ensure_demo_user")
    user = User.objects.get(username="demo")
    user.set_password("changed by hand")
    user.is_active = False
    user.save()

    call_command("ensure_demo_user")

    assert User.objects.filter(username="demo").count() == 1
    user.refresh_from_db()
    assert user.is_active
    assert user.check_password("demo-password")
    assert capsys.readouterr().out.splitlines() == [
        "Created demo user 'demo' (password 'demo-password').",
        "Updated demo user 'demo' (password 'demo-password').",
    ]


def test_rerunning_ensure_demo_user_changes_nothing_and_logs_no_one_out(db, capsys):
    call_command("ensure_demo_user")
    clients = [WayClient(way) for way in WAYS]
    for client in clients:
        assert client.login("demo", "demo-password").status_code == HTTPStatus.OK
    hashed = User.objects.get(username="demo").password

    call_command("ensure_demo_user")

    assert User.objects.get(username="demo").password == hashed
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Kept demo user 'demo' (password 'demo-password')."
    )
    # Each session keeps its hash of the password, each token its hash of that hash.
    assert [client.resource().status_code for client in clients] == [HTTPStatus.OK] * len(WAYS)


def test_ensure_demo_user_can_open_the_admin(db, client):
    call_command("ensure_demo_user", "--username", "ada", "--password", "s3cret-enough")

    # Through the admin's login form, as a person would: django-axes watches it.
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "ada", "password": "s3cret-enough"}
    )

    assert response.status_code == HTTPStatus.FOUND
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_queries_per_request_prints_the_counts_the_contract_asserts(db, capsys):
    call_command("queries_per_request")

    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines == [
        f"{name:<11} {count:>2} queries per resource request"
        for name, count in QUERIES_PER_RESOURCE_REQUEST.items()
    ]
    assert User.objects.count() == 0  # the throwaway user was rolled back


def test_make_run_installs_the_runtime_requirements_only(tmp_path):
    # make -n prints what a fresh machine would run, without running it.
    result = subprocess.run(  # noqa: S603 - the project's own Makefile
        ["make", "-n", "run", f"VENV={tmp_path / 'venv'}"],  # noqa: S607 - make, from PATH
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    installs = [line for line in result.stdout.splitlines() if "pip install" in line]
    assert any(line.endswith("-r requirements.txt") for line in installs), installs
    assert not any("requirements-dev.txt" in line for line in installs), installs
    assert "manage.py ensure_database" in result.stdout


@pytest.fixture
def missing_postgresql_database():
    """The URL of a database that does not exist on the run's PostgreSQL, dropped after."""
    needs("PostgreSQL", POSTGRESQL_URL)
    url = urlsplit(POSTGRESQL_URL)
    name = f"scj_ensure_{secrets.token_hex(4)}"
    yield url._replace(path=f"/{name}").geturl()
    with psycopg.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        dbname="postgres",
        autocommit=True,
    ) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_ensure_database_creates_a_missing_postgresql_database_once(missing_postgresql_database):
    def ensure() -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", "ensure_database"],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DATABASE_URL": missing_postgresql_database},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout.strip()

    name = urlsplit(missing_postgresql_database).path.lstrip("/")
    assert [ensure(), ensure()] == [f"Created database {name!r}.", f"Kept database {name!r}."]
