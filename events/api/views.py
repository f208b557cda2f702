"""Ingestion endpoints (docs/api.md#ingestion): batches of events and of CRM users."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.api.serializers import (
    EventBatchResultSerializer,
    EventBatchSerializer,
    UserBatchResultSerializer,
    UserBatchSerializer,
)
from events.periods import local_midnight_utc
from events.privacy import retention_check
from events.services import crm_users_upsert, events_ingest, events_ingest_columns
from events.validation import event_batch_fast, json_loads_bounded, parse_event, parse_user
from tenancy.api.auth import HasIngestKey, IngestKeyAuthentication
from tenancy.api.throttling import IngestKeyRateThrottle


class PayloadError(Exception):
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code, self.body = status_code, body


INGEST_ERRORS = {
    400: OpenApiResponse(description="Malformed JSON, or no list under the expected key."),
    401: OpenApiResponse(description="Missing, unknown or revoked ingest key."),
    413: OpenApiResponse(description="Body over 1 MiB, or more than 1000 items."),
    429: OpenApiResponse(description="Rate limited per ingest key; retry after the Retry-After seconds."),
}


class BatchIngestView(APIView):
    """Reads and checks the body itself: Django would answer an oversize body with an HTML 400,
    and a client deserves a JSON 413 that says which limit it hit."""

    authentication_classes = [IngestKeyAuthentication]
    permission_classes = [HasIngestKey]
    throttle_classes = [IngestKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    list_key = "events"
    max_items = 1000

    def read_items(self, request: Request) -> list[Any]:
        limit = settings.INGEST_MAX_BODY_BYTES
        too_big = PayloadError(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            {"detail": f"The body is larger than {limit} bytes; send smaller batches."},
        )
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise too_big
        body = request._request.read(limit + 1)
        if len(body) > limit:
            raise too_big
        if not body.strip():
            # Django's WSGI request reads exactly Content-Length bytes, so a chunked upload arrives empty.
            raise PayloadError(
                status.HTTP_400_BAD_REQUEST,
                {
                    "detail": "The body is empty. Send the JSON with a Content-Length header (chunked uploads are not supported)."
                },
            )
        try:
            # Nesting is bounded per event (``properties``); here only the parser's own limit.
            payload = json_loads_bounded(body, max_depth=None)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PayloadError(status.HTTP_400_BAD_REQUEST, {"detail": f"Malformed JSON: {exc}"}) from None
        items = payload.get(self.list_key) if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise PayloadError(
                status.HTTP_400_BAD_REQUEST, {self.list_key: [f'Expected {{"{self.list_key}": [ … ]}} with a list.']}
            )
        if not items:
            raise PayloadError(status.HTTP_400_BAD_REQUEST, {self.list_key: ["Send at least one item."]})
        if len(items) > self.max_items:
            raise PayloadError(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                {self.list_key: [f"At most {self.max_items} items per batch; this one has {len(items)}."]},
            )
        return items

    def post(self, request: Request) -> Response:
        try:
            items = self.read_items(request)
        except PayloadError as exc:
            return Response(exc.body, status=exc.status_code)
        return Response(self.ingest(request.auth.workspace, items))  # type: ignore[union-attr]

    def ingest(self, workspace: Any, items: list[Any]) -> dict[str, Any]:
        raise NotImplementedError


class EventBatchView(BatchIngestView):
    list_key = "events"

    @extend_schema(
        request=EventBatchSerializer,
        responses={200: EventBatchResultSerializer, **INGEST_ERRORS},
        summary="Send a batch of 1–1000 usage events",
        tags=["ingestion"],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def ingest(self, workspace: Any, items: list[Any]) -> dict[str, Any]:
        now = timezone.now()
        # The common case, a batch of plainly valid events, is checked column by column; any other
        # batch event by event, so that each rejection names its index and field.
        start = workspace.retention_start()
        columns = event_batch_fast(
            items, now=now, not_before=local_midnight_utc(start, workspace.tzinfo) if start is not None else None
        )
        if columns is not None:
            result = events_ingest_columns(workspace=workspace, columns=columns)
            return {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": []}
        too_old = retention_check(workspace)
        rows, rejected = [], []
        for index, raw in enumerate(items):
            row, errors = parse_event(raw, now=now)
            if row is not None and (old := too_old(row)):
                row, errors = None, old
            if row is None:
                rejected.append({"index": index, "errors": errors})
            else:
                rows.append(row)
        result = events_ingest(workspace=workspace, rows=rows)
        return {"accepted": result.accepted, "duplicates": result.duplicates, "rejected": rejected}


class UserBatchView(BatchIngestView):
    list_key = "users"

    @extend_schema(
        request=UserBatchSerializer,
        responses={200: UserBatchResultSerializer, **INGEST_ERRORS},
        summary="Create or update CRM users by external id",
        tags=["ingestion"],
    )
    def post(self, request: Request) -> Response:
        return super().post(request)

    def ingest(self, workspace: Any, items: list[Any]) -> dict[str, Any]:
        rows, rejected = [], []
        for index, raw in enumerate(items):
            row, errors = parse_user(raw, tz=workspace.tzinfo)
            if row is None:
                rejected.append({"index": index, "errors": errors})
            else:
                rows.append(row)
        result = crm_users_upsert(workspace=workspace, rows=rows)
        return {"created": result.created, "updated": result.updated, "rejected": rejected}
