"""Admin pages to inspect the token ways' state: outstanding and blacklisted refresh tokens."""

import json

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.template.defaultfilters import pluralize
from django.utils.html import format_html
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist import admin as token_blacklist_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from jwt_demo.services import token_blacklist_many


def claims_block(token: str) -> str:
    """A token's claims as JSON, read without checking the signature: anyone can do as much."""
    try:
        claims = token_backend.decode(token, verify=False)
    except TokenBackendError as error:
        return f"(does not decode: {error})"
    return format_html("<pre>{}</pre>", json.dumps(claims, indent=2, sort_keys=True, default=str))


# SimpleJWT registers its own admins; these replace them. The token column is never shown:
# it holds a live refresh token, a credential.
admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(token_blacklist_admin.OutstandingTokenAdmin):
    """Every refresh token issued, with its claims and whether it is blacklisted."""

    list_display = ("jti", "user", "created_at", "expires_at", "blacklisted", "claims")
    fields = list_display
    exclude = ("token",)
    ordering = ("-created_at",)
    actions = ["blacklist_selected"]

    def get_queryset(self, request):
        blacklisted = BlacklistedToken.objects.filter(token=OuterRef("pk"))
        return super().get_queryset(request).annotate(is_blacklisted=Exists(blacklisted))

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_change_permission(self, request, obj=None):
        # Nothing in a token can be changed; SimpleJWT's admin allowed GET only, which left a
        # Save button that could never work.
        return False

    def has_blacklist_permission(self, request):
        return request.user.has_perm("token_blacklist.add_blacklistedtoken")

    @admin.action(description="Blacklist selected tokens", permissions=["blacklist"])
    def blacklist_selected(self, request, queryset):
        blacklisted = token_blacklist_many(outstanding_tokens=queryset)
        already = len(queryset) - blacklisted
        self.message_user(
            request,
            f"Blacklisted {blacklisted} token{pluralize(blacklisted)}; "
            f"{already} {pluralize(already, 'was,were')} already blacklisted.",
            messages.SUCCESS,
        )

    @admin.display(description="blacklisted", boolean=True, ordering="is_blacklisted")
    def blacklisted(self, token):
        return token.is_blacklisted

    @admin.display(description="claims")
    def claims(self, token):
        return claims_block(token.token)


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(token_blacklist_admin.BlacklistedTokenAdmin):
    """Refresh tokens that can no longer be refreshed, with their claims."""

    list_display = (*token_blacklist_admin.BlacklistedTokenAdmin.list_display, "token_claims")
    fields = list_display
    readonly_fields = list_display
    ordering = ("-blacklisted_at",)

    def has_add_permission(self, request):
        # Blacklisting goes through the outstanding tokens' action.
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Deleting a blacklist row would un-revoke its token: a logged-out refresh token
        # would refresh again. Revocation cannot be undone here; rows go when their token
        # expires (manage.py purge_expired_tokens).
        return False

    @admin.display(description="claims")
    def token_claims(self, blacklisted):
        return claims_block(blacklisted.token.token)
