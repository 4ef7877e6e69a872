"""What a way's credential is made of, and what the server keeps for it, as the playground shows it.

Nothing here hands a credential back: a page's scripts could then read what HttpOnly keeps
from them. Keys and signatures are cut to a hint; what a signed cookie or a JWT says is
decoded, as anyone holding one can decode it.
"""

import base64
import binascii
import json
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.cache import caches
from django.http import HttpRequest
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from jwt_demo.tokens import LOGIN_SESSION_CLAIM
from jwt_demo.transports import TRANSPORTS
from login_sessions.models import LoginSession
from sessions_demo.selectors import session_key_hint
from sessions_demo.services import LOGIN_SESSION_KEY
from ways.registry import SESSION_ROWS, SESSIONS_CACHE, TOKEN_ROWS, Way

HINT = 8


@dataclass(frozen=True, kw_only=True)
class CookieSpec:
    """A cookie a way sets, and the flags it sets it with."""

    name: str
    path: str
    http_only: bool
    secure: bool
    same_site: str
    max_age: int | None


def way_cookies(way: Way) -> list[CookieSpec]:
    """The cookies that carry the way's credential, as the server sets them."""
    if way.kind == "session":
        return [
            CookieSpec(
                name=way.session_cookie_name,
                path=settings.SESSION_COOKIE_PATH,
                http_only=settings.SESSION_COOKIE_HTTPONLY,
                secure=settings.SESSION_COOKIE_SECURE,
                same_site=settings.SESSION_COOKIE_SAMESITE,
                max_age=settings.SESSION_COOKIE_AGE,
            )
        ]
    if way.transport == "cookie":
        return [CookieSpec(**spec) for spec in TRANSPORTS[way.transport].cookie_specs(way)]
    return []


def hint(value: str) -> str:
    return value[:HINT] + "…" if len(value) > HINT else value


def b64url_json(segment: str) -> dict | str:
    try:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        return "(does not decode)"


def jwt_parts(token: str) -> dict:
    """A JWT's three parts: the header and the payload as anyone reads them, the signature cut."""
    parts = token.split(".")
    if len(parts) != 3:
        return {"malformed": "a JWT has three parts, separated by dots"}
    header, payload, signature = parts
    return {
        "header": b64url_json(header),
        "payload": b64url_json(payload),
        "signature": hint(signature),
    }


def signed_cookie_parts(value: str) -> dict:
    """Django's signed cookie: payload (JSON, compressed if it starts with a dot), its time
    in base 62, and the signature, which is all that stops anyone editing the payload."""
    try:
        payload, timestamp, signature = value.rsplit(":", 2)
        compressed = payload.startswith(".")
        encoded = payload.removeprefix(".")
        data = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        decoded = json.loads(zlib.decompress(data) if compressed else data)
        signed_at = datetime.fromtimestamp(signing.b62_decode(timestamp), tz=UTC)
    except (ValueError, binascii.Error, zlib.error):
        return {"malformed": "not a signed cookie: payload:timestamp:signature"}
    return {
        "payload": decoded,
        "compressed": compressed,
        "signed_at": signed_at.isoformat(),
        "signature": hint(signature),
    }


def credential_parts(way: Way, value: str) -> dict:
    if way.kind == "token":
        return jwt_parts(value)
    if way.self_contained:
        return signed_cookie_parts(value)
    return {"session_id": session_key_hint(value), "meaning": "none: a random key into the store"}


def what_the_browser_sent(request: HttpRequest, way: Way) -> list[dict]:
    """The way's credentials this request carried: name, size, flags as set, and parts."""
    sent = []
    for spec in way_cookies(way):
        value = request.COOKIES.get(spec.name)
        sent.append(
            {
                **asdict(spec),
                "received": value is not None,
                "bytes": len(spec.name) + len(value) if value else 0,
                "parts": credential_parts(way, value) if value else None,
            }
        )
    token = TRANSPORTS[way.transport].access_token(request) if way.transport == "header" else None
    if token:
        sent.append(
            {
                "name": "Authorization: Bearer",
                "received": True,
                "bytes": len(token),
                "parts": jwt_parts(token),
            }
        )
    return sent


def what_the_server_keeps(request: HttpRequest, way: Way) -> list[dict]:
    """What the server stores for this request's credential, store by store, read live."""
    kept = []
    claims = access_token_claims(request, way)
    session_key = request.COOKIES.get(way.session_cookie_name or "")
    if SESSION_ROWS in way.stores and session_key:
        row = Session.objects.filter(pk=session_key).first()
        kept.append(
            {
                "store": "a django_session row",
                "key": session_key_hint(session_key),
                "found": row is not None,
                **(
                    {"expire_date": row.expire_date, "data": row.get_decoded()}
                    if row is not None
                    else {}
                ),
            }
        )
    if SESSIONS_CACHE in way.stores and session_key:
        kept.append(cache_entry(way, session_key))
    if TOKEN_ROWS in way.stores:
        kept += refresh_token_rows(claims)
    if login_session := login_session_kept(request, way, claims):
        kept.append(login_session)
    return kept


def cache_entry(way: Way, session_key: str) -> dict:
    cache = caches[settings.SESSION_CACHE_ALIAS]
    key = way.cache_key_prefix + session_key
    data = cache.get(key)
    entry = {"store": "a key in the sessions cache", "key": hint(key), "found": data is not None}
    if data is not None:
        entry["data"] = data
        if hasattr(cache, "ttl"):  # django-redis: Redis keeps the expiry
            entry["ttl_seconds"] = cache.ttl(key)
    return entry


def refresh_token_rows(claims: dict) -> list[dict]:
    """The refresh tokens the server recorded for the access token's user: jti, expiry, and
    whether a logout, a rotation or an admin blacklisted it. The access token is in no row."""
    user_id = claims.get(api_settings.USER_ID_CLAIM)
    if user_id is None:
        return []
    tokens = OutstandingToken.objects.filter(user_id=user_id).order_by("-created_at")[:3]
    blacklisted = set(
        BlacklistedToken.objects.filter(token__in=tokens).values_list("token_id", flat=True)
    )
    return [
        {
            "store": "an outstanding refresh token row",
            "jti": hint(token.jti),
            "expires_at": token.expires_at,
            "blacklisted": token.pk in blacklisted,
        }
        for token in tokens
    ]


def access_token_claims(request: HttpRequest, way: Way) -> dict:
    """The claims of the way's access token the request carries, unverified: for display."""
    if way.kind != "token":
        return {}
    token = TRANSPORTS[way.transport].access_token(request)
    payload = jwt_parts(token).get("payload") if token else None
    return payload if isinstance(payload, dict) else {}


def login_session_kept(request: HttpRequest, way: Way, claims: dict) -> dict | None:
    """The managed profile's record of the login, if the credential names one."""
    if way.kind == "token":
        login_session_id = claims.get(LOGIN_SESSION_CLAIM)
    else:
        login_session_id = request.session.get(LOGIN_SESSION_KEY)
    if not isinstance(login_session_id, str):
        return None
    login_session = LoginSession.objects.filter(pk=login_session_id).first()
    if login_session is None:
        return {"store": "a login session row", "id": hint(login_session_id), "found": False}
    return {
        "store": "a login session row",
        "id": hint(login_session.pk),
        "found": True,
        "live": login_session.is_live,
        "end_reason": login_session.get_end_reason_display() or None,
        "created_at": login_session.created_at,
        "last_seen_at": login_session.last_seen_at,
        "idle_expires_at": login_session.idle_expires_at,
        "expires_at": login_session.expires_at,
        "generation": login_session.generation,
    }


def credential_inspected(*, request: HttpRequest, way: Way) -> dict:
    return {
        "way": way.name,
        "browser_sent": what_the_browser_sent(request, way),
        "server_keeps": what_the_server_keeps(request, way),
    }
