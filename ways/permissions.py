"""Permissions shared by the ways in."""

from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission


class CsrfTokenRequired(BasePermission):
    """Refuse unsafe requests that lack Django's CSRF token, signed in or not.

    DRF checks CSRF only for requests its SessionAuthentication has authenticated. Every
    state change of a cookie-carried credential needs it, including login (login CSRF)
    and logout or refresh with an expired or missing credential.
    """

    def has_permission(self, request, view):
        if request.method not in SAFE_METHODS:
            try:
                SessionAuthentication().enforce_csrf(request)
            except PermissionDenied as error:
                raise PermissionDenied(str(error.detail), code="csrf_failed") from error
        return True
