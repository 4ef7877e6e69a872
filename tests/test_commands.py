"""Management commands."""

from http import HTTPStatus

from django.core.management import call_command

from accounts.models import User

from helpers import QUERIES_PER_RESOURCE_REQUEST


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
