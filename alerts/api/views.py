"""Alert endpoints (API.md "Alerts"): ``alerts/`` (CRUD, the rules of every saved configuration:
``tenancy.api.views.SavedConfigViewSet``) and ``alerts/<id>/history``."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import services
from alerts.api import serializers as s
from alerts.models import Alert
from core.api.parsers import CheckedPagination
from tenancy.api.views import SavedConfigViewSet
from tenancy.services import field_values


class HistoryPagination(CheckedPagination):
    """Pages of the history like every list (``page``, ``page_size``, ``count``, ``next``,
    ``previous``), the entries still under ``history`` (API.md): an alert evaluated hourly for years
    changes state without bound, and no answer is unbounded."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None
        return Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "history": data,
            }
        )


@extend_schema_view(
    list=extend_schema(tags=["alerts"], summary="The alerts you may see"),
    create=extend_schema(tags=["alerts"], summary="Create an alert (admins and analysts)"),
    retrieve=extend_schema(tags=["alerts"]),
    update=extend_schema(tags=["alerts"]),
    partial_update=extend_schema(tags=["alerts"]),
    destroy=extend_schema(tags=["alerts"]),
)
class AlertViewSet(SavedConfigViewSet):
    model = Alert
    serializer_class = s.AlertSerializer
    pagination_class = None

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        # Its emails are written in the language its owner used when saving it.
        serializer.validated_data["language"] = translation.get_language() or ""
        super().perform_create(serializer)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        # Audited as every saved configuration (muting and unmuting too), the secret left out.
        before = field_values(serializer.instance)
        alert = serializer.save()
        services.alert_audit(actor=self.request.user, alert=alert, before=before)

    @extend_schema(
        responses={200: s.HistorySerializer},
        parameters=[
            OpenApiParameter("page", int, description="The page, from 1."),
            OpenApiParameter("page_size", int, description=f"Entries a page (default {HistoryPagination.page_size}, "
                             f"at most {HistoryPagination.max_page_size})."),
        ],
        tags=["alerts"],
        summary="The alert's state changes, newest first",
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        alert = self.get_object()
        paginator = HistoryPagination()
        page = paginator.paginate_queryset(services.alert_history(alert), request, view=self)
        return paginator.get_paginated_response(s.HistoryEntrySerializer(page, many=True).data)
