"""API plumbing shared by every area: error format, tenant scoping, query validation, CSV output."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from events.models import Membership, Workspace


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, with every error body a JSON object (``{"detail": …}`` or ``{field: [msg]}``)."""
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response


def workspaces_for(user: Any) -> QuerySet[Workspace]:
    """The workspaces a Django user may read: their memberships; superusers see all."""
    if not user.is_authenticated or not user.is_active:
        return Workspace.objects.none()
    if user.is_superuser:
        return Workspace.objects.all()
    return Workspace.objects.filter(memberships__user=user)


def workspace_role(user: Any, workspace: Workspace) -> str | None:
    if user.is_superuser:
        return Membership.Role.ADMIN
    return Membership.objects.filter(user=user, workspace=workspace).values_list("role", flat=True).first()


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
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        if response is not None and response.status_code == 200:
            filename = getattr(response, "csv_filename", "export.csv")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return buffer.getvalue().encode("utf-8")


class WorkspaceAPIView(APIView):
    """Base of every read endpoint under ``/api/v1/workspaces/<slug>/``.

    Resolves the workspace from the URL and the user's membership, and answers 404 for a workspace
    the user is not a member of, so no view can forget the scoping. Query parameters are validated by
    ``query_serializer_class`` (400 with the field named), never read from ``request.GET`` by hand.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]
    query_serializer_class: type[serializers.Serializer] | None = None
    csv_filename = "export.csv"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication and permissions first: 401 before 404
        self.workspace = get_object_or_404(workspaces_for(request.user), slug=kwargs["slug"])

    def get_query(self) -> dict[str, Any]:
        assert self.query_serializer_class is not None
        serializer = self.query_serializer_class(data=self.request.query_params, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "workspace": self.workspace, "view": self}

    def table_response(self, data: Any, rows: list[dict[str, Any]]) -> Response:
        """A JSON response whose CSV form (``format=csv``) is ``rows``."""
        response = Response(data)
        response.csv_rows = rows  # type: ignore[attr-defined]
        response.csv_filename = f"{self.workspace.slug}-{self.csv_filename}"  # type: ignore[attr-defined]
        return response


ERROR_RESPONSES = {
    400: OpenApiResponse(description="Bad parameter: `{field: [message]}`."),
    401: OpenApiResponse(description="No or invalid credentials."),
    404: OpenApiResponse(description="No such workspace, or you are not a member."),
}
