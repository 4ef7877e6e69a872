"""A client that drives one way in through its real endpoints, for tests and measurements."""

from http import HTTPStatus

from django.conf import settings
from django.test import Client

from ways.registry import Way


def request_host() -> str:
    """A host name the settings allow, for requests made in-process."""
    allowed = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host != "*"]
    return allowed[0] if allowed else "localhost"


class WayClient:
    """Drives one way in through its real endpoints, as a browser or an API client would."""

    def __init__(self, way: Way, *, https: bool = False, **client_defaults):
        self.way = way
        self.https = https
        if https:
            # As a browser on this site would: Django's CSRF check demands a Referer on HTTPS.
            host = client_defaults.get("HTTP_HOST", "testserver")
            client_defaults = {"HTTP_REFERER": f"https://{host}/", **client_defaults}
        # Django's test client skips CSRF checks unless told not to; real clients get them.
        self.client = Client(enforce_csrf_checks=True, **client_defaults)
        self.client_defaults = client_defaults
        self.tokens: dict[str, str] = {}

    @property
    def uses_cookies(self) -> bool:
        return self.way.transport == "cookie"

    def csrf_headers(self) -> dict[str, str]:
        if not self.uses_cookies:
            return {}
        if settings.CSRF_COOKIE_NAME not in self.client.cookies:
            self.client.get(self.way.path("login"), secure=self.https)  # sets the CSRF cookie
        return {"X-CSRFToken": self.client.cookies[settings.CSRF_COOKIE_NAME].value}

    def post(self, verb: str, body=None, *, csrf: bool = True, **kwargs):
        headers = self.csrf_headers() if csrf else {}
        return self.client.post(
            self.way.path(verb),
            body,
            content_type="application/json",
            headers=headers,
            secure=self.https,
            **kwargs,
        )

    def login(self, username: str, password: str, **kwargs):
        response = self.post("login", {"username": username, "password": password}, **kwargs)
        if response.status_code == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {key: response.json()[key] for key in ("access", "refresh")}
        return response

    def resource(self, headers=None):
        if self.tokens:
            headers = {"Authorization": f"Bearer {self.tokens['access']}", **(headers or {})}
        return self.client.get(self.way.path("resource"), headers=headers, secure=self.https)

    def refresh(self):
        body = None if self.uses_cookies else {"refresh": self.tokens["refresh"]}
        response = self.post("refresh", body)
        if response.status_code == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {key: response.json()[key] for key in ("access", "refresh")}
        return response

    def logout(self):
        body = None if self.uses_cookies else {"refresh": self.tokens["refresh"]}
        response = self.post("logout", body)
        if response.status_code == HTTPStatus.OK and not self.uses_cookies:
            self.tokens = {}  # what a client does: the server cannot take them back
        return response

    @property
    def credential_name(self) -> str:
        """Name of the cookie (or token) that authenticates calls to the resource."""
        if self.way.kind == "session":
            return self.way.session_cookie_name
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
