"""A bounded load check: concurrent clients on every way in, against gunicorn on loopback.

For each way the server lists at /api/ways/, CLIENTS clients log in once through the real
endpoints, then call the protected resource in a loop for SECONDS seconds (or until a cap of
requests). Every answer must be 200: any other status, or any exception, is an error and the
check exits 1. The first row, the anonymous listing /api/ways/, is the floor the others are
compared with. It measures nothing exactly (the machine is shared); it proves that every way
holds up under concurrency, and prints how fast each one was in the same run.

The database is a fresh one: SQLite in a temporary directory, or, when DATABASE_URL names a
PostgreSQL server, a database created for the run and dropped afterwards. With REDIS_URL the
cache ways use Redis, under a key prefix of this run's own that is deleted afterwards. Without
it they use the local-memory cache, which only one process can see: gunicorn then runs one
worker process (with threads). Servers and services must be on loopback.

    python scripts/load_check.py                   # the embedded default
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scj REDIS_URL=redis://127.0.0.1:6379/11 \\
        python scripts/load_check.py --if-reachable
"""

import argparse
import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo user of a throwaway database


# --- The server ------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn_serving(env: dict[str, str], *, workers: int = 1, threads: int = 8) -> Iterator[str]:
    """Serve the project with gunicorn on a free loopback port; yields the base URL.

    The listening socket is opened here and handed over, so there is no race for the port,
    and requests made before gunicorn is ready wait in its backlog instead of failing.
    """
    listener = socket.create_server((LOOPBACK, 0), backlog=256)
    base_url = f"http://{LOOPBACK}:{listener.getsockname()[1]}"
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
        "--log-level=warning",
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


def wait_until_serving(base_url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    url = urlsplit(base_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        try:
            connection.request("GET", "/api/ways/")
            if connection.getresponse().status == HTTPStatus.OK:
                return
        except OSError:
            pass
        finally:
            connection.close()
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


# --- A client --------------------------------------------------------------------------------


class Client:
    """One HTTP/1.1 connection with cookies of its own, as one browser or API client."""

    def __init__(self, base_url: str):
        url = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        headers = {**self.headers, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, content

    def log_in(self, way: dict) -> None:
        """Log in through the way's real endpoints, as the README's curl examples do."""
        headers = {}
        if way["transport"] == "cookie":
            self.request("GET", way["login"])  # the csrftoken cookie
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        credentials = {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
        status, content = self.request("POST", way["login"], credentials, headers)
        if status != HTTPStatus.OK:
            raise LoginFailed(f"{way['name']}: login answered {status}: {content[:200]!r}")
        if way["transport"] == "header":
            self.headers["Authorization"] = f"Bearer {json.loads(content)['access']}"

    def close(self) -> None:
        self.connection.close()


class LoginFailed(Exception):
    pass


# --- The run ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients of one row saw; the clients add to it under its lock."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def hammer(base_url: str, name: str, path: str, way: dict | None, args) -> Tally:
    """CLIENTS clients: each logs in (if a way is given), then GETs path until time is up."""
    tally = Tally(name)
    cap_per_client = args.max_requests // args.clients
    deadline: list[float] = []

    def start_the_clock() -> None:  # run once, as the last client passes the barrier
        deadline.append(time.monotonic() + args.seconds)

    ready = threading.Barrier(args.clients, action=start_the_clock)

    def client_run() -> None:
        client = Client(base_url)
        try:
            try:
                if way is not None:
                    client.log_in(way)
            except (OSError, http.client.HTTPException, LoginFailed) as error:
                with tally.lock:
                    tally.errors.append(f"login: {error!r}")
                return
            finally:
                # A keep-alive connection idle while the others log in may have been closed.
                client.close()
                ready.wait()
            latencies, errors = [], []
            for _ in range(cap_per_client):
                if time.monotonic() >= deadline[0]:
                    break
                started = time.monotonic()
                try:
                    status, content = client.request("GET", path)
                except (OSError, http.client.HTTPException) as error:
                    errors.append(repr(error))
                    client.close()
                    continue
                if status == HTTPStatus.OK:
                    latencies.append(time.monotonic() - started)
                else:
                    errors.append(f"{status}: {content[:200]!r}")
            with tally.lock:
                tally.latencies.extend(latencies)
                tally.errors.extend(errors)
        finally:
            client.close()

    threads = [threading.Thread(target=client_run, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds = time.monotonic() - (deadline[0] - args.seconds)
    return tally


def report(tallies: list[Tally]) -> str:
    floor = tallies[0].percentile_ms(0.5)
    lines = [
        f"{'way':<24} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'p50/floor':>10}"
    ]
    for tally in tallies:
        p50 = tally.percentile_ms(0.5)
        lines.append(
            f"{tally.name:<24} {tally.requests:>9} {len(tally.errors):>7}"
            f" {tally.requests / tally.seconds:>8.0f} {p50:>8.1f} {tally.percentile_ms(0.99):>8.1f}"
            f" {p50 / floor:>10.2f}"
        )
    return "\n".join(lines)


def run(base_url: str, args) -> list[Tally]:
    client = Client(base_url)
    status, content = client.request("GET", "/api/ways/")
    client.close()
    if status != HTTPStatus.OK:
        raise RuntimeError(f"/api/ways/ answered {status}")
    ways = json.loads(content)["ways"]
    tallies = [hammer(base_url, "floor: GET /api/ways/", "/api/ways/", None, args)]
    for way in ways:
        tallies.append(hammer(base_url, way["name"], way["resource"], way, args))
    return tallies


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


def services(env: dict[str, str]) -> dict[str, tuple[str, int]]:
    """The services the environment names: PostgreSQL by DATABASE_URL, Redis by REDIS_URL."""
    found = {}
    database_url = env.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        found["PostgreSQL (DATABASE_URL)"] = host_port(database_url, 5432)
    if env.get("REDIS_URL"):
        found["Redis (REDIS_URL)"] = host_port(env["REDIS_URL"], 6379)
    return found


@contextlib.contextmanager
def fresh_database(env: dict[str, str]) -> Iterator[str]:
    """The DATABASE_URL of a new, empty database, dropped (or deleted) afterwards."""
    database_url = env.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        with tempfile.TemporaryDirectory(prefix="load-check-") as directory:
            yield f"sqlite:///{Path(directory) / 'load-check.sqlite3'}"
        return
    import psycopg  # only a PostgreSQL run needs it

    url = urlsplit(database_url)
    name = f"{url.path.lstrip('/') or 'postgres'}_load_{secrets.token_hex(4)}"
    admin = {
        "host": url.hostname,
        "port": url.port or 5432,
        "user": url.username,
        "password": url.password,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def own_redis_keys(env: dict[str, str]) -> Iterator[str]:
    """A cache key prefix of this run's own; with Redis, its keys are deleted afterwards."""
    prefix = f"scj-load-{secrets.token_hex(4)}"
    try:
        yield prefix
    finally:
        if env.get("REDIS_URL"):
            import redis  # only a Redis run needs it

            client = redis.Redis.from_url(env["REDIS_URL"])
            for key in client.scan_iter(match=f"{prefix}-*", count=1000):
                client.delete(key)
            client.close()


def manage(env: dict[str, str], *arguments: str) -> None:
    subprocess.run(  # noqa: S603 - this interpreter's manage.py, fixed arguments
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=2.0, help="per way")
    parser.add_argument("--max-requests", type=int, default=20_000, help="per way, a hard cap")
    parser.add_argument(
        "--if-reachable",
        action="store_true",
        help="skip (exit 0) when DATABASE_URL or REDIS_URL cannot be reached, "
        "unless REQUIRE_SERVICES=1",
    )
    args = parser.parse_args()

    env = dict(os.environ)
    named = services(env)
    not_loopback = [name for name, (host, _) in named.items() if host not in LOOPBACK_NAMES]
    if not_loopback:
        print(f"The load check runs on loopback only: {', '.join(not_loopback)} is not.")
        return 2
    down = [name for name, address in named.items() if not reachable(*address)]
    if down:
        message = f"{', '.join(down)} not reachable"
        if args.if_reachable and os.environ.get("REQUIRE_SERVICES") != "1":
            print(f"Load check skipped: {message}.")
            return 0
        print(f"Load check failed: {message}.")
        return 1

    # Plain HTTP on loopback: the production profile would redirect every request to HTTPS.
    env["DEBUG"] = "true"
    env.setdefault("LOG_LEVEL", "ERROR")
    with fresh_database(env) as database_url, own_redis_keys(env) as prefix:
        env["DATABASE_URL"] = database_url
        env["CACHE_KEY_PREFIX"] = prefix
        manage(env, "migrate", "--no-input")
        manage(
            env, "ensure_demo_user", f"--username={DEMO_USERNAME}", f"--password={DEMO_PASSWORD}"
        )
        # The local-memory cache lives in one process: more workers would split the sessions.
        workers = min(4, os.cpu_count() or 1) if env.get("REDIS_URL") else 1
        database = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
        cache = "Redis" if env.get("REDIS_URL") else "local memory"
        print(
            f"gunicorn: {workers} worker(s) x 8 threads; database: {database}; sessions cache:"
            f" {cache}; {args.clients} clients x {args.seconds:g} s per way"
        )
        with gunicorn_serving(env, workers=workers) as base_url:
            tallies = run(base_url, args)
    print(report(tallies))
    errors = [(tally.name, error) for tally in tallies for error in tally.errors]
    for name, error in errors[:10]:
        print(f"error: {name}: {error}")
    if errors or not all(tally.latencies for tally in tallies):
        print(f"FAILED: {len(errors)} error(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
