"""The playground's endpoints under each way's prefix: what a credential is, a copy replayed.

A teaching aid of the landing page, not part of the API: left out of /api/ways/ and of the
OpenAPI schema, and served only where PLAYGROUND is on (by default, with DEBUG).
"""

from rest_framework.response import Response

from playground.selectors import credential_inspected
from playground.services import credential_copy_keep, credential_copy_replay
from ways.serializers import CartItemSerializer, ReplaySerializer
from ways.views import OnlyWhereSettingIsOn, WayView

PLAYGROUND_OFF = (
    "The playground is off (PLAYGROUND, by default on with DEBUG only): its copies of "
    "credentials and their replays teach, but have no place on a production server."
)


class PlaygroundOnly(OnlyWhereSettingIsOn):
    """Mixed into a way's view: served only where PLAYGROUND is on, and not in the schema."""

    setting = "PLAYGROUND"
    off_detail = PLAYGROUND_OFF
    off_code = "playground_off"


class PlaygroundCart(PlaygroundOnly):
    """GET the cart, POST {item} to add to it: the way's view says where it keeps it."""

    def cart_items(self, *, item: str | None) -> list[str]:
        raise NotImplementedError("a way's cart view says where its cart is kept")

    def cart_kept(self) -> str:
        raise NotImplementedError("a way's cart view says where its cart is kept")

    def get(self, request):
        return self.cart_response(item=None)

    def post(self, request):
        serializer = CartItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.cart_response(item=serializer.validated_data["item"])

    def cart_response(self, *, item: str | None) -> Response:
        return Response(self.cart_body(self.cart_items(item=item), kept=self.cart_kept()))


class PlaygroundView(PlaygroundOnly, WayView):
    def perform_authentication(self, request):
        """The credential is what is looked at here, good or bad: nothing is refused for it."""


class InspectView(PlaygroundView):
    """GET: the way's credentials this request carried, and what the server keeps for them."""

    def get(self, request):
        return Response(credential_inspected(request=request._request, way=self.way))


class CopyView(PlaygroundView):
    """POST: keep a copy of the credential this request carried, as a thief would."""

    def post(self, request):
        return Response({"copy": credential_copy_keep(request=request._request, way=self.way)})


class ReplayView(PlaygroundView):
    """POST {copy, tamper}: the resource's answer to the kept copy, tampered or not."""

    def post(self, request):
        serializer = ReplaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = credential_copy_replay(
            request=request._request,
            way=self.way,
            copy_id=serializer.validated_data["copy"],
            tamper=serializer.validated_data["tamper"],
        )
        return Response(answer)
