"""Admin pages of the managed profile: every login session, through every way, and its end."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from login_sessions.models import EndReason, LoginSession
from login_sessions.policy import is_managed
from login_sessions.selectors import user_agent_described
from login_sessions.services import login_sessions_end
from ways.admin import ListOnlyAdmin
from ways.registry import WAYS


class LiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "live"), ("ended", "ended or expired")]

    def queryset(self, request, queryset):
        live = LoginSession.objects.live().values("pk")
        if self.value() == "live":
            return queryset.filter(pk__in=live)
        if self.value() == "ended":
            return queryset.exclude(pk__in=live)
        return queryset


class WayFilter(admin.SimpleListFilter):
    title = "way"
    parameter_name = "way"

    def lookups(self, request, model_admin):
        return [(way.name, way.name) for way in WAYS]

    def queryset(self, request, queryset):
        return queryset.filter(way=self.value()) if self.value() else queryset


def end_permitted(request) -> bool:
    return request.user.has_perm("login_sessions.change_loginsession")


@admin.register(LoginSession)
class LoginSessionAdmin(ListOnlyAdmin):
    """Every login of the managed profile; ending one ends every credential it issued."""

    list_display = (
        "id_hint",
        "user",
        "way",
        "created_at",
        "last_seen_at",
        "expires_at",
        "idle_expires_at",
        "live",
        "end_reason",
        "ip",
        "client",
    )
    list_filter = (WayFilter, LiveFilter, ("user", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user",)
    list_display_links = None
    search_fields = ("user__username",)
    actions = ["end_selected"]
    change_list_template = "admin/login_sessions/loginsession/change_list.html"

    # No delete (ListOnlyAdmin): deleting a row would forget that it ended; the action ends.
    def has_end_permission(self, request):
        return end_permitted(request)

    def get_urls(self):
        return [
            path(
                "end-everyone/",
                self.admin_site.admin_view(self.end_everyone_view),
                name="login_sessions_loginsession_end_everyone",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"managed": is_managed(), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.action(description="End selected login sessions", permissions=["end"])
    def end_selected(self, request, queryset):
        ended = login_sessions_end(login_sessions=queryset, reason=EndReason.ADMIN_ENDED)
        self.message_user(
            request, f"Ended {ended} login session{pluralize(ended)}.", messages.SUCCESS
        )

    def end_everyone_view(self, request):
        """Confirm, then end every live login session of every user (ASVS 7.4.5)."""
        if not end_permitted(request):
            raise PermissionDenied
        live = LoginSession.objects.live()
        if request.method == "POST":
            ended = login_sessions_end(login_sessions=live, reason=EndReason.ADMIN_ENDED)
            self.message_user(
                request,
                f"Ended {ended} login session{pluralize(ended)}: every user must log in again.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:login_sessions_loginsession_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "End everyone's login sessions?",
            "live_count": live.count(),
        }
        return TemplateResponse(
            request, "admin/login_sessions/loginsession/end_everyone.html", context
        )

    @admin.display(description="id")
    def id_hint(self, login_session):
        return login_session.pk[:8] + "…"

    @admin.display(description="idle expires at")
    def idle_expires_at(self, login_session):
        return login_session.idle_expires_at

    @admin.display(description="live", boolean=True)
    def live(self, login_session):
        return login_session.is_live

    @admin.display(description="client")
    def client(self, login_session):
        return format_html(
            '<span title="{}">{}</span>',
            login_session.user_agent,
            user_agent_described(login_session.user_agent),
        )
