"""The pages, the API explorer, the listing of ways in, and the base view of every way."""

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.staticfiles import finders
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ways.choice import choice_context
from ways.negotiation import StrictJSONNegotiation
from ways.permissions import CsrfTokenRequired
from ways.registry import WAYS, Way, cache_description, plain_cookie_name, served_ways
from ways.resource import protected_resource
from ways.schema import WayListSerializer, WaySchema

# What Django's add_never_cache_headers sends.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


class OnlyWhereSettingIsOn:
    """Mixed into a way's view: served only where a setting is on, and not in the schema.

    A teaching aid, not part of the API: elsewhere every method the view takes answers 404
    JSON with a code and a sentence saying which setting turns it on (and one it does not
    take still answers 405, as on every view).
    """

    schema = None
    setting: str = ""
    off_detail: str = ""
    off_code: str = ""

    def initial(self, request, *args, **kwargs):
        if not getattr(settings, self.setting) and request.method in self.allowed_methods:
            raise NotFound(self.off_detail, code=self.off_code)
        super().initial(request, *args, **kwargs)


class WayView(APIView):
    """Base for one way's endpoints; its URL pattern passes the way it serves."""

    way: Way = None
    schema = WaySchema()

    def get_authenticators(self):
        return [self.way.authentication_class(way=self.way)]

    def get_content_negotiator(self):
        if self.way.transport == "header":
            return StrictJSONNegotiation()
        return super().get_content_negotiator()

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.way.transport == "cookie":
            permissions.insert(0, CsrfTokenRequired())
        return permissions

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Credentials, and what they unlock, must never be kept by a browser or shared cache,
        # and a cache must not hand one client's answer to another. Set outright, not patched:
        # nothing before this point sets them, and this runs on every request.
        response.headers["Cache-Control"] = NEVER_CACHE
        response.headers["Vary"] = "Cookie" if self.way.transport == "cookie" else "Authorization"
        return response

    def login_hint(self) -> Response:
        """The answer to GET on a login URL: how to log in, and for cookie ways the CSRF cookie."""
        detail = "POST {username, password} as JSON."
        if self.way.transport == "cookie":
            get_token(self.request)  # sets the csrftoken cookie the POST must echo
            detail = (
                "POST {username, password} as JSON, with the csrftoken cookie's value in the "
                "X-CSRFToken header."
            )
        return Response({"way": self.way.name, "detail": detail})

    def logged_in_body(self, user) -> dict:
        return {"way": self.way.name, "username": user.username, "detail": "Logged in."}

    def password_changed_body(self, user) -> dict:
        return {
            "way": self.way.name,
            "username": user.username,
            "detail": "Password changed; every other session of the account has ended.",
        }

    def cart_body(self, items: list[str], *, kept: str) -> dict:
        return {"way": self.way.name, "items": items, "kept": kept}

    def logged_out_response(self) -> Response:
        response = Response({"way": self.way.name, "detail": "Logged out."})
        # Only the logout of a way whose credential the browser keeps as a cookie tells it to
        # drop the site's cookies: a logout that the CSRF token guards, so no other site can
        # send it. The header way keeps nothing in the browser, and no CSRF token guards its
        # logout: were it to clear site data, another site could wipe every way's cookies.
        if settings.LOGOUT_CLEAR_SITE_DATA and self.way.transport == "cookie":
            response["Clear-Site-Data"] = '"cache", "cookies"'
        return response


class ResourceView(WayView):
    """GET the protected resource: the same view, and the same body, for every way in."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(protected_resource(user=request.user, way=self.way))


class WayListView(APIView):
    """GET /api/ways/: every way in, with its endpoints and where it keeps state."""

    @extend_schema(
        summary="Every way in",
        tags=["ways"],
        responses=OpenApiResponse(WayListSerializer, WayListSerializer.__doc__),
        auth=[],
    )
    def get(self, request):
        return Response({"ways": [way.as_dict() for way in WAYS]})


class HomeView(TemplateView):
    """The landing page: the playground of every way in."""

    template_name = "home.html"

    def get_context_data(self, **kwargs):
        theme = self.request.COOKIES.get(THEME_COOKIE)
        return {
            **super().get_context_data(**kwargs),
            "ways": [(way, playground_listing(way)) for way in served_ways()],
            "cache_description": cache_description(),
            "session_policy": settings.SESSION_POLICY,
            "playground": settings.PLAYGROUND,
            "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
            "plain_cookie_name": plain_cookie_name() if settings.PLAIN_COOKIE_WAY else None,
            "theme": theme if theme in THEMES else THEMES[0],
            "theme_cookie": theme if theme in THEMES else None,
            "base_url": self.request.build_absolute_uri("/").rstrip("/"),
        }


# A preference, in a plain cookie the page itself sets: see home.html for why it may be.
THEME_COOKIE = "theme"
THEMES = ("light", "dark")
PLAYGROUND_VERBS = ("inspect", "copy", "replay", "cart")


def playground_listing(way: Way) -> dict:
    """The way's listing, with the playground's endpoints and its diagram, if drawn."""
    diagram = f"diagrams/{way.name}.svg"
    return {
        **way.as_dict(),
        **{verb: way.path(verb) for verb in PLAYGROUND_VERBS},
        "diagram": diagram if finders.find(diagram) else None,
    }


class ChooseView(TemplateView):
    """Which way to choose, by situation, quoting this project's measurements as they stand."""

    template_name = "choose.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **choice_context()}


# Swagger UI's stylesheet draws its icons (the arrows of its menus, its checkboxes) as data:
# images. A data: image runs nothing, and only this page, which shows no user's data, takes them.
@method_decorator(csp_update({"img-src": ["data:"]}), name="dispatch")
class ApiExplorerView(SpectacularSwaggerSplitView):
    """Swagger UI on /api/schema/: the page, and its start-up script as a file (?script).

    The split view, so that the page needs no inline script under the CSP.
    """

    template_name = "api_docs.html"
