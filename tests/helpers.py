"""Test helpers: the way client with the test user's credentials, and ways as parameters."""

import pytest

from testing import clients
from ways.registry import WAYS_BY_NAME, Way, ways_where

PASSWORD = "correct horse battery staple"

# Queries one resource request costs, per way: the user row for everyone, plus the session
# row for the db way. cached-db reads its session from the cache that login filled.
QUERIES_PER_RESOURCE_REQUEST = {
    "cookie": 1,
    "db": 2,
    "cache": 1,
    "cached-db": 1,
    "jwt": 1,
    "jwt-cookie": 1,
}
# In the managed profile the login session's cache entry carries the user: the user query
# is gone, and only the db way still reads its session row.
MANAGED_QUERIES_PER_RESOURCE_REQUEST = {
    "cookie": 0,
    "db": 1,
    "cache": 0,
    "cached-db": 0,
    "jwt": 0,
    "jwt-cookie": 0,
}


def ended_or(session_policy: str, stock_code: str) -> str:
    """The refusal code of a credential the managed profile refuses because its login
    session ended, where the stock profile refuses it with stock_code."""
    return stock_code if session_policy == "stock" else "session_ended"


def ways(**attributes) -> list:
    """The matching ways as pytest parameters, each named after its way."""
    return [pytest.param(way, id=way.name) for way in ways_where(**attributes)]


def way_named(name: str) -> Way:
    return WAYS_BY_NAME[name]


class WayClient(clients.WayClient):
    """The project's way client, logging in as the test user unless told otherwise."""

    def login(self, username: str = "alice", password: str = PASSWORD, **options):
        return super().login(username, password, **options)
