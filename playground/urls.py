"""The playground's URL patterns, mounted under every way's prefix by the way's own URLs."""

from django.urls import path

from playground import views
from ways.registry import Way


def playground_urlpatterns(way: Way, *, cart_view) -> list:
    """The playground's endpoints; the cart's view is the way's own (its app's CartView)."""
    return [
        path("playground/cart/", cart_view.as_view(way=way), name="cart"),
        path("playground/inspect/", views.InspectView.as_view(way=way), name="inspect"),
        path("playground/copy/", views.CopyView.as_view(way=way), name="copy"),
        path("playground/replay/", views.ReplayView.as_view(way=way), name="replay"),
    ]
