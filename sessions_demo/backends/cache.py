"""Django's cache session engine, except that an unreachable cache is an error, not a logout."""

from django.contrib.sessions.backends import cache

from ways.exceptions import REDIS_OUTAGES


class SessionStore(cache.SessionStore):
    """Django's cache SessionStore, letting Redis connection errors through on read.

    Django reads any cache error as "no such session" (ticket #17810, for memcached's invalid
    keys). With Redis down, a live session would then look logged out: the resource would
    answer 401, logout would answer "logged out" while deleting nothing, and the middleware
    would drop the browser's cookie, though the session comes back with Redis. Raising lets
    the request answer 503 and the browser keep its cookie.
    """

    def load(self):
        # Django's load(), but for the first except clause.
        try:
            session_data = self._cache.get(self.cache_key)
        except REDIS_OUTAGES:
            raise
        except Exception:
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}
