"""WSGI entry point, for gunicorn or any WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

from ways.checks import refuse_unsafe_production

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# runserver runs the system checks; a production server does not, so refuse weak keys and
# the insecure demonstration here.
refuse_unsafe_production()
