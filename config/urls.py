"""Root URLs: the pages, the admin, the listing, the schema and its explorer, and the ways."""

from django.contrib import admin
from django.urls import include, path
from django.utils.module_loading import import_string
from drf_spectacular.views import SpectacularJSONAPIView

from ways.registry import DEMONSTRATION_WAYS, WAYS
from ways.views import ApiExplorerView, ChooseView, HomeView, WayListView

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("choose/", ChooseView.as_view(), name="choose"),
    path("admin/", admin.site.urls),
    path("api/ways/", WayListView.as_view(), name="way-list"),
    path("api/schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    # An HTML page under /api/: JsonApiMiddleware leaves a 200 as it is, and answers its
    # errors in JSON as everywhere under /api/.
    path("api/docs/", ApiExplorerView.as_view(url_name="schema"), name="api-docs"),
    *(
        path(
            way.prefix.removeprefix("/"),
            include((import_string(way.urlpatterns)(way), "ways"), namespace=way.name),
        )
        # A demonstration's views answer 404 where it is off (PLAIN_COOKIE_WAY).
        for way in WAYS + DEMONSTRATION_WAYS
    ),
]
