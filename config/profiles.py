"""The two security profiles: development (DEBUG on) and production (DEBUG off)."""


def security_profile(*, production: bool) -> dict:
    """Cookie and transport settings of a profile; settings.py and the tests both apply these.

    Production: HTTPS only (redirect, HSTS), every cookie Secure, and cookie names with the
    __Host- prefix, which browsers accept only from HTTPS, for Path=/ and no Domain, so no
    other host or path can plant or shadow them. The refresh-token cookie has a narrow Path,
    which __Host- forbids: it gets __Secure-, the prefix that demands Secure only.
    """
    host_prefix = "__Host-" if production else ""
    return {
        "COOKIE_NAME_PREFIX": host_prefix,
        "SESSION_COOKIE_NAME": f"{host_prefix}sessionid",
        "CSRF_COOKIE_NAME": f"{host_prefix}csrftoken",
        "JWT_ACCESS_COOKIE_NAME": f"{host_prefix}jwt-access",
        "JWT_REFRESH_COOKIE_NAME": f"{'__Secure-' if production else ''}jwt-refresh",
        "SESSION_COOKIE_SECURE": production,
        "CSRF_COOKIE_SECURE": production,
        "SECURE_SSL_REDIRECT": production,
        "SECURE_HSTS_SECONDS": 60 * 60 * 24 * 365 if production else 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": production,
        "SECURE_HSTS_PRELOAD": production,
        # Logout then tells the browser to drop every cookie and cached page of this origin.
        "LOGOUT_CLEAR_SITE_DATA": production,
    }
