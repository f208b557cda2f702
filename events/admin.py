"""The Django admin is the configuration UI: workspaces and their members and ingest keys, the
feature catalog (with auto-created features to review), and CRM user attributes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from events.models import CrmUser, Feature, IngestKey, Membership, Workspace
from events.tasks import rebuild_rollups_task


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class IngestKeyInline(admin.TabularInline):
    model = IngestKey
    extra = 0
    fields = ["label", "hint", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    can_delete = False
    verbose_name = _("ingest key")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are issued by the "issue a new ingest key" action, which shows the secret once


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "session_timeout_minutes", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, IngestKeyInline]
    actions = ["issue_ingest_key"]

    @admin.action(description=_("Issue a new ingest key (shown once)"))
    def issue_ingest_key(self, request: HttpRequest, queryset: QuerySet[Workspace]) -> None:
        for workspace in queryset:
            _key, raw = IngestKey.issue(workspace, label=f"issued by {request.user} on {timezone.now():%Y-%m-%d}")
            self.message_user(
                request,
                _("New ingest key for %(ws)s — copy it now, it will not be shown again: %(key)s")
                % {"ws": workspace, "key": raw},
                messages.WARNING,
            )

    def save_model(self, request: HttpRequest, obj: Workspace, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"timezone", "session_timeout_minutes"} & set(form.changed_data):
            # Day boundaries and sessions depend on both: every rollup of the workspace is now stale.
            workspace_id = obj.pk
            transaction.on_commit(lambda: rebuild_rollups_task.delay(workspace_id))
            self.message_user(request, _("Rollups are being recomputed for the new day boundaries and sessions."))
        if not change:
            _key, raw = IngestKey.issue(obj)
            self.message_user(
                request,
                _("Ingest key for %(ws)s — copy it now, it will not be shown again: %(key)s") % {"ws": obj, "key": raw},
                messages.WARNING,
            )


@admin.register(IngestKey)
class IngestKeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workspace", "label", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["workspace"]
    readonly_fields = ["workspace", "hint", "created_at", "last_used_at"]
    fields = ["workspace", "label", "hint", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[IngestKey]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, ngettext("%d key revoked.", "%d keys revoked.", count) % count)


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "type", "auto_created", "workspace"]
    list_filter = ["workspace", "type", "auto_created"]
    list_editable = ["name", "type"]
    search_fields = ["key", "name"]
    actions = ["mark_reviewed"]

    @admin.action(description=_("Mark as reviewed (no longer auto-created)"))
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[Feature]) -> None:
        count = queryset.update(auto_created=False)
        self.message_user(request, ngettext("%d feature reviewed.", "%d features reviewed.", count) % count)


@admin.register(CrmUser)
class CrmUserAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "email", "status", "language", "country", "timezone", "role", "workspace"]
    list_filter = ["workspace", "status", "language", "country"]
    search_fields = ["external_id", "email", "name"]
    list_per_page = 100


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["workspace", "role"]
    autocomplete_fields = ["user"]
