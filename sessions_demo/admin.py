"""Admin pages to inspect the session ways' state: django_session, the cache, signed cookies."""

import json
import operator
from functools import reduce

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import format_html
from django.utils.text import capfirst

from accounts.models import User
from sessions_demo.models import CacheSession, SignedCookieSession
from sessions_demo.selectors import (
    KEY_HINT_LENGTH,
    cache_session_list,
    session_key_hint,
    session_way_label,
    sessions_cache_is_local_memory,
    signed_cookie_session_decode,
    users_by_id,
)
from sessions_demo.services import session_end_many
from ways.admin import ListOnlyAdmin
from ways.registry import cache_description, database_description, signed_cookie_way

SESSION_REFERENCE_SALT = "sessions_demo.admin.session_reference"


def json_block(data) -> str:
    return format_html("<pre>{}</pre>", json.dumps(data, indent=2, sort_keys=True, default=str))


def user_link(*, user_id, user: User | None) -> str:
    if user_id is None:
        return "—"
    if user is None:
        return f"#{user_id} (no such user)"
    opts = User._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[user.pk])
    return format_html('<a href="{}">{}</a>', url, user.get_username())


def session_reference(session_key: str) -> str:
    """What a session's action checkbox carries in place of its key: the hint and a digest.

    A page must never hold a whole key (it is a credential); the keyed digest picks out one
    key without revealing it, the hint lets the database find the candidates by prefix.
    """
    digest = salted_hmac(SESSION_REFERENCE_SALT, session_key, algorithm="sha256").hexdigest()
    return f"{session_key[:KEY_HINT_LENGTH]}:{digest}"


def session_keys_referenced(queryset, references: list[str]) -> list[str]:
    wanted = set(references)
    hints = {reference.partition(":")[0] for reference in wanted} - {""}
    if not hints:
        return []
    candidates = queryset.filter(reduce(operator.or_, (Q(pk__startswith=h) for h in hints)))
    return [
        key for key in candidates.values_list("pk", flat=True) if session_reference(key) in wanted
    ]


class SessionChangeList(ChangeList):
    """The changelist, with each session on the page decoded and its user fetched in one query."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        for session in self.result_list:
            session.decoded = session.get_decoded()
        users = users_by_id(session.decoded.get(SESSION_KEY) for session in self.result_list)
        for session in self.result_list:
            session.decoded_user = users.get(str(session.decoded.get(SESSION_KEY)))


@admin.register(Session)
class SessionAdmin(ListOnlyAdmin):
    """The django_session table: sessions of the db and cached-db ways and the admin's own.

    No delete: deleting a row alone would leave a cached-db session alive in the cache, so
    sessions end through the "end" action instead.
    """

    list_display = ("key_hint", "user", "way", "expire_date", "expired", "decoded_data")
    # A change page would carry the whole key in its URL, title and breadcrumbs.
    list_display_links = None
    ordering = ("-expire_date",)
    actions = ["end_selected"]
    change_list_template = "admin/sessions_demo/session/change_list.html"

    def get_changelist(self, request, **kwargs):
        return SessionChangeList

    def changelist_view(self, request, extra_context=None):
        extra_context = {"database_description": database_description(), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def has_end_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.delete_{self.opts.model_name}")

    def action_checkbox(self, obj):
        checkbox = forms.CheckboxInput(
            {"class": "action-select", "aria-label": f"Select session {self.key_hint(obj)}"},
            lambda value: False,
        )
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, session_reference(obj.pk))

    def response_action(self, request, queryset, *args, **kwargs):
        # Django filters the selection by primary key: swap each checkbox's reference back to
        # the key it stands for first.
        references = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        post = request.POST.copy()
        post.setlist(helpers.ACTION_CHECKBOX_NAME, session_keys_referenced(queryset, references))
        request.POST = post
        # Newer Django passes more arguments (6.1: action_location); hand them all on.
        return super().response_action(request, queryset, *args, **kwargs)

    @admin.action(description="End selected sessions", permissions=["end"])
    def end_selected(self, request, queryset):
        ended = session_end_many(session_keys=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Ended {ended} session{pluralize(ended)}.", messages.SUCCESS)

    @admin.display(description="session key")
    def key_hint(self, session):
        return session_key_hint(session.session_key)

    @admin.display(description="user")
    def user(self, session):
        return user_link(user_id=session.decoded.get(SESSION_KEY), user=session.decoded_user)

    @admin.display(description="way")
    def way(self, session):
        return session_way_label(session.decoded)

    @admin.display(description="expired", boolean=True, ordering="expire_date")
    def expired(self, session):
        return session.expire_date <= timezone.now()

    @admin.display(description="data")
    def decoded_data(self, session):
        return json_block(session.decoded)


class TablelessAdmin(ListOnlyAdmin):
    """An admin index entry for state with no table: one read-only page, and no queries on it."""

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": capfirst(self.opts.verbose_name_plural),
            **self.page_context(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_list_template, context)

    def page_context(self, request) -> dict:
        raise NotImplementedError("subclasses of TablelessAdmin must provide page_context()")


@admin.register(CacheSession)
class CacheSessionAdmin(TablelessAdmin):
    change_list_template = "admin/sessions_demo/cachesession/change_list.html"
    list_limit = 500

    def page_context(self, request) -> dict:
        sessions = cache_session_list(limit=self.list_limit)
        rows = [
            {
                "session": session,
                "user": user_link(user_id=session.user_id, user=session.user),
                "data": json_block(session.data),
            }
            for session in sessions or ()
        ]
        return {
            "cache_description": cache_description(),
            "local_memory": sessions_cache_is_local_memory(),
            "listable": sessions is not None,
            "rows": rows,
            "list_limit": self.list_limit,
            "truncated": len(rows) >= self.list_limit,
        }


class SignedCookieForm(forms.Form):
    value = forms.CharField(
        label="Value of the cookie",
        # The value is the cookie way's credential: never sent back in the page.
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "size": 80}),
        # Browsers keep at most 4096 bytes per cookie, name included.
        max_length=4096,
    )


@admin.register(SignedCookieSession)
class SignedCookieSessionAdmin(TablelessAdmin):
    change_list_template = "admin/sessions_demo/signedcookiesession/change_list.html"

    def page_context(self, request) -> dict:
        way = signed_cookie_way()
        context = {
            "cookie_name": way.session_cookie_name,
            "cookie_age": settings.SESSION_COOKIE_AGE,
        }
        if request.method != "POST":
            return {**context, "form": SignedCookieForm()}
        form = SignedCookieForm(request.POST)
        if not form.is_valid():
            return {**context, "form": form}
        value = form.cleaned_data["value"].removeprefix(f"{way.session_cookie_name}=")
        data = signed_cookie_session_decode(value=value)
        users = users_by_id([data.get(SESSION_KEY)])
        return {
            **context,
            "form": SignedCookieForm(),
            "decoded": True,
            "value_hint": session_key_hint(value),
            "valid": bool(data),
            "way": session_way_label(data),
            # Not "user": the admin's own pages read that one, the signed-in admin.
            "session_user": user_link(
                user_id=data.get(SESSION_KEY), user=users.get(str(data.get(SESSION_KEY)))
            ),
            "data": json_block(data),
        }
