"""Real app servers on loopback: gunicorn, a fresh database and Redis keys of their own.

Used by the load check, the benchmarks and the tests that need a real server. It imports
nothing from Django: the processes it starts are the Django project, configured by the
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
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3

BASE_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo user of a throwaway database
THREADS_PER_WORKER = 8
# Seconds gunicorn keeps an idle keep-alive connection open. Its default, 2 s, closes the
# connection of a client that paused between two requests of a test, and a request sent as
# the server closes it fails; the clients close theirs when they are done.
KEEP_ALIVE_SECONDS = 60


# --- The server ------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn_serving(
    env: Mapping[str, str],
    *,
    workers: int = 1,
    threads: int = THREADS_PER_WORKER,
    certificate: Path | None = None,
) -> Iterator[str]:
    """Serve the project with gunicorn on a free loopback port; yields the base URL.

    The listening socket is opened here and handed over, so there is no race for the port,
    and requests made before gunicorn is ready wait in its backlog instead of failing. With a
    certificate (a PEM file holding the key and the certificate) it serves HTTPS, as the
    production profile, which redirects plain HTTP, needs.
    """
    listener = socket.create_server((LOOPBACK, 0), backlog=256)
    scheme = "https" if certificate else "http"
    base_url = f"{scheme}://{LOOPBACK}:{listener.getsockname()[1]}"
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after it is printed
    command = [
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
    ]
    env = {key: value for key, value in env.items() if key != "GUNICORN_CMD_ARGS"}
    process = subprocess.Popen(  # noqa: S603 - this interpreter's gunicorn, fixed arguments
        command,
        cwd=BASE_DIR,
        env=env,
        pass_fds=(listener.fileno(),),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    listener.close()  # gunicorn holds its own copy
    try:
        wait_until_serving(base_url, process)
        yield base_url
    except BaseException:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace")[-4000:])
        raise
    finally:
        stop(process)
        log.close()


def serving_workers(env: Mapping[str, str]) -> int:
    """gunicorn worker processes for env: one with the local-memory cache, else up to four.

    The local-memory cache lives in one process: more workers would split the sessions.
    """
    return min(4, os.cpu_count() or 1) if env.get("REDIS_URL") else 1


def wait_until_serving(base_url: str, process: subprocess.Popen, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            # Any certificate will do: this only asks whether the server answers yet.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                if requests.get(f"{base_url}/api/ways/", timeout=5, verify=False).ok:  # noqa: S501
                    return
        # A worker's first request loads the whole project: on a busy machine it may take
        # longer than one try waits. Only the deadline ends the waiting.
        except (requests.ConnectionError, requests.Timeout):
            pass
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
    """The environment for servers a measurement or a test starts: base's services, own keys.

    Keys come fresh, and none of base's SECRET_KEY_FALLBACKS or JWT_SIGNING_KEY: SimpleJWT
    then signs with SECRET_KEY, its default, and results do not depend on the caller's keys.
    """
    env = {
        key: value
        for key, value in base.items()
        if key not in {"SECRET_KEY_FALLBACKS", "JWT_SIGNING_KEY", "GUNICORN_CMD_ARGS"}
    }
    # Plain HTTP on loopback: the production profile would redirect every request to HTTPS.
    env["DEBUG"] = "true"
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env.setdefault("LOG_LEVEL", "ERROR")
    return env


# --- Services and databases ------------------------------------------------------------------


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or LOOPBACK, parts.port or default_port


def reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        return False
    return True


def is_postgresql(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://"))


def services(env: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """The services the environment names: PostgreSQL by DATABASE_URL, Redis by REDIS_URL."""
    found = {}
    database_url = env.get("DATABASE_URL", "")
    if is_postgresql(database_url):
        found["PostgreSQL (DATABASE_URL)"] = host_port(database_url, 5432)
    if env.get("REDIS_URL"):
        found["Redis (REDIS_URL)"] = host_port(env["REDIS_URL"], 6379)
    return found


def services_problem(env: Mapping[str, str]) -> str | None:
    """Why the servers cannot run with these services (not on loopback, unreachable), or None."""
    named = services(env)
    not_loopback = [name for name, (host, _) in named.items() if host not in LOOPBACK_NAMES]
    if not_loopback:
        return f"{', '.join(not_loopback)} is not on loopback"
    down = [name for name, address in named.items() if not reachable(*address)]
    if down:
        return f"{', '.join(down)} not reachable"
    return None


@contextlib.contextmanager
def fresh_database(env: Mapping[str, str], *, label: str = "run") -> Iterator[str]:
    """The DATABASE_URL of a new, empty database, dropped (or deleted) afterwards.

    PostgreSQL when the environment's DATABASE_URL names it (a database of its own beside
    that one, never that one), else SQLite in a temporary directory.
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
    """A fresh database (see fresh_database), migrated, with the demo user in it."""
    with fresh_database(env, label=label) as database_url:
        env = {**env, "DATABASE_URL": database_url}
        manage(env, "migrate", "--no-input")
        manage(
            env, "ensure_demo_user", f"--username={DEMO_USERNAME}", f"--password={DEMO_PASSWORD}"
        )
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

            client = redis.Redis.from_url(env["REDIS_URL"])
            # Only our prefix: the cache aliases write under "<prefix>-<alias>". A bench
            # leaves a million keys: UNLINK them a batch per round trip.
            keys = client.scan_iter(match=f"{prefix}-*", count=10_000)
            while batch := list(itertools.islice(keys, 10_000)):
                client.unlink(*batch)
            client.close()


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
