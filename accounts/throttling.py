"""Login throttling with django-axes: how long a lockout has left, and how it is answered.

django-axes counts failed logins in the database, per account and per client address, so
every process and server that shares the database counts them together. Past the limit,
every login of that account, or from that address, is refused until the window since the
failure that locked it has passed: the right password too, then it works again.
"""

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.db.models import Max, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.exceptions import Throttled

LOCKED_OUT = "Too many failed logins for this account or from this address; try again later."


def lockout_seconds_left(request, credentials: dict) -> int:
    """Seconds until every lockout that holds for these credentials and this client ends.

    Each count (the account's, the address's) that reached the limit ends when its latest
    failure leaves the window: failures during a lockout are not counted, so that time is
    fixed, and an attacker cannot keep an account locked beyond it by trying on.
    """
    handler = AxesProxyHandler.get_implementation()
    limit = get_failure_limit(request, credentials)
    ends = []
    for attempts in handler.get_user_attempts(request, credentials):
        summary = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (summary["failures"] or 0) >= limit:
            ends.append(summary["last"] + get_cool_off(request))
    if not ends:
        return 0
    return max(0, math.ceil((max(ends) - timezone.now()).total_seconds()))


def login_throttled(request, credentials: dict) -> Throttled:
    """The 429 an API login answers while locked out; DRF sends Retry-After from `wait`."""
    return Throttled(wait=lockout_seconds_left(request, credentials), detail=LOCKED_OUT)


def lockout_response(request, original_response, credentials):
    """What django-axes answers a locked-out login outside the API: the admin's, a page."""
    seconds = lockout_seconds_left(request, credentials or {})
    if request.path_info.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": f"{LOCKED_OUT} Expected available in {seconds} seconds.",
                "code": "throttled",
            },
            status=429,
        )
    else:
        # Rendered now: django-axes answers from a middleware, after templates are rendered.
        response = render(request, "login_throttled.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response
