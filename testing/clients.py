"""Clients that drive one way in through its real endpoints: in-process, and over HTTP."""

import base64
import contextlib
import json
import warnings
from collections.abc import Mapping
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie

import requests
import urllib3
from django.conf import settings
from django.test import Client

from testing.servers import DEMO_PASSWORD, DEMO_USERNAME
from ways.registry import Way, plain_cookie_name


def request_host() -> str:
    """A host name the settings allow, for requests made in-process."""
    allowed = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host != "*"]
    return allowed[0] if allowed else "localhost"


class WayVerbs:
    """The verbs of one way in, whichever client carries the requests.

    Like a browser it keeps the cookies it is given and echoes the CSRF cookie in X-CSRFToken;
    like an API client it keeps a header way's tokens and sends `Authorization: Bearer`.
    A subclass sets transport and provides path(verb), send(method, path, body, headers) and
    cookie(name).
    """

    csrf_cookie_name = "csrftoken"
    transport: str

    def __init__(self):
        self.tokens: dict[str, str] = {}

    @property
    def uses_cookies(self) -> bool:
        return self.transport == "cookie"

    def authorization(self) -> dict[str, str]:
        access = self.tokens.get("access")
        return {"Authorization": f"Bearer {access}"} if access else {}

    def csrf_headers(self) -> dict[str, str]:
        if not self.uses_cookies:
            return {}
        if self.cookie(self.csrf_cookie_name) is None:
            self.send("GET", self.path("login"))  # sets the CSRF cookie
        return {"X-CSRFToken": self.cookie(self.csrf_cookie_name) or ""}

    def post(self, verb: str, body: Mapping | None = None, *, csrf: bool = True):
        return self.send("POST", self.path(verb), body, self.csrf_headers() if csrf else {})

    def login(self, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD, **options):
        self.tokens = {}  # a stale access token must not travel with a new login
        answer = self.post("login", {"username": username, "password": password}, **options)
        return self.tokens_keep(answer)

    def resource(self, headers=None):
        return self.send("GET", self.path("resource"), headers=headers)

    def refresh(self):
        return self.tokens_keep(self.post("refresh", self.refresh_body()))

    def logout(self):
        answer = self.post("logout", self.refresh_body())
        if answer.status_code == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {}  # what a client does: the server cannot take them back
        return answer

    def password_change(self, old_password: str, new_password: str, **fields):
        body = {"old_password": old_password, "new_password": new_password, **fields}
        # The answer carries the credential the client goes on with, as a login's does.
        return self.tokens_keep(self.post("password", body))

    def refresh_body(self) -> dict | None:
        return None if self.uses_cookies else {"refresh": self.tokens.get("refresh", "")}

    def tokens_keep(self, answer):
        if answer.status_code == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {key: answer.json()[key] for key in ("access", "refresh")}
        return answer


class WayClient(WayVerbs):
    """Drives one way in through its real endpoints, in-process, with Django's test client."""

    def __init__(self, way: Way, *, https: bool = False, **client_defaults):
        super().__init__()
        self.way, self.transport, self.https = way, way.transport, https
        self.csrf_cookie_name = settings.CSRF_COOKIE_NAME
        if https:
            # As a browser on this site would: Django's CSRF check demands a Referer on HTTPS.
            host = client_defaults.get("HTTP_HOST", "testserver")
            client_defaults = {"HTTP_REFERER": f"https://{host}/", **client_defaults}
        # Django's test client skips CSRF checks unless told not to; real clients get them.
        self.client = Client(enforce_csrf_checks=True, **client_defaults)
        self.client_defaults = client_defaults

    def path(self, verb: str) -> str:
        return self.way.path(verb)

    def send(self, method: str, path: str, body: Mapping | None = None, headers=None):
        # Without a body (a GET) generic() sends no Content-Type, as get() would not.
        return self.client.generic(
            method,
            path,
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={**self.authorization(), **(headers or {})},
            secure=self.https,
        )

    def cookie(self, name: str) -> str | None:
        morsel = self.client.cookies.get(name)
        return morsel.value if morsel is not None else None

    @property
    def credential_name(self) -> str:
        """Name of the cookie (or token) that authenticates calls to the resource."""
        if self.way.kind == "session":
            return self.way.session_cookie_name
        if self.way.kind == "plain":
            return plain_cookie_name()
        return settings.JWT_ACCESS_COOKIE_NAME if self.uses_cookies else "access"

    @property
    def credential(self) -> str:
        if self.uses_cookies:
            return self.client.cookies[self.credential_name].value
        return self.tokens["access"]

    @credential.setter
    def credential(self, value: str) -> None:
        if self.uses_cookies:
            self.client.cookies[self.credential_name] = value
        else:
            self.tokens = {**self.tokens, "access": value}

    def replaying(self, credential: str) -> "WayClient":
        """A fresh client holding nothing but a copy of a credential, as a thief would."""
        thief = type(self)(self.way, https=self.https, **self.client_defaults)
        thief.tokens = dict(self.tokens)
        thief.credential = credential
        return thief


class WayHttpClient(WayVerbs):
    """One browser or API client of one way in, over HTTP, with a requests.Session of its own.

    `way` is the way's entry in `GET /api/ways/`: the client knows nothing but the contract.
    """

    def __init__(self, base_url: str, way: Mapping | None = None, *, csrf_cookie_name="csrftoken"):
        super().__init__()
        self.base_url, self.way, self.csrf_cookie_name = base_url, way, csrf_cookie_name
        self.transport = way["transport"] if way else ""
        self.session = requests.Session()
        # Our servers on loopback, with certificates made for the run: no proxy or CA bundle
        # of the environment applies (it would override verify).
        self.session.trust_env = self.session.verify = False
        # Max-Age of each cookie as the server set it; the jar keeps an absolute expiry only.
        self.max_ages: dict[str, int] = {}
        self.session.hooks["response"].append(self._remember_max_ages)

    def path(self, verb: str) -> str:
        return self.way[verb]

    def send(self, method: str, path: str, body: Mapping | None = None, headers=None):
        headers = {**self.authorization(), **(headers or {})}
        if self.base_url.startswith("https://"):
            # As a browser on this site would: Django's CSRF check demands a Referer on HTTPS.
            headers.setdefault("Referer", self.base_url + "/")
        with warnings.catch_warnings(action="ignore", category=urllib3.exceptions.HTTPWarning):
            return self.session.request(
                method,
                self.base_url + path,
                json=body,
                headers=headers,
                timeout=30,
                allow_redirects=False,
            )

    def cookie(self, name: str) -> str | None:
        return self.session.cookies.get(name)

    def close(self) -> None:
        self.session.close()

    def _remember_max_ages(self, response, *args, **kwargs) -> None:
        for header in response.raw.headers.getlist("Set-Cookie"):
            with contextlib.suppress(CookieError):
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"]:
                        self.max_ages[name] = int(morsel["max-age"])

    def resource_headers(self) -> dict[str, str]:
        """What carries the credential in a GET of the resource: a Cookie header, or a token."""
        if not self.uses_cookies:
            return self.authorization()
        request = requests.Request("GET", self.base_url + self.path("resource"))
        return {"Cookie": self.session.prepare_request(request).headers.get("Cookie", "")}

    def log_in(self, **credentials) -> None:
        """Log in, as the README's curl examples do, or raise LoginFailed."""
        answer = self.login(**credentials)
        if answer.status_code != HTTPStatus.OK:
            raise LoginFailed(
                f"{self.way['name']}: login answered {answer.status_code}: {answer.text[:200]}"
            )

    def copy(self, *, base_url: str | None = None) -> "WayHttpClient":
        """A client holding a copy of these cookies and tokens, on this or another server."""
        other = type(self)(
            base_url or self.base_url, self.way, csrf_cookie_name=self.csrf_cookie_name
        )
        other.session.cookies.update(self.session.cookies)
        other.tokens, other.max_ages = dict(self.tokens), dict(self.max_ages)
        return other


class LoginFailed(Exception):
    pass


def ways_served(base_url: str) -> dict[str, dict]:
    """The server's listing of its ways (GET /api/ways/), by name."""
    with contextlib.closing(WayHttpClient(base_url)) as client:
        return {way["name"]: way for way in client.send("GET", "/api/ways/").json()["ways"]}


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, decoded without checking anything: anyone can read it."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
