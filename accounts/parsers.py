"""Request parsing: every body is read as JSON, whatever Content-Type the client claims."""

from rest_framework.parsers import JSONParser


class AnyContentTypeJSONParser(JSONParser):
    """JSON parser that also takes bodies sent without, or with another, Content-Type.

    The API speaks only JSON; answering a form or text body with a JSON parse error (400)
    tells the client what is wrong more plainly than 415 Unsupported Media Type.
    """

    media_type = "*/*"
