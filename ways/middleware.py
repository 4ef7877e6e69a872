"""Every answer under /api/ is JSON, whatever Django itself would have answered.

DRF answers in JSON for everything its views do. What reaches no view is answered by Django:
an unknown path (an HTML page, listing every URL pattern with DEBUG on), a missing trailing
slash (a redirect that drops a POST's body, or a 500 with DEBUG on), a body over
DATA_UPLOAD_MAX_MEMORY_SIZE or a Host not in ALLOWED_HOSTS (an HTML 400), the production
profile's redirect to HTTPS. This middleware, the outermost, answers those before Django
does, or turns Django's answer into JSON with the same status and headers.
"""

import logging
from http import HTTPStatus

from csp.constants import HEADER, NONE
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import is_valid_path
from django.utils.cache import add_never_cache_headers

API_PREFIX = "/api/"

# What a status means when Django, not a view, answered it; the sentence is the detail.
CODES = {
    HTTPStatus.BAD_REQUEST: "bad_request",
    HTTPStatus.FORBIDDEN: "forbidden",
    HTTPStatus.NOT_FOUND: "not_found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "body_too_large",
    HTTPStatus.INTERNAL_SERVER_ERROR: "server_error",
}


def is_api_path(path: str) -> bool:
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


def json_error(status: HTTPStatus, detail: str, code: str, **more) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code, **more}, status=status)
    add_never_cache_headers(response)
    return response


class JsonApiMiddleware:
    """Answers in JSON, under /api/, what Django would answer in HTML or as a bare redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        response = self.refusal_before_django(request) or self.get_response(request)
        return self.as_json(request, response)

    def refusal_before_django(self, request: HttpRequest) -> JsonResponse | None:
        try:
            request.get_host()
        except DisallowedHost as error:
            # Logged as Django logs it, for whoever watches django.security.
            logging.getLogger("django.security.DisallowedHost").error(
                str(error), extra={"status_code": 400, "request": request}
            )
            return json_error(
                HTTPStatus.BAD_REQUEST,
                "This server does not answer for the host in the Host header.",
                "host_not_allowed",
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and content_length(request) > limit:
            # Django would refuse it once a view read the body; refused before anything is.
            return json_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The body is larger than {limit} bytes; no endpoint here reads that much.",
                "body_too_large",
            )
        # Every endpoint's path ends with a slash: only a path without one is resolved here.
        # Django's APPEND_SLASH would redirect it (dropping a POST's body) or, with DEBUG on,
        # fail a POST with a 500: name the right path instead, so the client can fix it.
        path, urlconf = request.path_info, getattr(request, "urlconf", None)
        if path.endswith("/") or is_valid_path(path, urlconf):
            return None
        if is_valid_path(path + "/", urlconf):
            return json_error(
                HTTPStatus.NOT_FOUND,
                f"No endpoint at {path}; did you mean {path}/?",
                "not_found",
                path=path + "/",
            )
        return json_error(HTTPStatus.NOT_FOUND, not_found_detail(path), "not_found")

    def as_json(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        is_json = is_json_media(response.get("Content-Type", ""))
        if is_json or response.status_code < HTTPStatus.MULTIPLE_CHOICES or not has_body(response):
            return response
        status = HTTPStatus(response.status_code)
        if response.has_header("Location"):
            location = response["Location"]
            code = "https_required" if location.startswith("https://") else "moved"
            converted = json_error(status, f"This resource is at {location}.", code)
        else:
            code = CODES.get(status, "bad_request" if status < 500 else "server_error")
            detail = not_found_detail(request.path_info) if code == "not_found" else None
            converted = json_error(status, detail or f"{status.phrase}.", code)
        for header, value in response.items():
            if header.lower() not in {"content-type", "content-length"}:
                converted.headers.setdefault(header, value)
        converted.cookies = response.cookies
        return converted


# A JSON answer loads, runs and frames nothing: the strictest policy there is.
JSON_POLICY = {
    "default-src": [NONE],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [NONE],
}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware: the settings' policy for pages, JSON_POLICY for JSON answers.

    Every JSON answer gets it, errors included: django-csp leaves out 404s and 500s while
    DEBUG is on, for Django's debug pages, which are HTML.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        # The same for every JSON answer, and JSON answers are the hot path: built once.
        self.json_policy = build_policy(config=JSON_POLICY)

    def process_response(self, request, response):
        if is_json_media(response.get("Content-Type", "")):
            response.headers.setdefault(HEADER, self.json_policy)
            return response
        return super().process_response(request, response)


def is_json_media(content_type: str) -> bool:
    """application/json, and JSON under another name (application/vnd.oai.openapi+json)."""
    return content_type.split(";")[0].strip().endswith("json")


def not_found_detail(path: str) -> str:
    return f"No endpoint at {path}; GET /api/ways/ lists every one."


def content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def has_body(response: HttpResponse) -> bool:
    """A response whose status allows a body: not 1xx, 204 or 304."""
    status = response.status_code
    return status >= 200 and status not in {HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED}


class ServedByMiddleware:
    """Names the app node that answered (X-Served-By: NODE_NAME), when NODE_NAME is set.

    Behind a load balancer it shows which of several nodes served each request; the cluster
    drill counts, by it, the nodes a client's requests landed on.
    """

    header = "X-Served-By"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.NODE_NAME:
            response.headers[self.header] = settings.NODE_NAME
        return response
