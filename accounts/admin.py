"""Admin for the project's users, with the end of their login sessions (managed profile)."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.template.defaultfilters import pluralize

from accounts.models import User
from login_sessions.models import EndReason, LoginSession
from login_sessions.policy import is_managed
from login_sessions.services import login_sessions_end


@admin.register(User)
class ProjectUserAdmin(UserAdmin):
    actions = ["end_login_sessions"]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"managed": is_managed(), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def has_end_login_sessions_permission(self, request):
        # The stock profile records no login sessions: the action is not offered there.
        return is_managed() and request.user.has_perm("login_sessions.change_loginsession")

    @admin.action(
        description="End all login sessions of the selected users",
        permissions=["end_login_sessions"],
    )
    def end_login_sessions(self, request, queryset):
        ended = login_sessions_end(
            login_sessions=LoginSession.objects.filter(user__in=queryset),
            reason=EndReason.ADMIN_ENDED,
        )
        self.message_user(
            request, f"Ended {ended} login session{pluralize(ended)}.", messages.SUCCESS
        )
