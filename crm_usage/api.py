"""API plumbing shared by every area: error format, tenant scoping, query validation, CSV output."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, generics, permissions, serializers, viewsets
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from events.audit import audit_saved_config, field_values
from events.models import AuditEntry, Membership, SavedConfig, Workspace


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body a JSON object (``{"detail": …}`` or ``{field: [msg]}``),
    rendered as JSON even when the request asked for CSV."""
    response = drf_exception_handler(exc, context)
    if response is not None:
        if isinstance(response.data, list):
            response.data = {"non_field_errors": response.data}
        request = context.get("request")
        if request is not None:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
    return response


@csrf_exempt  # it changes nothing; without this a cookie-carrying DELETE would get an HTML 403 instead
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any /api/ path that matches no route: a JSON 404 like every other API error (not an HTML page)."""
    return JsonResponse({"detail": "Not found."}, status=404)


def workspaces_for(user: Any) -> QuerySet[Workspace]:
    """The workspaces a Django user may read: their memberships; superusers see all."""
    if not user.is_authenticated or not user.is_active:
        return Workspace.objects.none()
    if user.is_superuser:
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user)


def workspace_role(user: Any, workspace: Workspace) -> str | None:
    return Membership.role_of(user, workspace)


class CSVRenderer(BaseRenderer):
    """``format=csv``: the rows of the view's table (``csv_rows`` on the response) as a CSV download."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        response = (renderer_context or {}).get("response")
        rows = getattr(response, "csv_rows", None)
        if rows is None:  # an error body or a view without a table: fall back to key/value lines
            rows = [{"key": k, "value": v} for k, v in (data or {}).items()] if isinstance(data, dict) else []
        buffer = io.StringIO()
        columns = list(rows[0].keys()) if rows else getattr(response, "csv_columns", None) or ["no_rows"]
        writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()  # even with no rows: an empty body would lose its Content-Type
        writer.writerows(rows)
        if response is not None and response.status_code == 200:
            filename = getattr(response, "csv_filename", "export.csv")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return buffer.getvalue().encode("utf-8")


class WorkspaceScopedMixin:
    """Resolves ``self.workspace`` from the URL's slug and the user's membership (404 otherwise),
    after authentication and permissions, so that anonymous requests get 401 before any 404."""

    workspace: Workspace

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self.workspace = get_object_or_404(workspaces_for(request.user), slug=kwargs["slug"])


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
        return self.model.objects.filter(workspace=self.workspace).visible_to(self.request.user).select_related("owner")

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if hasattr(self, "workspace"):
            context["workspace"] = self.workspace
        return context

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        if not self.model.can_create(self.request.user, self.workspace):
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
        if request.method not in permissions.SAFE_METHODS and not obj.can_edit(request.user):
            raise exceptions.PermissionDenied("Only the owner or a workspace admin may change or delete this.")


class WorkspaceAPIView(WorkspaceScopedMixin, APIView):
    """Base of every read endpoint under ``/api/v1/workspaces/<slug>/``.

    Resolves the workspace from the URL and the user's membership, and answers 404 for a workspace
    the user is not a member of, so no view can forget the scoping. Query parameters are validated by
    ``query_serializer_class`` (400 with the field named), never read from ``request.GET`` by hand.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]
    query_serializer_class: type[serializers.Serializer] | None = None
    csv_filename = "export.csv"

    def get_query(self) -> dict[str, Any]:
        assert self.query_serializer_class is not None
        serializer = self.query_serializer_class(data=self.request.query_params, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "workspace": self.workspace, "view": self}

    def table_response(self, data: Any, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Response:
        """A JSON response whose CSV form (``format=csv``) is ``rows`` (``columns`` name the header
        when there are no rows)."""
        response = Response(data)
        response.csv_rows = rows  # type: ignore[attr-defined]
        response.csv_columns = columns  # type: ignore[attr-defined]
        response.csv_filename = f"{self.workspace.slug}-{self.csv_filename}"  # type: ignore[attr-defined]
        return response


ERROR_RESPONSES = {
    400: OpenApiResponse(description="Bad parameter: `{field: [message]}`."),
    401: OpenApiResponse(description="No or invalid credentials."),
    404: OpenApiResponse(description="No such workspace, or you are not a member."),
    429: OpenApiResponse(description="Rate limited per API token; retry after the Retry-After seconds."),
}


class OptionalSlashRouter(SimpleRouter):
    """A router whose routes match with or without the trailing slash: API.md writes collections
    with one (``filter-sets/``) and actions without (``filter-sets/<id>/results``)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


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
        if Membership.role_of(self.request.user, self.workspace) != Membership.Role.ADMIN:
            raise exceptions.PermissionDenied("Only workspace admins read the audit trail.")
        return AuditEntry.objects.filter(workspace=self.workspace)
