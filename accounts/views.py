"""The landing page, the listing of ways in, and the base view every way's endpoints share."""

from django.views.generic import TemplateView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import CsrfTokenRequired
from accounts.ways import WAYS, Way, cache_description


class WayView(APIView):
    """Base for one way's endpoints; its URL pattern passes the way it serves."""

    way: Way = None

    def get_permissions(self):
        permissions = super().get_permissions()
        if self.way.transport == "cookie":
            permissions.insert(0, CsrfTokenRequired())
        return permissions


class WayListView(APIView):
    """GET /api/ways/: every way in, with its endpoints and where it keeps state."""

    def get(self, request):
        return Response({"ways": [way.as_dict() for way in WAYS]})


class HomeView(TemplateView):
    template_name = "home.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "ways": [(way, way.as_dict()) for way in WAYS],
            "cache_description": cache_description(),
            "base_url": self.request.build_absolute_uri("/").rstrip("/"),
        }
