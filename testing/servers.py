"""Real app servers on loopback: gunicorn, a fresh database and Redis keys of their own.

It imports nothing from Django: the processes it starts are the project, configured by the
environment they are given.
"""

import contextlib
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3

BASE_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo user of a throwaway database
# The second user make run creates: the one the plain-cookie way lets anyone become.
OTHER_USERNAME, OTHER_PASSWORD = "alice", "alice-password"
THREADS_PER_WORKER = 8
# gunicorn's default, 2 s, closes the connection of a client that paused between two
# requests of a test, and a request sent as the server closes it fails.
KEEP_ALIVE_SECONDS = 60
DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379}


# --- The server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gunicorn:
    """A gunicorn serving the project: where it answers, and its master process."""

    base_url: str
    process: subprocess.Popen

    def kill(self) -> None:
        """Kill the master and its workers at once, as a crashed machine would go."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextlib.contextmanager
def gunicorn_serving(env: Mapping[str, str], **serving) -> Iterator[str]:
    """Serve the project with gunicorn on a free loopback port; yields the base URL.

    See gunicorn_started for the options.
    """
    with gunicorn_started(env, **serving) as server:
        yield server.base_url


@contextlib.contextmanager
def gunicorn_started(
    env: Mapping[str, str],
    *,
    workers: int = 1,
    threads: int = THREADS_PER_WORKER,
    certificate: Path | None = None,
) -> Iterator[Gunicorn]:
    """Serve the project with gunicorn on a free loopback port; yields the server.

    The socket is bound here and handed over: no race for the port, and early requests wait
    in the backlog. A certificate (a PEM file with key and certificate) makes it HTTPS.
    """
    listener = socket.create_server((LOOPBACK, 0), backlog=256)
    base_url = f"{'https' if certificate else 'http'}://{LOOPBACK}:{listener.getsockname()[1]}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after it is printed
    process = subprocess.Popen(  # noqa: S603 - this interpreter's gunicorn, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            f"--bind=fd://{listener.fileno()}",
            "--worker-class=gthread",
            f"--workers={workers}",
            f"--threads={threads}",
            "--graceful-timeout=5",
            f"--keep-alive={KEEP_ALIVE_SECONDS}",
            "--log-level=warning",
            *([f"--certfile={certificate}"] if certificate else []),
        ],
        cwd=BASE_DIR,
        env={key: value for key, value in env.items() if key != "GUNICORN_CMD_ARGS"},
        pass_fds=(listener.fileno(),),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    listener.close()  # gunicorn holds its own copy
    try:
        wait_until_serving(base_url, process)
        yield Gunicorn(base_url, process)
    except BaseException:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-4000:])
        raise
    finally:
        stop(process)
        log.close()


def serving_workers(env: Mapping[str, str]) -> int:
    """One worker with the local-memory cache (more would split the sessions), else up to four."""
    return min(4, os.cpu_count() or 1) if env.get("REDIS_URL") else 1


def wait_until_serving(base_url: str, process: subprocess.Popen, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        # A worker's first request loads the whole project: on a busy machine it may outlast
        # one try. Any certificate will do: this only asks whether the server answers yet.
        with (
            contextlib.suppress(requests.ConnectionError, requests.Timeout),
            warnings.catch_warnings(action="ignore", category=urllib3.exceptions.HTTPWarning),
        ):
            if requests.get(f"{base_url}/api/ways/", timeout=5, verify=False).ok:  # noqa: S501
                return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on {base_url} within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    """Stop gunicorn (its master stops its workers), forcefully if it will not go."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def server_environment(base: Mapping[str, str]) -> dict[str, str]:
    """base's services with keys of its own, DEBUG on (no HTTPS redirect on loopback).

    None of base's SECRET_KEY_FALLBACKS or JWT_SIGNING_KEY: results must not depend on them.
    """
    dropped = {"SECRET_KEY_FALLBACKS", "JWT_SIGNING_KEY", "GUNICORN_CMD_ARGS"}
    env = {key: value for key, value in base.items() if key not in dropped}
    env |= {"DEBUG": "true", "SECRET_KEY": secrets.token_urlsafe(50)}
    env.setdefault("LOG_LEVEL", "ERROR")
    return env


# --- Services and databases ------------------------------------------------------------------


def address(url: str) -> tuple[str, int]:
    """A service URL's host and port, the scheme's default port if it names none."""
    parts = urlsplit(url)
    return parts.hostname or LOOPBACK, parts.port or DEFAULT_PORTS[parts.scheme]


def reachable(url: str) -> bool:
    try:
        socket.create_connection(address(url), timeout=3).close()
    except OSError:
        return False
    return True


def is_postgresql(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://"))


def services(env: Mapping[str, str]) -> dict[str, str]:
    """The services the environment names, by name: PostgreSQL by DATABASE_URL, Redis."""
    database_url, redis_url = env.get("DATABASE_URL", ""), env.get("REDIS_URL", "")
    return {
        **({"PostgreSQL (DATABASE_URL)": database_url} if is_postgresql(database_url) else {}),
        **({"Redis (REDIS_URL)": redis_url} if redis_url else {}),
    }


def services_problem(env: Mapping[str, str]) -> str | None:
    """Why servers cannot run with these services (not on loopback, unreachable), or None."""
    named = services(env)
    loopback = {"127.0.0.1", "localhost", "::1"}
    if far := [name for name, url in named.items() if address(url)[0] not in loopback]:
        return f"{', '.join(far)} is not on loopback"
    if down := [name for name, url in named.items() if not reachable(url)]:
        return f"{', '.join(down)} not reachable"
    return None


@contextlib.contextmanager
def fresh_database(env: Mapping[str, str], *, label: str = "run") -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards.

    Beside DATABASE_URL's PostgreSQL database (never that one), else SQLite in a temporary file.
    """
    database_url = env.get("DATABASE_URL", "")
    if not is_postgresql(database_url):
        with tempfile.TemporaryDirectory(prefix=f"{label}-") as directory:
            yield f"sqlite:///{Path(directory) / f'{label}.sqlite3'}"
        return
    import psycopg  # only a PostgreSQL run needs it

    url = urlsplit(database_url)
    name = f"{url.path.lstrip('/') or 'postgres'}_{label}_{secrets.token_hex(4)}"
    # The query may hold Django's options (conn_max_age), which libpq would refuse.
    admin = url._replace(path="/postgres", query="").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def demo_database(env: Mapping[str, str], *, label: str = "run") -> Iterator[str]:
    """A fresh database (see fresh_database), migrated, with make run's two users in it."""
    with fresh_database(env, label=label) as database_url:
        env = {**env, "DATABASE_URL": database_url}
        manage(env, "migrate", "--no-input")
        for username, password in (
            (DEMO_USERNAME, DEMO_PASSWORD),
            (OTHER_USERNAME, OTHER_PASSWORD),
        ):
            manage(env, "ensure_demo_user", f"--username={username}", f"--password={password}")
        yield database_url


@contextlib.contextmanager
def own_redis_keys(env: Mapping[str, str], *, label: str = "run") -> Iterator[str]:
    """A cache key prefix of this run's own; with Redis, its keys are deleted afterwards."""
    prefix = f"scj-{label}-{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        if env.get("REDIS_URL"):
            import redis  # only a Redis run needs it

            with redis.Redis.from_url(env["REDIS_URL"]) as client:
                # The cache aliases write under "<prefix>-<alias>".
                redis_unlink(client, f"{prefix}-*")


def redis_unlink(client, pattern: str, *, batch_size: int = 10_000) -> int:
    """UNLINK the keys matching pattern, a batch per round trip: a bench leaves a million.

    (django-redis's delete_pattern() would queue every key in one pipeline.)
    """
    keys, deleted = client.scan_iter(match=pattern, count=batch_size), 0
    while batch := list(itertools.islice(keys, batch_size)):
        deleted += client.unlink(*batch)
    return deleted


@contextlib.contextmanager
def demo_serving(env: Mapping[str, str], *, label: str, **serving) -> Iterator[str]:
    """gunicorn_serving(**serving) on a demo database, with cache keys of its own."""
    with (
        demo_database(env, label=label) as database_url,
        own_redis_keys(env, label=label) as prefix,
        gunicorn_serving(
            {**env, "DATABASE_URL": database_url, "CACHE_KEY_PREFIX": prefix}, **serving
        ) as base_url,
    ):
        yield base_url


def manage(env: Mapping[str, str], *arguments: str) -> None:
    subprocess.run(  # noqa: S603 - this interpreter's manage.py, fixed arguments
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=dict(env),
        check=True,
        stdout=subprocess.DEVNULL,
    )
