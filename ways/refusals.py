"""Why a credential is refused: a stable code and a plain sentence for every 401.

The reason is the lesson: a replayed cookie after logout, a tampered token and a token of
another way are refused for different reasons, and the answer says which.
"""

from rest_framework.exceptions import AuthenticationFailed

REASONS = {
    "not_authenticated": "No credential was sent: log in first.",
    "wrong_credentials": "Wrong username or password.",
    "session_not_found": (
        "No live session has this id: it never existed, or it ended (logout, expiry, an admin)."
    ),
    "credential_invalid": (
        "The credential is malformed or its signature does not match: it was garbled or "
        "tampered with."
    ),
    "credential_expired": "The credential has expired: log in again.",
    "token_revoked": (
        "This refresh token was revoked (by a logout, a refresh that rotated it, or an admin): "
        "log in again."
    ),
    "wrong_way": "This credential was issued for another way in: it means nothing here.",
    "password_changed": "The password changed after this credential was issued: log in again.",
    "account_disabled": "The account this credential belongs to is deactivated or deleted.",
    "session_ended": (
        "The login session this credential belongs to has ended (a logout, its user, a "
        "password change, an administrator, or a time limit): log in again."
    ),
}


class CredentialRefused(AuthenticationFailed):
    """A 401 whose code, one of REASONS, says why; the detail defaults to the plain reason."""

    def __init__(self, code: str, detail: str | None = None):
        super().__init__(detail or REASONS[code], code=code)


def cookie_challenge(cookie_name: str) -> str:
    """The WWW-Authenticate of a 401 from a way whose credential is a cookie: it names it."""
    return f'Cookie realm="api", cookie="{cookie_name}"'
