"""What the playground does for a page: keep a copy of a credential, replay it, keep a cart.

A page's scripts cannot read an HttpOnly cookie, nor send one of their own making: to show
what a thief holding a copy would get, the server keeps the copy and replays it against
itself. The copy never goes back to the page.
"""

import functools
import io
import json
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest
from rest_framework.exceptions import NotFound

from accounts.models import User
from playground.selectors import way_cookies
from ways.registry import Way

COPY_SECONDS = 15 * 60
COPY_KEY_PREFIX = "playground-copy-"
CART_KEY_PREFIX = "playground-cart-"
CART_ITEMS_MAX = 200
NO_SUCH_COPY = "No copy has this id: copies last fifteen minutes; take another."


def credential_copy_keep(*, request: HttpRequest, way: Way) -> str:
    """Keep what the request carried of the way's credential; returns the copy's id."""
    carried = {
        "cookies": {
            spec.name: request.COOKIES[spec.name]
            for spec in way_cookies(way)
            if spec.name in request.COOKIES
        },
        "authorization": request.headers.get("Authorization", ""),
    }
    copy_id = secrets.token_urlsafe(16)
    caches["default"].set(COPY_KEY_PREFIX + copy_id, {"way": way.name, **carried}, COPY_SECONDS)
    return copy_id


def credential_copy_replay(*, request: HttpRequest, way: Way, copy_id: str, tamper: bool) -> dict:
    """GET the way's resource with a kept copy, as its thief would: the status and the body.

    `tamper` changes the last character of the credential first, as an attacker editing it
    would (an edit anywhere breaks a signature the same way).
    """
    copy = caches["default"].get(COPY_KEY_PREFIX + copy_id)
    if copy is None or copy["way"] != way.name:
        raise NotFound(NO_SUCH_COPY, code="copy_not_found")
    cookies, authorization = dict(copy["cookies"]), copy["authorization"]
    if tamper:
        if authorization:
            authorization = flipped(authorization)
        elif cookies:
            name = way_cookies(way)[0].name
            cookies[name] = flipped(cookies.get(name, ""))
    response = in_process_get(
        request=request, path=way.path("resource"), cookies=cookies, authorization=authorization
    )
    return {"status": response.status_code, "body": response_json(response)}


def flipped(value: str) -> str:
    """The value with its last character changed to another of the same alphabet, so that a
    session id keeps its shape: a letter a signature or an id could hold either way."""
    return value[:-1] + ("a" if value[-1:] != "a" else "b")


def response_json(response) -> dict | str:
    try:
        return json.loads(response.content)
    except ValueError:
        return response.content.decode(errors="replace")[:500]


@functools.cache
def project_handler() -> BaseHandler:
    """Django's BaseHandler with the project's middleware, loaded once."""
    handler = BaseHandler()
    handler.load_middleware()
    return handler


def in_process_get(*, request: HttpRequest, path: str, cookies: dict, authorization: str):
    """A GET through the project's middleware and views, in this process, without a socket.

    Django's BaseHandler, as its WSGI handler uses it but without the request signals: the
    page's own request is still going on, and its database connection with it.
    """
    host = request.get_host()
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": urlsplit(f"//{host}").hostname or "localhost",
        "SERVER_PORT": request.get_port(),
        "HTTP_HOST": host,
        "REMOTE_ADDR": request.META.get("REMOTE_ADDR", "127.0.0.1"),
        "HTTP_ACCEPT": "application/json",
        "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": request.scheme,
    }
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    return project_handler().get_response(WSGIRequest(environ))


def cart_of_session(*, request: HttpRequest, item: str | None) -> list[str]:
    """The cart in the way's session, with one more item if given: it travels as the session
    does, in the signed cookie itself or in the server's store."""
    cart = list(request.session.get("cart", []))
    if item is not None:
        cart = [*cart, item][-CART_ITEMS_MAX:]
        request.session["cart"] = cart
    return cart


def cart_of_user(*, user: User, item: str | None) -> list[str]:
    """The cart of a token way's user, kept by the server: a JWT is signed once, at login."""
    cache = caches["default"]
    key = f"{CART_KEY_PREFIX}{user.pk}"
    cart = list(cache.get(key) or [])
    if item is not None:
        cart = [*cart, item][-CART_ITEMS_MAX:]
        cache.set(key, cart, settings.SESSION_COOKIE_AGE)
    return cart
