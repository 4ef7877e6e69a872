"""The database a DATABASE_URL names, with SQLite set up for several processes at once."""

import environ

# SQLite serves several processes here: gunicorn's workers, the cleanup commands, a second
# app server. In WAL mode no reader waits for the one writer, nor the writer for readers; a
# write waits only for another write. synchronous=NORMAL is WAL's usual partner: a commit
# survives a crash of the process, and only a power loss can take back the last ones.
# IMMEDIATE takes the write lock when a transaction begins, where SQLite's busy timeout
# retries it, instead of upgrading a read lock mid-transaction, which fails at once
# ("database is locked"). Django's notes on SQLite recommend both options.
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
}


def database_config(url: str) -> dict:
    """The DATABASES entry for a database URL; a SQLite one also gets SQLITE_OPTIONS."""
    database = environ.Env.db_url_config(url)
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["OPTIONS"] = {**SQLITE_OPTIONS, **database.get("OPTIONS", {})}
    return database
