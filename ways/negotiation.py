"""Content negotiation for an API that speaks only JSON."""

from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Read every body as JSON and answer in JSON, whatever the client's headers say.

    A form or text body then gets a plain JSON parse error (400) instead of 415, and a client
    that asks for HTML gets the JSON error it can act on (401, 403) instead of 406.
    """

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class StrictJSONNegotiation(JSONOnlyNegotiation):
    """Read a body only when it says it is JSON; any other body is a 415 (and still JSON).

    For the way whose credential travels in a header, so that no CSRF token guards it. A page
    on another site can send a form, text/plain or multipart body anywhere without asking;
    an application/json one needs a CORS preflight first, which this project never grants.
    """

    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)
