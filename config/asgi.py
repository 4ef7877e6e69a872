"""ASGI entry point, for uvicorn, daphne or any ASGI server."""

import os

from django.core.asgi import get_asgi_application

from ways.checks import refuse_unsafe_production

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

# runserver runs the system checks; a production server does not, so refuse weak keys and
# the insecure demonstration here.
refuse_unsafe_production()
