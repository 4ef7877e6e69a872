"""The OpenAPI description of every way's endpoints, built from the registry for drf-spectacular."""

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from ways.refusals import REASONS
from ways.registry import VERBS, WAYS, Way
from ways.serializers import (
    LoginSerializer,
    PasswordChangeSerializer,
    RefreshTokenSerializer,
    SessionsEndSerializer,
)

# The bodies below only describe what the views answer; the views build plain dicts.

WAY_NAMES = [way.name for way in WAYS]
# The choices of the "code" fields, named in SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES.
REFUSAL_CODES = list(REASONS)
OUTAGE_CODES = ["session_store_unavailable", "database_unavailable"]
BAD_REQUEST_CODES = ["parse_error", "invalid"]


class WayDetailSerializer(serializers.Serializer):
    way = serializers.ChoiceField(choices=WAY_NAMES)
    detail = serializers.CharField()


class LoginHintSerializer(WayDetailSerializer):
    """How to log in through this way."""


class LoggedInSerializer(WayDetailSerializer):
    """Logged in; the credential travels in the way's cookies."""

    username = serializers.CharField()


class LoggedInWithTokensSerializer(LoggedInSerializer):
    """Logged in; the client keeps both tokens and sends the access token as a Bearer token."""

    access = serializers.CharField(help_text="Access token (JWT), for 'Authorization: Bearer'.")
    refresh = serializers.CharField(help_text="Refresh token (JWT), for refresh and logout.")


class RefreshedSerializer(WayDetailSerializer):
    """A new token pair, set in the way's cookies; the old refresh token is blacklisted."""


class RefreshedWithTokensSerializer(RefreshedSerializer):
    """A new token pair; the old refresh token is blacklisted."""

    access = serializers.CharField(help_text="Access token (JWT), for 'Authorization: Bearer'.")
    refresh = serializers.CharField(help_text="Refresh token (JWT), for refresh and logout.")


class PasswordChangedSerializer(LoggedInSerializer):
    """Password changed: this session goes on under new cookies; every other one has ended."""


class PasswordChangedWithTokensSerializer(LoggedInWithTokensSerializer):
    """Password changed: a new token pair for this client; every older token is refused."""


class LoginSessionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Random, 128 bits; never a database sequence.")
    way = serializers.ChoiceField(choices=WAY_NAMES)
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(
        help_text="Written at most once per SESSION_ACTIVITY_WRITE_INTERVAL."
    )
    expires_at = serializers.DateTimeField(help_text="The absolute limit, from the login.")
    idle_expires_at = serializers.DateTimeField(help_text="When inactivity ends it.")
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField(help_text='Parsed: "Firefox 128 on Windows".')
    current = serializers.BooleanField(help_text="The login session of this request.")


class SessionsListSerializer(serializers.Serializer):
    """Every live login session of the user, through every way (managed profile)."""

    sessions = LoginSessionSerializer(many=True)


class SessionsEndedSerializer(serializers.Serializer):
    """How many login sessions ended, with every credential they had issued."""

    ended = serializers.IntegerField()


class LoggedOutSerializer(WayDetailSerializer):
    """Logged out (see the README for what each way can and cannot revoke)."""


class ResourceUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)


class ProtectedResourceSerializer(serializers.Serializer):
    """The protected resource: the same body for every way in but "way"."""

    way = serializers.ChoiceField(choices=WAY_NAMES)
    user = ResourceUserSerializer()
    resource = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """An error in one sentence, with a stable code: e.g. csrf_failed (403)."""

    detail = serializers.CharField()
    code = serializers.CharField()


class UnavailableSerializer(ErrorSerializer):
    """Redis or the database is unreachable (503): see ways/exceptions.py."""

    code = serializers.ChoiceField(choices=OUTAGE_CODES)


class AuthenticationErrorSerializer(ErrorSerializer):
    """Missing, wrong, tampered, expired or revoked credentials (401): the code says which."""

    code = serializers.ChoiceField(
        choices=REFUSAL_CODES,
        help_text="Why: " + "; ".join(f"{code}: {reason}" for code, reason in REASONS.items()),
    )


class BadRequestSerializer(serializers.Serializer):
    """A body that is not JSON (detail), not an object (non_field_errors) or has bad fields."""

    detail = serializers.CharField(required=False, help_text="The body is not valid JSON.")
    code = serializers.ChoiceField(
        choices=BAD_REQUEST_CODES,
        help_text="parse_error: the body is not JSON (see detail); invalid: see the fields.",
    )
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class LoginBadRequestSerializer(BadRequestSerializer):
    username = serializers.ListField(child=serializers.CharField(), required=False)
    password = serializers.ListField(child=serializers.CharField(), required=False)


class PasswordBadRequestSerializer(BadRequestSerializer):
    old_password = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Missing, or not the password."
    )
    new_password = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Missing, or refused by the password validators (each says why).",
    )
    end_other_sessions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="false: the stock profile cannot keep other sessions (the sentence says why).",
    )


class SessionsEndBadRequestSerializer(BadRequestSerializer):
    password = serializers.ListField(child=serializers.CharField(), required=False)
    scope = serializers.ListField(child=serializers.CharField(), required=False)
    id = serializers.ListField(child=serializers.CharField(), required=False)


class RefreshBadRequestSerializer(BadRequestSerializer):
    refresh = serializers.ListField(child=serializers.CharField(), required=False)


class WayEntrySerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=WAY_NAMES)
    kind = serializers.ChoiceField(choices=["session", "token"])
    transport = serializers.ChoiceField(choices=["cookie", "header"])
    login = serializers.CharField()
    logout = serializers.CharField()
    resource = serializers.CharField()
    refresh = serializers.CharField(allow_null=True, help_text="null for the session ways.")
    password = serializers.CharField()
    sessions = serializers.CharField(help_text="List your login sessions (managed profile).")
    sessions_end = serializers.CharField(help_text="End login sessions (managed profile).")
    state = serializers.CharField(help_text="Where this way keeps state on the server.")


class WayListSerializer(serializers.Serializer):
    """Every way in, with its endpoints and where it keeps state."""

    ways = WayEntrySerializer(many=True)


# Security schemes: the credential each way's endpoints read, named after the way.


def security_schemes(way: Way) -> dict[str, dict]:
    """The OpenAPI security schemes of a way, by name."""
    if way.kind == "session":
        return {
            f"{way.name}-session": {
                "type": "apiKey",
                "in": "cookie",
                "name": way.session_cookie_name,
                "description": f"The {way.name} way's session cookie, set by its login.",
            }
        }
    if way.transport == "header":
        return {
            "jwt-bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The access token from the jwt way's login or refresh.",
            }
        }
    return {
        f"{way.name}-access": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.JWT_ACCESS_COOKIE_NAME,
            "description": "HttpOnly cookie holding the access token, set by login and refresh.",
        },
        f"{way.name}-refresh": {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.JWT_REFRESH_COOKIE_NAME,
            "description": "HttpOnly cookie holding the refresh token; its Path reaches only "
            "the refresh and logout endpoints.",
        },
    }


def security_requirements(way: Way, verb: str) -> list[dict[str, list]]:
    """The credentials an endpoint reads; a trailing {} means it also answers without them."""
    credential, *refresh_cookie = security_schemes(way)  # jwt-cookie alone has a refresh cookie
    if verb in {"resource", "password", "sessions", "sessions_end"}:
        return [{credential: []}]
    if way.kind == "session" and verb == "logout":
        return [{credential: []}, {}]  # logging out without a session still succeeds
    if refresh_cookie and verb == "refresh":
        return [{refresh_cookie[0]: []}]
    if refresh_cookie and verb == "logout":
        return [{refresh_cookie[0]: []}, {}]  # the cookies are cleared even without one
    # Login reads only the body; the jwt way's refresh and logout read the token in the body.
    return []


# What each endpoint answers, per way and verb.


def success_body(way: Way, verb: str, method: str) -> type[serializers.Serializer]:
    tokens_in_body = way.transport == "header"
    if method == "GET":
        return {"login": LoginHintSerializer, "sessions": SessionsListSerializer}.get(
            verb, ProtectedResourceSerializer
        )
    return {
        "sessions_end": SessionsEndedSerializer,
        "login": LoggedInWithTokensSerializer if tokens_in_body else LoggedInSerializer,
        "refresh": RefreshedWithTokensSerializer if tokens_in_body else RefreshedSerializer,
        "logout": LoggedOutSerializer,
        "password": (
            PasswordChangedWithTokensSerializer if tokens_in_body else PasswordChangedSerializer
        ),
    }[verb]


def bad_request_body(way: Way, verb: str) -> type[serializers.Serializer]:
    if verb == "login":
        return LoginBadRequestSerializer
    if verb == "password":
        return PasswordBadRequestSerializer
    if verb == "sessions_end":
        return SessionsEndBadRequestSerializer
    if way.transport == "header":
        return RefreshBadRequestSerializer
    # Nothing else reads the body, but the CSRF check of cookie ways parses it all the same.
    return ErrorSerializer


def answers_401(way: Way, verb: str) -> bool:
    """Whether a missing, wrong, bad or revoked credential gets 401 from this endpoint.

    Logging out needs no credential, except from the jwt way: it blacklists the refresh
    token in the body, so that token must be good.
    """
    if verb in {"login", "resource", "password", "sessions", "sessions_end"}:
        return True
    return way.kind == "token" and (verb == "refresh" or way.transport == "header")


def responses(way: Way, verb: str, method: str) -> dict[int, OpenApiResponse]:
    """Every status an endpoint answers, with its body."""
    if (verb, method) == ("login", "GET"):
        return {200: OpenApiResponse(LoginHintSerializer, "How to log in.")}
    success = success_body(way, verb, method)
    answers = {200: OpenApiResponse(success, success.__doc__)}
    if method == "POST":
        answers[400] = OpenApiResponse(bad_request_body(way, verb), "The body is malformed.")
    if answers_401(way, verb):
        answers[401] = OpenApiResponse(
            AuthenticationErrorSerializer, "Missing, wrong, bad or revoked credentials."
        )
    if method == "POST" and way.transport == "cookie":
        answers[403] = OpenApiResponse(ErrorSerializer, "The CSRF token is missing or wrong.")
    if verb == "sessions_end":
        answers[403] = OpenApiResponse(
            ErrorSerializer,
            "The password is wrong (code reauthentication_failed): nothing ended"
            + ("; or the CSRF token is missing or wrong." if way.transport == "cookie" else "."),
        )
    if verb in {"sessions", "sessions_end"}:
        answers[404] = OpenApiResponse(
            ErrorSerializer,
            "The server runs the stock profile (code managed_profile_required)"
            + (
                "; or no live login session of yours has the id (code session_not_found)."
                if verb == "sessions_end"
                else "."
            ),
        )
    if method == "POST" and verb in {"login", "password", "sessions_end"}:
        # The old password of a password change is checked as a login's password is.
        answers[429] = OpenApiResponse(
            ErrorSerializer,
            "Too many failed logins for this account or from this address (code throttled); "
            "Retry-After says how many seconds the lockout has left.",
        )
    if method == "POST" and way.transport == "header":
        # No CSRF token guards the header way: a body another site could send unasked is
        # not read (ways.negotiation.StrictJSONNegotiation).
        answers[415] = OpenApiResponse(
            ErrorSerializer, "The body is not labelled Content-Type: application/json."
        )
    # Every verb but the login hint reads a session, a user or a token row.
    answers[503] = OpenApiResponse(UnavailableSerializer, UnavailableSerializer.__doc__)
    return answers


def request_serializer(way: Way, verb: str, method: str):
    if method != "POST":
        return None
    if verb == "login":
        return LoginSerializer
    if verb == "password":
        return PasswordChangeSerializer
    if verb == "sessions_end":
        return SessionsEndSerializer
    if way.transport == "header":
        return RefreshTokenSerializer  # refresh and logout both take {"refresh": ...}
    return None  # the cookies carry everything


def csrf_parameters() -> list[OpenApiParameter]:
    """What Django's CSRF check demands of every POST to a way that uses cookies."""
    return [
        OpenApiParameter(
            "X-CSRFToken",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=True,
            description="The csrftoken cookie's value; without it the POST gets 403.",
        ),
        OpenApiParameter(
            settings.CSRF_COOKIE_NAME,
            OpenApiTypes.STR,
            OpenApiParameter.COOKIE,
            required=True,
            description="Set by GET on this way's login URL.",
        ),
    ]


SUMMARIES = {
    ("login", "GET"): "How to log in",
    ("login", "POST"): "Log in",
    ("resource", "GET"): "The protected resource",
    ("refresh", "POST"): "Refresh the tokens",
    ("logout", "POST"): "Log out",
    ("password", "POST"): "Change the password",
    ("sessions", "GET"): "List your login sessions",
    ("sessions_end", "POST"): "End login sessions",
}


VERB_DESCRIPTIONS = {
    "password": (
        "The old password is checked as a login checks it (a wrong one counts toward the "
        "lockout); Django's password validators judge the new one. This session goes on under "
        "a new credential, returned as at login; every other session and token of the "
        "account ends. In the managed profile, end_other_sessions false keeps them.",
    ),
    "sessions": (
        "Managed profile only (SESSION_POLICY=managed): every live login session of the "
        "user, through all the ways, the current one marked (ASVS 7.5.2).",
    ),
    "sessions_end": (
        "Managed profile only: end one login session (scope one, with its id), every other "
        "one, or all, after entering the password again (a wrong one counts toward the "
        "lockout). Every credential of an ended login session is refused at once.",
    ),
}


class WaySchema(AutoSchema):
    """drf-spectacular's AutoSchema, documenting the way and verb a view instance serves.

    One view class serves several ways (as_view(way=...)), so what an endpoint reads and
    answers depends on the instance's way, not on its class.
    """

    @property
    def way(self) -> Way:
        return self.view.way

    @property
    def verb(self) -> str:
        return next(verb for verb in VERBS if self.way.path(verb) == self.path)

    def get_tags(self):
        return [self.way.name]

    def get_summary(self):
        return f"{SUMMARIES[self.verb, self.method]} ({self.way.name})"

    def get_description(self):
        return " ".join([self.way.summary, *VERB_DESCRIPTIONS.get(self.verb, ())])

    def get_request_serializer(self):
        return request_serializer(self.way, self.verb, self.method)

    def get_response_serializers(self):
        return responses(self.way, self.verb, self.method)

    def get_override_parameters(self):
        if self.way.transport == "cookie" and self.method == "POST":
            return csrf_parameters()
        return []

    def get_examples(self):
        if self.verb == "login" and self.method == "POST":
            return [
                OpenApiExample(
                    "demo",
                    summary="The demo user that make run creates",
                    value={"username": "demo", "password": "demo-password"},
                    request_only=True,
                )
            ]
        return []

    def get_auth(self):
        requirements = security_requirements(self.way, self.verb)
        schemes = security_schemes(self.way)
        for name in {name for requirement in requirements for name in requirement}:
            self.registry.register_on_missing(
                ResolvedComponent(
                    name=name,
                    type=ResolvedComponent.SECURITY_SCHEMA,
                    object=name,
                    schema=schemes[name],
                )
            )
        return requirements
