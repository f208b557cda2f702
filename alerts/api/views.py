"""Alert endpoints (API.md "Alerts"): ``alerts/`` (CRUD, the rules of every saved configuration:
``tenancy.api.views.SavedConfigViewSet``) and ``alerts/<id>/history``."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import services
from alerts.api import serializers as s
from alerts.models import Alert
from tenancy.api.views import SavedConfigViewSet


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

    @extend_schema(
        responses={200: s.HistorySerializer}, tags=["alerts"], summary="The alert's state changes, newest first"
    )
    @action(detail=True, methods=["get"])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        alert = self.get_object()
        entries = s.HistoryEntrySerializer(services.alert_history(alert)[:500], many=True).data
        return Response({"history": entries})
