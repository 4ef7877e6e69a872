"""Template filters for text written in the README's Markdown and shown on a page."""

import re

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.filter
def code_spans(text: str) -> str:
    """The text escaped, with its `code` spans as <code> elements."""
    pieces = re.split(r"`([^`]+)`", text)  # text, code, text, code, …, text
    *pairs, last = pieces
    spans = format_html_join("", "{}<code>{}</code>", zip(pairs[0::2], pairs[1::2], strict=True))
    return format_html("{}{}", spans, last)
