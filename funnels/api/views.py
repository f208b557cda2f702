"""Funnel endpoints (docs/api.md#funnels): ``funnels/`` (CRUD), ``funnels/query``, ``funnels/<id>/results``.

Tenant scoping is ``core.api.base.WorkspaceAPIView``'s: the workspace comes from the URL and the
user's membership, 404 otherwise; within it every funnel is looked up through the scope
(``tenancy.scoping.WorkspaceScope``), so:

* a member sees their own funnels and those shared with the workspace; another member's private
  funnel does not exist for them (404 for every method);
* admins and analysts create funnels, viewers get 403;
* only the owner or a workspace admin (or a superuser) changes or deletes one, others get 403.

Views format; the figures come from ``funnels.selectors`` through ``funnels.services``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ERROR_RESPONSES, WorkspaceAPIView
from events.periods import Period
from funnels import services
from funnels.api import serializers as s
from funnels.filters import FunnelListFilterSet
from funnels.models import Funnel
from funnels.queries import FunnelQuery, FunnelResultsParams, FunnelResultsQuery, plain_values
from funnels.selectors import FunnelData, funnel_compute

FORMAT_PARAM = OpenApiParameter("format", str, enum=["json", "csv"], description="csv downloads the step tables.")
ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The funnel's id.")
FORBIDDEN = {403: OpenApiResponse(description="You may read this funnel but not change it (owner or admin only).")}


class CanEditFunnel(BasePermission):
    """Reading is for every member who sees the funnel; writing for its owner and workspace admins."""

    def has_object_permission(self, request: Request, view: Any, obj: Funnel) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(view.scope.can_edit_saved(obj))


def result_body(data: FunnelData, *, period: Period, computed_at: datetime, cached: bool) -> dict[str, Any]:
    return {**data.as_dict(), "range": period.as_dict(), "computed_at": computed_at.isoformat(), "cached": cached}


@extend_schema_view(
    list=extend_schema(summary="Funnels you can see: yours and those shared with the workspace"),
    retrieve=extend_schema(summary="One funnel", parameters=[ID_PARAM]),
    create=extend_schema(
        summary="Save a funnel (admins and analysts)",
        responses={201: s.FunnelSerializer, **ERROR_RESPONSES, 403: OpenApiResponse(description="Viewers cannot.")},
    ),
    update=extend_schema(
        summary="Replace a funnel (owner or admin)",
        parameters=[ID_PARAM],
        responses={200: s.FunnelSerializer, **FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary="Change some fields of a funnel (owner or admin)",
        parameters=[ID_PARAM],
        responses={200: s.FunnelSerializer, **FORBIDDEN},
    ),
    destroy=extend_schema(
        summary="Delete a funnel (owner or admin)", parameters=[ID_PARAM], responses={204: None, **FORBIDDEN}
    ),
)
@extend_schema(tags=["funnels"])
class FunnelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ViewSetMixin,
    WorkspaceAPIView,
    GenericAPIView,
):
    serializer_class = s.FunnelSerializer
    permission_classes = [IsAuthenticated, CanEditFunnel]
    filter_backends = [DjangoFilterBackend]
    filterset_class = FunnelListFilterSet
    csv_filename = "funnel.csv"

    def get_queryset(self) -> QuerySet[Funnel]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no workspace
            return Funnel.objects.none()
        return self.scope.saved(Funnel).select_related("workspace").order_by("name", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "scope": getattr(self, "scope", None)}

    def perform_create(self, serializer: Any) -> None:
        if not self.scope.can_create_saved:
            raise PermissionDenied("Viewers cannot create funnels; ask a workspace admin for the analyst role.")
        serializer.instance = services.funnel_create(
            workspace=self.workspace, owner=self.request.user, data=plain_values(serializer.validated_data)
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.funnel_update(
            funnel=serializer.instance, data=plain_values(serializer.validated_data), actor=self.request.user
        )

    def perform_destroy(self, instance: Funnel) -> None:
        services.funnel_delete(funnel=instance, actor=self.request.user)

    @extend_schema(
        summary="Compute a funnel definition now (not saved)",
        request=FunnelQuery.Params,
        parameters=[FORMAT_PARAM],
        responses={200: s.FunnelResultsSerializer, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["post"], url_path="query")
    def query(self, request: Request, slug: str) -> Response:
        query = self.parse_query(request.data, query_class=FunnelQuery)  # a step's messages by its index
        data = funnel_compute(query)
        self.csv_filename = "funnel-query.csv"
        return self.table_response(
            result_body(data, period=query.period, computed_at=timezone.now(), cached=False), data.csv_rows()
        )

    @extend_schema(
        summary="Results of a saved funnel: precomputed for its saved range, else computed now",
        parameters=[ID_PARAM, FunnelResultsParams, FORMAT_PARAM],
        responses={200: s.FunnelResultsSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], url_path="results")
    def results(self, request: Request, slug: str, pk: str) -> Response:
        funnel = self.get_object()
        results = services.funnel_results(self.parse_query(query_class=FunnelResultsQuery, funnel=funnel))
        self.csv_filename = f"funnel-{funnel.pk}.csv"
        body = result_body(results.data, period=results.period, computed_at=results.computed_at, cached=results.cached)
        return self.table_response(body, results.data.csv_rows())
