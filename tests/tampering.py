"""Ways to alter a credential the way an attacker would, each keeping its outward format."""

import base64
import json
import secrets
import string
import zlib


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def another_session_id(session_id: str) -> str:
    """A well-formed session id (same length and alphabet) that the server never issued."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in session_id)


def flip_last_character(value: str) -> str:
    return value[:-1] + ("A" if value[-1] != "A" else "B")


def signed_cookie_with_payload(value: str, change: dict) -> str:
    """Django's signed cookie with its JSON payload changed and the old signature kept."""
    payload, timestamp, signature = value.rsplit(":", 2)
    if payload.startswith("."):  # compressed payloads are marked with a leading dot
        data = json.loads(zlib.decompress(b64url_decode(payload[1:])))
    else:
        data = json.loads(b64url_decode(payload))
    forged = b64url_encode(json.dumps({**data, **change}, separators=(",", ":")).encode())
    return f"{forged}:{timestamp}:{signature}"


def jwt_with_claims(token: str, change: dict) -> str:
    """A JWT with its payload changed and the old signature kept."""
    header, payload, signature = token.split(".")
    claims = {**json.loads(b64url_decode(payload)), **change}
    return f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"


def jwt_with_alg_none(token: str, alg: str = "none") -> str:
    """The same claims, unsigned, with a header that asks the server not to check."""
    _, payload, _ = token.split(".")
    header = b64url_encode(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{payload}."
