"""Create the PostgreSQL database DATABASE_URL names when it does not exist yet.

`make run` runs it before migrate, so that a DATABASE_URL naming a new database works from
the first run, as SQLite does. It connects to the server's maintenance database, `postgres`,
with the same credentials. SQLite creates its file on first use: nothing to do there.
"""

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import sql


class Command(BaseCommand):
    help = "Create the database DATABASE_URL names, when it is PostgreSQL and missing."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            self.stdout.write(f"{connection.vendor}: nothing to create.")
            return
        # The parameters Django itself connects with, pointed at the maintenance database.
        params = {**connection.get_connection_params(), "dbname": "postgres"}
        name = connection.settings_dict["NAME"]
        try:
            with psycopg.connect(**params, autocommit=True) as server:
                exists = server.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone()
                if not exists:
                    server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.OperationalError as error:
            raise CommandError(f"Cannot reach PostgreSQL to create {name!r}: {error}") from error
        self.stdout.write(f"{'Kept' if exists else 'Created'} database {name!r}.")
