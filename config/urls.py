"""Root URLs: the landing page, the admin, the listing, the schema and every way's endpoints."""

from django.contrib import admin
from django.urls import include, path
from django.utils.module_loading import import_string
from drf_spectacular.views import SpectacularJSONAPIView

from ways.registry import WAYS
from ways.views import HomeView, WayListView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("admin/", admin.site.urls),
    path("api/ways/", WayListView.as_view(), name="way-list"),
    # The OpenAPI description only: Swagger UI would load its scripts from a CDN.
    path("api/schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    *(
        path(
            way.prefix.removeprefix("/"),
            include((import_string(way.urlpatterns)(way), "ways"), namespace=way.name),
        )
        for way in WAYS
    ),
]
