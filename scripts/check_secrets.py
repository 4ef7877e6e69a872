"""Check the configured signing keys against known secrets, as an attacker with badsecrets would.

The project is configured by the environment, as the server would be. A signed-cookie session
(the cookie way's store, with login-like data) and a JWT (a SimpleJWT access token for a user
that is never saved) are minted with the configured keys, then handed to badsecrets, which
tries to verify them with every key of its wordlists: published Django and JWT keys and the
250,000 most common passwords. The project's own development key is added to those lists: it
is published in this repository, so it is as known as any of them. Nothing touches a database.

Exit status 0 and "no known secret found" when badsecrets finds no key; 1 when it finds one.
"""

import os
import secrets
import sys
import tempfile
from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def minted_samples() -> dict[str, str]:
    """A cookie-way session value and a JWT access token, signed with the configured keys."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from ways.registry import TOKEN_WAYS, signed_cookie_way

    user = User(pk=1, username="secret-check")  # never saved
    user.set_unusable_password()
    cookie_way = signed_cookie_way()
    session = cookie_way.session_store()
    session.update(
        {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            "way": cookie_way.name,
            "login_id": secrets.token_hex(16),
        }
    )
    session.save()  # the signed-cookie store's key is the cookie's value
    return {
        f"signed-cookie session ({cookie_way.name} way)": session.session_key,
        f"JWT access token ({', '.join(way.name for way in TOKEN_WAYS)} ways)": str(
            AccessToken.for_user(user)
        ),
    }


def known_secrets(samples: dict[str, str], *, also_known: list[str]) -> dict[str, str | None]:
    """For each sample, the known secret badsecrets verified it with, or None."""
    from badsecrets.modules.passive.django_signedcookies import DjangoSignedCookies
    from badsecrets.modules.passive.generic_jwt import Generic_JWT

    checkers = dict(zip(samples, (DjangoSignedCookies, Generic_JWT), strict=True))
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as extra:
        extra.write("".join(f"{key}\n" for key in also_known))
        extra.flush()
        found = {
            name: checkers[name](custom_resource=extra.name).check_secret(value)
            for name, value in samples.items()
        }
    return {name: result["secret"] if result else None for name, result in found.items()}


def masked(secret: str) -> str:
    """Enough of a secret to recognise it in a log, not to use it."""
    return f"{secret[:4]}... ({len(secret)} characters)"


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from config import settings as project_settings

    found = known_secrets(minted_samples(), also_known=[project_settings._DEVELOPMENT_SECRET_KEY])
    for name, secret in found.items():
        verdict = f"KNOWN SECRET FOUND: {masked(secret)}" if secret else "no known secret found"
        print(f"{name}: {verdict}")
    if any(found.values()):
        print("Anyone with that wordlist can forge these credentials: set new random keys.")
        return 1
    print("no known secret found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
