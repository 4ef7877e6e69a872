"""Settings for the sessions, cookies and JWT reference project, read from the environment."""

import importlib.util
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.databases import database_config
from config.profiles import security_profile
from ways.registry import WAYS

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def sentinel_address(address: str) -> tuple[str, int]:
    """("host", port) of a Sentinel written host:port."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ImproperlyConfigured(f"REDIS_SENTINELS: {address!r} is not host:port.")
    return host.strip("[]"), int(port)  # an IPv6 address in brackets, as in a URL


# The embedded default is a development machine: `make run` must work with no variables.
DEBUG = env.bool("DEBUG", default=True)

# A development key is only acceptable while DEBUG is on; production must bring its own.
_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
# An empty value counts as unset, so a copied .env.example behaves like no .env at all.
SECRET_KEY = env.str("SECRET_KEY", default="") or (_DEVELOPMENT_SECRET_KEY if DEBUG else "")
# Old keys still accepted for verifying (sessions, signed cookies, CSRF), during a rotation.
SECRET_KEY_FALLBACKS = [key for key in env.list("SECRET_KEY_FALLBACKS", default=[]) if key]
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: it is required when DEBUG is off.")

# The name of this app node behind a load balancer, sent as X-Served-By; unset, no header.
NODE_NAME = env.str("NODE_NAME", default="")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = [origin for origin in env.list("CSRF_TRUSTED_ORIGINS", default=[]) if origin]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "accounts",
    "ways",
    "login_sessions",
    "playground",
    "sessions_demo",
    "jwt_demo",
]
if DEBUG:
    # The benchmarks (compare, bench_scale, seed_sessions): development tools, never served.
    INSTALLED_APPS.append("benchmarks")
    # The libraries compare measures the managed profile against, where the development
    # requirements are installed (`make run` installs the runtime ones only); never served.
    if importlib.util.find_spec("knox"):
        # django-user-sessions imports pkg_resources for its version, which setuptools warns
        # about on every start; the warning is about the library, not this project.
        warnings.filterwarnings(
            "ignore", message="pkg_resources is deprecated", module="user_sessions"
        )
        INSTALLED_APPS += [
            "knox",
            "allauth",
            "benchmarks.peer_apps.AllauthAccountConfig",
            "allauth.headless",
            "allauth.usersessions",
            "user_sessions",
        ]

MIDDLEWARE = [
    # Names the node that answered, in every answer, when NODE_NAME is set.
    "ways.middleware.ServedByMiddleware",
    # Outermost, so that every answer gets a policy, those made by the middleware below too.
    "ways.middleware.ContentSecurityPolicyMiddleware",
    # Whatever any middleware or Django answers under /api/ becomes JSON.
    "ways.middleware.JsonApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, the landing page's) under any WSGI server, DEBUG off too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Chooses each session way's store and cookie by URL prefix; the admin keeps SESSION_ENGINE.
    "sessions_demo.middleware.WaySessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Answers a locked-out admin login with 429; the API answers its own (accounts/services.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": database_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
# Reuse connections between requests (a new PostgreSQL connection per request costs more
# than any way's own work), checking them before use so a restarted server is no error.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (ASVS 6.1.1, 6.3.1), on every way's login and the admin's, counted in the
# database so that every process and server counts together. LOGIN_FAILURE_LIMIT failures
# for one account, or from one client address, lock it for LOGIN_LOCKOUT_SECONDS after the
# failure that reached the limit; failures meanwhile are refused and not counted, so an
# attacker cannot extend a lockout, and then the right password works again.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_LOCKOUT_SECONDS", default=900))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not reset the counts: axes would reset the client address's too, and an
# attacker logging into an account of their own would wipe every count of that address.
AXES_RESET_ON_SUCCESS = False
# Failures only: a row for every successful login would be one more write per login.
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "accounts.throttling.lockout_response"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Caches: "default" for the project, "sessions" for the cache and cached-db session ways.
# Without REDIS_URL both fall back to this process's local memory, which no other process
# can see; the landing page, the API listing and the admin say so.
REDIS_URL = env.str("REDIS_URL", default="")
# Redis behind Sentinel (django-redis's Sentinel support): REDIS_URL's host is then the name
# of the primary the Sentinels monitor, e.g. redis://scj-cluster/0, and every new connection
# asks them where that primary is, so a failover is followed without a restart.
REDIS_SENTINELS = [address for address in env.list("REDIS_SENTINELS", default=[]) if address]
if REDIS_SENTINELS and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_SENTINELS needs REDIS_URL=redis://<primary's name>/<db>.")
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="scj")
if ":" in CACHE_KEY_PREFIX:
    # django-redis finds a key's name again by splitting at the first two colons.
    raise ImproperlyConfigured(f"CACHE_KEY_PREFIX={CACHE_KEY_PREFIX!r} must not contain ':'.")
if REDIS_URL:
    _redis_options = {
        "CLIENT_CLASS": "django_redis.client.DefaultClient",
        # django-redis pickles by default: write access to Redis would be code execution.
        "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
        # A dead or hung Redis must fail a request in a second or two (a 503), not hang it.
        "SOCKET_CONNECT_TIMEOUT": 1,
        "SOCKET_TIMEOUT": 2,
    }
    if REDIS_SENTINELS:
        DJANGO_REDIS_CONNECTION_FACTORY = "django_redis.pool.SentinelConnectionFactory"
        # The primary only: the one LOCATION, without django-redis's SentinelClient, which
        # reads from the replica. Replication is asynchronous, so the replica could still
        # hold a session that was just ended on the primary.
        _redis_options["SENTINELS"] = [sentinel_address(address) for address in REDIS_SENTINELS]
        _redis_options["SENTINEL_KWARGS"] = {"socket_connect_timeout": 1, "socket_timeout": 1}
    CACHES = {
        alias: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{CACHE_KEY_PREFIX}-{alias}",
            "OPTIONS": _redis_options,
        }
        for alias in ("default", "sessions")
    }
else:
    CACHES = {
        alias: {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"{CACHE_KEY_PREFIX}-{alias}",
        }
        for alias in ("default", "sessions")
    }

# Sessions. The four session ways each pick their own engine and cookie name (see
# ways/registry.py); SESSION_BACKEND chooses the engine Django itself uses, e.g. the admin.
SESSION_ENGINES = {way.name: way.session_engine for way in WAYS if way.session_engine}
SESSION_BACKEND = env.str("SESSION_BACKEND", default="db")
if SESSION_BACKEND not in SESSION_ENGINES:
    raise ImproperlyConfigured(
        f"SESSION_BACKEND={SESSION_BACKEND!r} is not one of {', '.join(SESSION_ENGINES)}."
    )
SESSION_ENGINE = SESSION_ENGINES[SESSION_BACKEND]
SESSION_CACHE_ALIAS = "sessions"
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True

# The landing page's playground: copies of credentials kept and replayed by the server, a
# cart, what each way's credential is made of. It teaches; a production server has no use for
# it, so it is on with DEBUG only, unless set.
PLAYGROUND = env.bool("PLAYGROUND", default=DEBUG)

# The plain-cookie way, insecure on purpose (ways.registry.PLAIN_COOKIE): a cookie that says
# which user you are, and a server that believes it. On with DEBUG only; a server with DEBUG
# off refuses to start with it on (ways.checks).
PLAIN_COOKIE_WAY = env.bool("PLAIN_COOKIE_WAY", default=DEBUG)

# The session policy (README: "Two session policies"). stock shows each way as its library
# ships it; managed records every login, through every way, as a login session that its user
# can list and end, with the limits below on every way (ASVS 7.1.1, 7.3.1, 7.3.2).
SESSION_POLICY = env.str("SESSION_POLICY", default="stock")
if SESSION_POLICY not in ("stock", "managed"):
    raise ImproperlyConfigured(f"SESSION_POLICY={SESSION_POLICY!r} is not stock or managed.")
# NIST SP 800-63B-4's defaults for AAL2: an hour idle, a day in all.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=3600)
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME", default=86400)
# Activity is written at most this often per login session, whatever the request rate: the
# inactivity timeout is exact to within this many seconds, always on the early side.
SESSION_ACTIVITY_WRITE_INTERVAL = env.int("SESSION_ACTIVITY_WRITE_INTERVAL", default=60)
# Seconds after a rotation during which the refresh token it replaced still yields the same
# successor: a client's own concurrent refreshes are not taken for a stolen token's reuse.
JWT_REFRESH_REUSE_GRACE = env.int("JWT_REFRESH_REUSE_GRACE", default=10)
# Live login sessions per user, at most; a new login ends the oldest. Unset: no limit.
SESSION_MAX_PER_USER = env.int("SESSION_MAX_PER_USER", default=0) or None
if SESSION_MAX_PER_USER is not None and SESSION_MAX_PER_USER < 1:
    raise ImproperlyConfigured(f"SESSION_MAX_PER_USER={SESSION_MAX_PER_USER} must be at least 1.")
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ways.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "ways.negotiation.JSONOnlyNegotiation",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    # An unreachable Redis or database answers 503 JSON instead of a 500 page.
    "EXCEPTION_HANDLER": "ways.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI description served at /api/schema/ (ways/schema.py documents each way).
SPECTACULAR_SETTINGS = {
    "TITLE": "Sessions, cookies or JWT? Six ways in",
    "DESCRIPTION": (
        "The same protected resource behind every way in: Django's signed-cookie, database, "
        "cache and cached-database sessions, and SimpleJWT tokens in an Authorization header "
        "or in HttpOnly cookies. Every answer is JSON. Ways that carry their credential in a "
        "cookie need Django's CSRF token on every POST: GET the login URL for the csrftoken "
        "cookie, then send its value in X-CSRFToken."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The way names appear as "way" and as "name": one enum, under one name.
    "ENUM_NAME_OVERRIDES": {
        "WayNameEnum": "ways.schema.WAY_NAMES",
        "RefusalCodeEnum": "ways.schema.REFUSAL_CODES",
        "OutageCodeEnum": "ways.schema.OUTAGE_CODES",
        "BadRequestCodeEnum": "ways.schema.BAD_REQUEST_CODES",
    },
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,  # every choice's label is its value
    # The API explorer at /api/docs/ loads Swagger UI from the project's own static files
    # (drf-spectacular-sidecar): its defaults are a CDN, which the CSP and an offline
    # machine both refuse.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        # Swagger UI would send the schema to validator.swagger.io for a badge.
        "validatorUrl": None,
    },
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_LIFETIME", default=300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_LIFETIME", default=86400)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Every token carries a hash of the user's password hash, checked on every use: a
    # password change ends every access and refresh token issued before it (ASVS 7.4.3).
    "CHECK_REVOKE_TOKEN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "ALGORITHM": "HS256",
    # Tokens name who issued them and for whom, and both are checked (ASVS 9.2.3).
    "AUDIENCE": env.str("JWT_AUDIENCE", default="sessions-cookies-jwt-api"),
    "ISSUER": env.str("JWT_ISSUER", default="sessions-cookies-jwt"),
}

# Cookie names and flags, HTTPS and HSTS: the production profile whenever DEBUG is off.
# The jwt-cookie way's tokens live in JWT_ACCESS_COOKIE_NAME and JWT_REFRESH_COOKIE_NAME.
globals().update(security_profile(production=not DEBUG))
# Behind a TLS-terminating proxy, e.g. SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto,https
if env.str("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = tuple(env.list("SECURE_PROXY_SSL_HEADER"))
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The project's own measurements and security matrix, which /choose/ quotes as evidence;
# written by `make compare` and `make security-matrix`, committed, read at request time.
COMPARISON_RESULTS = BASE_DIR / "docs" / "comparison.json"
# Written by `make cluster-drill`: what each way loses behind a load balancer.
CLUSTER_RESULTS = BASE_DIR / "docs" / "cluster.json"
SECURITY_MATRIX = BASE_DIR / "docs" / "security-matrix.md"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves the static files where they are (the apps' and STATICFILES_DIRS), under
# any WSGI server, DEBUG off too: no collectstatic step to forget, so no STATIC_ROOT.
WHITENOISE_USE_FINDERS = True

# Content-Security-Policy (django-csp; ASVS 3.4.3, 3.4.6): pages load only what the project
# serves itself, no inline script or style, and no page may frame them. JSON answers get a
# stricter one still (ways.middleware.ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    # Django gives its loggers a console handler of their own while DEBUG is on; beside the
    # root's, every record was printed twice. They go to the root's alone.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}
