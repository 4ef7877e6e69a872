"""Admin bases the ways' apps share."""

from django.contrib import admin
from django.urls import path


class ListOnlyAdmin(admin.ModelAdmin):
    """An admin with one page, the list: no add, change or delete pages or permissions."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "",
                self.admin_site.admin_view(self.changelist_view),
                name="{}_{}_changelist".format(*info),
            )
        ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
