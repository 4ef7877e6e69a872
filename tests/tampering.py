"""Ways to alter a credential the way an attacker would, each keeping its outward format."""

import base64
import json
import secrets
import string
import time
import zlib


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def another_session_id(session_id: str) -> str:
    """A well-formed session id (same length and alphabet) that the server never issued."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in session_id)


def changed_tail(value: str) -> str:
    """The value with its last two characters replaced by two it did not end with."""
    tail = "xy" if not value.endswith("xy") else "yz"
    return value[:-2] + tail


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


def forged_access_token(user, way, *, key=None, algorithm="HS256", headers=None, **claims) -> str:
    """An access token built by hand, as an attacker with (or without) the key would build one.

    Signed with the project's key and claims by default (the way's name, the user's password
    hash), so that a test changing one thing proves that this one thing is what the server
    refuses.
    """
    import jwt
    from django.conf import settings
    from rest_framework_simplejwt.utils import get_md5_hash_password

    from jwt_demo.tokens import WAY_CLAIM

    now = int(time.time())
    simple_jwt = settings.SIMPLE_JWT
    payload = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": secrets.token_hex(16),
        "user_id": str(user.pk),
        "aud": simple_jwt["AUDIENCE"],
        "iss": simple_jwt["ISSUER"],
        WAY_CLAIM: way.name,
        "hash_password": get_md5_hash_password(user.password),
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(
        payload, simple_jwt["SIGNING_KEY"] if key is None else key, algorithm, headers=headers
    )


def hmac_signed_token(token: str, *, key: bytes, alg: str = "HS256") -> str:
    """Re-sign a token's claims with HMAC under any key, even one PyJWT refuses to use."""
    import hashlib
    import hmac

    _, payload, _ = token.split(".")
    header = b64url_encode(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url_encode(signature)}"
