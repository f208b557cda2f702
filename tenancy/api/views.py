"""Tenancy endpoints: the audit trail, and the CRUD base every saved configuration (funnel, filter
set) uses, with the ownership and visibility rules of ``tenancy.models.SavedConfig``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions, generics, permissions, serializers, viewsets
from rest_framework.request import Request

from tenancy.models import AuditEntry, SavedConfig
from tenancy.scoping import WorkspaceScopedMixin
from tenancy.services import audit_saved_config, field_values


class SavedConfigViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    """CRUD of a saved configuration (funnel, filter set) of one workspace.

    A member sees their own and the workspace-visible ones; anything else is 404, for every method.
    Creating needs the admin or analyst role; changing or deleting needs to be the owner or an admin
    (403 for a member who can see but not edit).
    """

    model: type[SavedConfig]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no workspace
            return self.model.objects.none()
        return self.scope.saved(self.model)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if hasattr(self, "workspace"):
            context["workspace"] = self.workspace
        return context

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        if not self.scope.can_create_saved:
            raise exceptions.PermissionDenied("Only workspace admins and analysts create saved configurations.")
        instance = serializer.save(workspace=self.workspace, owner=self.request.user)
        audit_saved_config(actor=self.request.user, instance=instance, before=None)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        before = field_values(serializer.instance)
        instance = serializer.save()
        audit_saved_config(actor=self.request.user, instance=instance, before=before)

    def perform_destroy(self, instance: Any) -> None:
        audit_saved_config(actor=self.request.user, instance=instance, before=None, deleted=True)
        instance.delete()

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        if request.method not in permissions.SAFE_METHODS and not self.scope.can_edit_saved(obj):
            raise exceptions.PermissionDenied("Only the owner or a workspace admin may change or delete this.")


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = AuditEntry
        fields = ["created_at", "actor", "action", "target_type", "target_id", "target_repr", "changes"]


class AuditLogView(WorkspaceScopedMixin, generics.ListAPIView):
    """The workspace's audit trail, newest first; workspace admins only (403 for other members)."""

    serializer_class = AuditEntrySerializer

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        if not self.scope.is_admin:
            raise exceptions.PermissionDenied("Only workspace admins read the audit trail.")
        return self.scope.rows(AuditEntry)
