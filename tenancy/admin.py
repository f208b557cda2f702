"""The Django admin of tenancy: workspaces with their members and ingest keys, memberships, the
audit trail, and the base classes every area's admin uses so that staff see only the workspaces
they administer (``WorkspaceAdminScope``) and saved configurations under the API's rules
(``SavedConfigAdmin``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tenancy.models import AuditEntry, IngestKey, Membership, Workspace
from tenancy.scoping import administered_workspaces
from tenancy.services import audit_record, ingest_key_issue
from tenancy.signals import day_boundaries_changed

ROTATION_GRACE = timedelta(hours=24)


class WorkspaceAdminScope(admin.ModelAdmin):
    """Staff see and change only the rows of workspaces they administer (roles enforced in the admin
    as in the API); a row of another workspace is a 404, as it is in the API."""

    workspace_field = "workspace"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        lookup = "pk__in" if self.workspace_field == "pk" else f"{self.workspace_field}__in"
        return qs.filter(**{lookup: administered_workspaces(request.user)})

    def _workspace_of(self, obj: Any) -> Workspace:
        return obj if self.workspace_field == "pk" else getattr(obj, self.workspace_field)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and administered_workspaces(request.user).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return self.has_module_permission(request)
        return administered_workspaces(request.user).filter(pk=self._workspace_of(obj).pk).exists()

    has_change_permission = has_view_permission

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None and self.model._default_manager.filter(pk=object_id).exists():
            raise Http404  # exists, but not for this user: the same answer as a missing row
        return obj

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "workspace" and not request.user.is_superuser:
            kwargs["queryset"] = administered_workspaces(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
class WorkspaceAdmin(WorkspaceAdminScope):
    workspace_field = "pk"
    list_display = [
        "name",
        "slug",
        "timezone",
        "currency",
        "session_timeout_minutes",
        "raw_event_retention_days",
        "created_at",
    ]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, IngestKeyInline]
    actions = ["issue_ingest_key"]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        before = dict(Membership.objects.filter(workspace=form.instance).values_list("pk", "role"))
        super().save_formset(request, form, formset, change)
        for membership in formset.new_objects + [obj for obj, _fields in formset.changed_objects]:
            if before.get(membership.pk) != membership.role:
                audit_record(
                    workspace=form.instance,
                    actor=request.user,
                    action=AuditEntry.Action.ROLE_CHANGED,
                    target=membership,
                    changes={
                        "user": membership.user.get_username(),
                        "role": [before.get(membership.pk), membership.role],
                    },
                )
        for membership in formset.deleted_objects:
            audit_record(
                workspace=form.instance,
                actor=request.user,
                action=AuditEntry.Action.MEMBER_REMOVED,
                target_type="membership",
                changes={"user": membership.user.get_username(), "role": before.get(membership.pk)},
            )

    @admin.action(description=_("Issue a new ingest key (shown once)"))
    def issue_ingest_key(self, request: HttpRequest, queryset: QuerySet[Workspace]) -> None:
        for workspace in queryset:
            _key, raw = ingest_key_issue(
                workspace=workspace, actor=request.user, label=f"issued by {request.user} on {timezone.now():%Y-%m-%d}"
            )
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
            day_boundaries_changed.send(sender=Workspace, workspace_id=obj.pk)
            self.message_user(request, _("Rollups are being recomputed for the new day boundaries and sessions."))
        if not change:
            _key, raw = ingest_key_issue(workspace=obj, actor=request.user, label="default")
            self.message_user(
                request,
                _("Ingest key for %(ws)s — copy it now, it will not be shown again: %(key)s") % {"ws": obj, "key": raw},
                messages.WARNING,
            )


@admin.register(IngestKey)
class IngestKeyAdmin(WorkspaceAdminScope):
    list_display = ["__str__", "workspace", "label", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter)]
    readonly_fields = ["workspace", "hint", "created_at", "last_used_at", "expires_at"]
    fields = ["workspace", "label", "hint", "created_at", "last_used_at", "expires_at", "revoked_at"]
    actions = ["rotate", "revoke"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    @admin.action(description=_("Rotate: issue a successor, keep these working for 24 hours"))
    def rotate(self, request: HttpRequest, queryset: QuerySet[IngestKey]) -> None:
        for key in IngestKey.objects.active().filter(pk__in=queryset.values("pk")):
            successor, raw = key.rotate(grace=ROTATION_GRACE)
            audit_record(
                workspace=key.workspace,
                actor=request.user,
                action=AuditEntry.Action.KEY_ROTATED,
                target=key,
                changes={
                    "successor": successor.hint,
                    "old_key_expires_at": key.expires_at.isoformat() if key.expires_at else None,
                },
            )
            self.message_user(
                request,
                _("New key for %(ws)s (%(label)s) — copy it now, it will not be shown again: %(key)s. "
                  "The old key works until %(until)s.")
                % {"ws": key.workspace, "label": key.label, "key": raw, "until": key.expires_at},
                messages.WARNING,
            )  # fmt: skip

    @admin.action(description=_("Revoke the selected keys now"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[IngestKey]) -> None:
        revoked = list(queryset.filter(revoked_at__isnull=True))
        for key in revoked:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit_record(workspace=key.workspace, actor=request.user, action=AuditEntry.Action.KEY_REVOKED, target=key)
        count = len(revoked)
        self.message_user(request, ngettext("%d key revoked.", "%d keys revoked.", count) % count)


@admin.register(Membership)
class MembershipAdmin(WorkspaceAdminScope):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "role"]
    autocomplete_fields = ["user"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.has_module_permission(request)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        previous = Membership.objects.filter(pk=obj.pk).values_list("role", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        if previous != obj.role:
            audit_record(
                workspace=obj.workspace,
                actor=request.user,
                action=AuditEntry.Action.ROLE_CHANGED,
                target=obj,
                changes={"user": obj.user.get_username(), "role": [previous, obj.role]},
            )

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        audit_record(
            workspace=obj.workspace,
            actor=request.user,
            action=AuditEntry.Action.MEMBER_REMOVED,
            target=obj,
            changes={"user": obj.user.get_username(), "role": obj.role},
        )
        super().delete_model(request, obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(WorkspaceAdminScope):
    list_display = ["created_at", "workspace", "actor_name", "action", "target_type", "target_repr"]
    list_filter = [("workspace", admin.RelatedOnlyFieldListFilter), "action", "target_type"]
    search_fields = ["actor_name", "target_repr"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # append-only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SavedConfigAdmin(admin.ModelAdmin):
    """Saved funnels and filter sets in the admin, under the same rules as the API: a member sees
    their own and the workspace-visible ones (anything else is a 404) and changes or deletes only
    what they own, or anything in a workspace they administer. Changes are audited."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        if request.user.is_superuser:  # the admin site is where superusers manage everything
            return self.model._default_manager.all()
        return self.model._default_manager.all().visible_to(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request) and (obj is None or obj.can_edit(request.user))

    has_delete_permission = has_change_permission

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request) and (
            request.user.is_superuser
            or Membership.objects.filter(user=request.user.pk, role__in=["admin", "analyst"]).exists()
        )

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None and self.model._default_manager.filter(pk=object_id).exists():
            raise Http404
        return obj

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            creatable = Workspace.objects.filter(
                memberships__user=request.user.pk, memberships__role__in=["admin", "analyst"]
            )
            if db_field.name == "workspace":
                kwargs["queryset"] = creatable
            elif db_field.name == "owner":
                # Only people of the staff user's workspaces (the model checks the owner is a member
                # of the configuration's own workspace).
                kwargs["queryset"] = get_user_model().objects.filter(memberships__workspace__in=creatable).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.owner = obj.owner if obj.owner_id else request.user
        super().save_model(request, obj, form, change)
        changed = list(form.changed_data) if change else []
        shared = change and changed == ["visibility"]
        action = (
            AuditEntry.Action.CREATED
            if not change
            else (AuditEntry.Action.SHARED if shared else AuditEntry.Action.UPDATED)
        )
        audit_record(
            workspace=obj.workspace, actor=request.user, action=action, target=obj, changes={"fields": changed}
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(workspace=obj.workspace, actor=request.user, action=AuditEntry.Action.DELETED, target=obj)
        super().delete_model(request, obj)
