"""Count what one call to the protected resource costs each way in, through the real endpoints."""

import secrets
from http import HTTPStatus

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from testing.clients import WayClient, request_host
from ways.registry import WAYS, cache_description, database_description


class Command(BaseCommand):
    help = (
        "Log in through every way with a throwaway user and print the database queries one "
        "resource request costs. Database writes are rolled back; sessions are logged out."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sql", action="store_true", help="print each query too")

    def handle(self, *args, sql, **options):
        self.stdout.write(
            f"database: {database_description()}; sessions cache: {cache_description()}"
        )
        with transaction.atomic():
            password = secrets.token_urlsafe(16)
            user = User.objects.create_user(
                username=f"queries-{secrets.token_hex(4)}", password=password
            )
            for way in WAYS:
                client = WayClient(way, HTTP_HOST=request_host())
                if client.login(user.username, password).status_code != HTTPStatus.OK:
                    raise CommandError(f"{way.name}: login failed")
                with CaptureQueriesContext(connection) as queries:
                    response = client.resource()
                if response.status_code != HTTPStatus.OK:
                    raise CommandError(f"{way.name}: resource answered {response.status_code}")
                self.stdout.write(f"{way.name:<11} {len(queries):>2} queries per resource request")
                if sql:
                    for query in queries:
                        self.stdout.write(f"    {query['sql']}")
                client.logout()
            transaction.set_rollback(True)
