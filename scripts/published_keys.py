"""Write ways/published_signing_keys.sha256 from badsecrets' published Django and JWT keys.

The production profile refuses every key anyone can look up (ways/checks.py). It reads a
SHA-256 digest of each, from a file that ships with the project: the check then needs
nothing but the project wherever it runs (manage.py check --deploy, runserver, gunicorn),
and the project does not carry the keys themselves, which secret scanners would flag and
which badsecrets publishes under its own licence. badsecrets is a development tool here;
tests/test_weak_secrets.py fails when its lists and this file differ.

    .venv/bin/python scripts/published_keys.py
"""

import hashlib
import sys
from importlib.metadata import version
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DIGESTS = BASE_DIR / "ways" / "published_signing_keys.sha256"
# badsecrets' lists of keys that sign Django's signed values and JWTs.
LISTS = ("django_secret_keys.txt", "jwt_secrets.txt")


def published_keys() -> set[str]:
    """Every key of badsecrets' Django and JWT lists, as its checks read them (stripped)."""
    import badsecrets

    resources = Path(badsecrets.__file__).parent / "resources"
    keys = set()
    for name in LISTS:
        keys |= {line.strip() for line in (resources / name).read_text().splitlines()}
    return keys - {""}


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def digests_text(keys: set[str]) -> str:
    header = (
        f"# SHA-256 of every key in badsecrets {version('badsecrets')}'s {' and '.join(LISTS)},"
        " one a line; written by scripts/published_keys.py.\n"
    )
    return header + "".join(f"{line}\n" for line in sorted(digest(key) for key in keys))


def main() -> int:
    keys = published_keys()
    DIGESTS.write_text(digests_text(keys))
    print(f"{DIGESTS.relative_to(BASE_DIR)}: {len(keys)} published keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
