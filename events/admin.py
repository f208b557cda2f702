"""The Django admin of the events area: the feature catalog (with auto-created features to review)
and CRM user attributes, scoped to the workspaces the staff user administers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.models import CrmUser, Feature
from events.privacy import crm_user_erase
from tenancy.admin import WorkspaceAdminScope


@admin.register(Feature)
class FeatureAdmin(WorkspaceAdminScope):
    list_display = ["key", "name", "type", "auto_created", "workspace"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "type", "auto_created"]
    list_editable = ["name", "type"]
    search_fields = ["key", "name"]
    actions = ["mark_reviewed"]

    @admin.action(description=_("Mark as reviewed (no longer auto-created)"))
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[Feature]) -> None:
        count = queryset.update(auto_created=False)
        self.message_user(request, ngettext("%d feature reviewed.", "%d features reviewed.", count) % count)


@admin.register(CrmUser)
class CrmUserAdmin(WorkspaceAdminScope):
    list_display = ["external_id", "name", "email", "status", "language", "country", "timezone", "role", "workspace"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "status", "language", "country"]
    search_fields = ["external_id", "email", "name"]
    list_per_page = 100
    actions = ["erase"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only through "Erase": it recomputes the rollups that count users without naming them
        # (per feature and day, with its users' bitmap; per day; per feature and month). A plain
        # delete would leave them counting the user, and collect every event for its confirmation page.
        return False

    @admin.action(description=_("Erase the selected users (their events and rollups; cannot be undone)"))
    def erase(self, request: HttpRequest, queryset: QuerySet[CrmUser]) -> None:
        users = list(queryset.select_related("workspace"))
        for crm_user in users:
            crm_user_erase(workspace=crm_user.workspace, crm_user=crm_user, actor=request.user)
        self.message_user(request, ngettext("%d user erased.", "%d users erased.", len(users)) % len(users))
