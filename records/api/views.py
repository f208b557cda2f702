"""The records batch endpoint (docs/records.md#ingestion): ``POST /api/v1/records/<kind>/batch``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from events.api.views import INGEST_ERRORS, BatchIngestView
from records.api.serializers import RecordBatchResultSerializer, RecordBatchSerializer
from records.services import records_upsert
from records.validation import KINDS, parse_record


class RecordBatchView(BatchIngestView):
    list_key = "items"

    @extend_schema(
        request=RecordBatchSerializer,
        responses={200: RecordBatchResultSerializer, **INGEST_ERRORS},
        parameters=[OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(KINDS))],
        summary="Create or update CRM records (accounts, products, deals, activities, targets, surveys, contracts, "
        "retention spend, feedback) by external id",
        tags=["ingestion"],
    )
    def post(self, request: Request, kind: str) -> Response:  # type: ignore[override]
        if kind not in KINDS:
            return Response({"detail": f"Unknown kind {kind[:40]!r}: one of {', '.join(KINDS)}."}, status=404)
        self.kind = kind
        return super().post(request)

    def ingest(self, workspace: Any, items: list[Any]) -> dict[str, Any]:
        tz = workspace.tzinfo
        parsed: list[tuple[int, dict[str, Any]]] = []
        rejected: list[dict[str, Any]] = []
        for index, raw in enumerate(items):
            row, errors = parse_record(self.kind, raw, tz=tz)
            if row is None:
                rejected.append({"index": index, "errors": errors})
            else:
                parsed.append((index, row))
        result = records_upsert(workspace=workspace, kind=self.kind, items=parsed)
        rejected = sorted(rejected + result.rejected, key=lambda r: r["index"])
        return {"created": result.created, "updated": result.updated, "rejected": rejected}
