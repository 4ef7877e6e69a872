"""The JSON parser every endpoint reads its body with."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.request import is_form_media_type


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, for which every body either parses or is a 400, never a 500.

    JSONOnlyNegotiation reads every body as JSON, so two bodies need more care than DRF takes:
    - JSON nested too deeply, e.g. a hundred thousand "[": json.load raises RecursionError,
      which DRF does not catch;
    - a body labelled as a form: DRF hands what it parsed to Django's CSRF check as
      request.POST, which calls .get() on it, so it must be an object, not null or a list.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
        if is_form_media_type(media_type or "") and not isinstance(data, dict):
            raise ParseError("JSON parse error - a body sent as a form must be a JSON object.")
        return data
