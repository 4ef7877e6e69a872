"""gunicorn's settings for this project, read from the working directory when gunicorn starts.

gunicorn sends "Server: gunicorn" on every answer and has no setting to leave it out. The
banner tells an attacker what to try; dropping it here is one line, which
tests/test_browser.py checks against the gunicorn installed.
"""

from gunicorn.http import wsgi

_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [header for header in _default_headers(self) if not header.startswith("Server:")]


wsgi.Response.default_headers = _default_headers_without_server
