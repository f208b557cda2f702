"""What every read endpoint shares: the workspace-scoped base view, the CSV renderer, the error
responses documented in the schema, the router."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from core.csv import csv_text, wants_excel
from core.queries import Query, QueryInvalid
from tenancy.scoping import WorkspaceScopedMixin


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
        columns = list(rows[0].keys()) if rows else getattr(response, "csv_columns", None) or ["no_rows"]
        if response is not None and response.status_code == 200:
            filename = getattr(response, "csv_filename", "export.csv")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        request = (renderer_context or {}).get("request")
        excel = request is not None and wants_excel(request.query_params)
        # The header even with no rows: an empty body would lose its Content-Type.
        return csv_text(rows, columns, excel=excel).encode("utf-8")


class WorkspaceAPIView(WorkspaceScopedMixin, APIView):
    """Base of every read endpoint under ``/api/v1/workspaces/<slug>/``.

    Resolves the workspace from the URL and the user's membership (``tenancy.scoping``: 404 for a
    workspace the user is not a member of), so no view can forget the scoping. The query string is
    parsed into the insight's query object by ``parse_query`` (``core.queries``: 400 naming the
    field), never read from ``request.GET`` by hand.
    """

    renderer_classes = [JSONRenderer, CSVRenderer]
    query_class: type[Query] | None = None
    csv_filename = "export.csv"

    def parse_query(self, data: Any = None, query_class: type[Query] | None = None, **context: Any) -> Any:
        """The request's query object (``query_class``), or a 400 naming each field at fault (nested
        for nested input). ``context``: see ``Query.parse``."""
        query_class = query_class or self.query_class
        assert query_class is not None
        data = self.request.query_params if data is None else data
        try:  # the viewer: who asks (a query may name a saved configuration only they may use)
            return query_class.parse(data, workspace=self.workspace, viewer=self.request.user, **context)
        except QueryInvalid as exc:
            raise serializers.ValidationError(exc.detail) from None

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


FORMAT_PARAM = OpenApiParameter("format", str, enum=["json", "csv"], description="csv downloads the table.")


def document[F: Callable[..., Any]](
    query_class: type[Query], response: Any, summary: str, tag: str
) -> Callable[[F], F]:
    """An endpoint's schema: its query object's parameters (``Params``) and its answer."""
    return extend_schema(
        parameters=[query_class.Params, FORMAT_PARAM],
        responses={200: response, **ERROR_RESPONSES},
        summary=summary,
        tags=[tag],
    )


ERROR_RESPONSES = {
    400: OpenApiResponse(description="Bad parameter: `{field: [message]}`."),
    401: OpenApiResponse(description="No or invalid credentials."),
    404: OpenApiResponse(description="No such workspace, or you are not a member."),
    429: OpenApiResponse(description="Rate limited per API token; retry after the Retry-After seconds."),
}


class OptionalSlashRouter(SimpleRouter):
    """A router whose routes match with or without the trailing slash: the contract (docs/api.md) writes collections
    with one (``filter-sets/``) and actions without (``filter-sets/<id>/results``)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
