"""Admin entries for session state that lives outside any table of this project.

Neither model has a table (managed = False): they only give the admin a place in its index
where one would look for cache-held and signed-cookie sessions.
"""

from django.db import models


class CacheSession(models.Model):
    """Sessions of the cache and cached-db ways, as held by the sessions cache."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = "session in the cache"
        verbose_name_plural = "sessions in the cache (cache, cached-db)"

    def __str__(self):
        return str(self._meta.verbose_name)


class SignedCookieSession(models.Model):
    """Sessions of the cookie way, which the server does not store at all."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = "signed-cookie session"
        verbose_name_plural = "signed-cookie sessions (cookie): stored nowhere"

    def __str__(self):
        return str(self._meta.verbose_name)
