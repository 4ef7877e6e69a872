"""Real app servers on loopback: gunicorn, a fresh database, own Redis keys and an HTTP client.

Used by the load check, the survival measurements and the multi-instance tests. It imports
nothing from Django: the processes it starts are the Django project, configured by the
environment they are given, and the client knows nothing but the contract (`GET /api/ways/`).
"""

import base64
import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo user of a throwaway database
# gunicorn's gthread workers close a keep-alive connection idle for 2 s (its default): a
# client idle for longer opens a new one rather than write into a connection being closed.
IDLE_RECONNECT_SECONDS = 1.0
THREADS_PER_WORKER = 8


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


def loopback_connection(base_url: str, *, timeout: float) -> http.client.HTTPConnection:
    """A connection to a server of ours on loopback; HTTPS ones have a certificate of our own."""
    url = urlsplit(base_url)
    if url.scheme == "https":
        return http.client.HTTPSConnection(
            url.hostname,
            url.port,
            timeout=timeout,
            context=ssl._create_unverified_context(),  # noqa: S323
        )
    return http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)


def wait_until_serving(base_url: str, process: subprocess.Popen, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        connection = loopback_connection(base_url, timeout=5)
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
            for key in client.scan_iter(match=f"{prefix}-*", count=1000):
                client.delete(key)
            client.close()


def manage(env: Mapping[str, str], *arguments: str) -> None:
    subprocess.run(  # noqa: S603 - this interpreter's manage.py, fixed arguments
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=dict(env),
        check=True,
        stdout=subprocess.DEVNULL,
    )


# --- A client --------------------------------------------------------------------------------


class Answer(NamedTuple):
    """A response's status and body."""

    status: int
    content: bytes

    @property
    def ok(self) -> bool:
        return HTTPStatus.OK <= self.status < HTTPStatus.MULTIPLE_CHOICES

    def json(self):
        return json.loads(self.content)


@dataclass(frozen=True)
class Cookie:
    value: str
    path: str
    max_age: int | None


class LoginFailed(Exception):
    pass


class WayHttpClient:
    """One browser or API client of one way in, over one HTTP/1.1 connection of its own.

    `way` is the way's entry in `GET /api/ways/`. Like a browser, it keeps the cookies it is
    given (their paths and deletions included) and echoes the CSRF cookie in X-CSRFToken on
    the POSTs of cookie ways; like an API client, it keeps the tokens a header way's login and
    refresh return and sends the access token as `Authorization: Bearer`.
    """

    def __init__(
        self,
        base_url: str,
        way: Mapping | None = None,
        *,
        csrf_cookie_name: str = "csrftoken",
        timeout: float = 30,
    ):
        self.base_url = base_url
        self.way = way
        self.csrf_cookie_name = csrf_cookie_name
        self.timeout = timeout
        self.connection = loopback_connection(base_url, timeout=timeout)
        self.last_used = 0.0
        self.jar: dict[str, Cookie] = {}
        self.tokens: dict[str, str] = {}

    # The wire.

    def request(self, method: str, path: str, body: Mapping | None = None, headers=None) -> Answer:
        headers = {**self.authorization(), **(headers or {})}
        if self.base_url.startswith("https://"):
            # As a browser on this site would: Django's CSRF check demands a Referer on HTTPS.
            headers.setdefault("Referer", self.base_url + "/")
        if cookies := self.cookie_header(path):
            headers["Cookie"] = cookies
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if time.monotonic() - self.last_used > IDLE_RECONNECT_SECONDS:
            self.connection.close()  # the next request connects again
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            response = self.connection.getresponse()
            content = response.read()
        except BaseException:
            self.connection.close()  # a half-read response would poison the next request
            raise
        self.last_used = time.monotonic()
        self.keep(response.headers.get_all("Set-Cookie"))
        return Answer(response.status, content)

    def close(self) -> None:
        self.connection.close()

    def authorization(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access']}"} if self.tokens else {}

    def cookie_header(self, path: str) -> str:
        return "; ".join(
            f"{name}={cookie.value}"
            for name, cookie in self.jar.items()
            if path.startswith(cookie.path)
        )

    def keep(self, headers: list[str] | None) -> None:
        """Store (or delete) the cookies of Set-Cookie headers, as a browser does."""
        for header in headers or []:
            try:
                parsed = SimpleCookie(header)
            except CookieError:
                continue  # a browser ignores a cookie it cannot parse, and so do we
            for name, morsel in parsed.items():
                max_age = int(morsel["max-age"]) if morsel["max-age"] else None
                if (max_age is not None and max_age <= 0) or expired(morsel["expires"]):
                    self.jar.pop(name, None)
                else:
                    self.jar[name] = Cookie(morsel.value, morsel["path"] or "/", max_age)

    @property
    def cookies(self) -> dict[str, str]:
        return {name: cookie.value for name, cookie in self.jar.items()}

    # The verbs of the way in.

    @property
    def uses_cookies(self) -> bool:
        return self.way["transport"] == "cookie"

    def csrf_headers(self) -> dict[str, str]:
        if not self.uses_cookies:
            return {}
        if self.csrf_cookie_name not in self.jar:
            self.request("GET", self.way["login"])  # sets the CSRF cookie
        return {"X-CSRFToken": self.cookies.get(self.csrf_cookie_name, "")}

    def login(self, *, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD) -> Answer:
        # A stale access token must not travel with a new login.
        self.tokens = {}
        credentials = {"username": username, "password": password}
        answer = self.request("POST", self.way["login"], credentials, self.csrf_headers())
        if answer.status == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {key: answer.json()[key] for key in ("access", "refresh")}
        return answer

    def log_in(self, **credentials) -> None:
        """Log in, as the README's curl examples do, or raise LoginFailed."""
        answer = self.login(**credentials)
        if answer.status != HTTPStatus.OK:
            raise LoginFailed(
                f"{self.way['name']}: login answered {answer.status}: {answer.content[:200]!r}"
            )

    def resource(self) -> Answer:
        return self.request("GET", self.way["resource"])

    def refresh(self) -> Answer:
        body = None if self.uses_cookies else {"refresh": self.tokens.get("refresh", "")}
        answer = self.request("POST", self.way["refresh"], body, self.csrf_headers())
        if answer.status == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {key: answer.json()[key] for key in ("access", "refresh")}
        return answer

    def logout(self) -> Answer:
        body = None if self.uses_cookies else {"refresh": self.tokens.get("refresh", "")}
        answer = self.request("POST", self.way["logout"], body, self.csrf_headers())
        if answer.status == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {}  # what a client does: the server cannot take them back
        return answer

    def copy(self, *, base_url: str | None = None) -> "WayHttpClient":
        """A new client holding a copy of these cookies and tokens, on this or another server.

        What a thief replays, or what a load balancer sends to another server.
        """
        other = type(self)(
            base_url or self.base_url,
            self.way,
            csrf_cookie_name=self.csrf_cookie_name,
            timeout=self.timeout,
        )
        other.jar = dict(self.jar)
        other.tokens = dict(self.tokens)
        return other


def ways_served(base_url: str) -> dict[str, dict]:
    """The server's listing of its ways (GET /api/ways/), by name."""
    client = WayHttpClient(base_url)
    try:
        return {way["name"]: way for way in client.request("GET", "/api/ways/").json()["ways"]}
    finally:
        client.close()


def expired(expires: str) -> bool:
    if not expires:
        return False
    try:
        return parsedate_to_datetime(expires).timestamp() <= time.time()
    except (TypeError, ValueError):
        return False


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, decoded without checking anything: anyone can read it."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
