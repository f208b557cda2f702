"""Funnel endpoints (API.md): ``funnels/`` (CRUD), ``funnels/query``, ``funnels/<id>/results``.

Tenant scoping is ``crm_usage.api.WorkspaceAPIView``'s: the workspace comes from the URL and the
user's membership, 404 otherwise. Within it:

* a member sees their own funnels and those shared with the workspace; another member's private
  funnel does not exist for them (404 for every method);
* admins and analysts create funnels, viewers get 403;
* only the owner or a workspace admin (or a superuser) changes or deletes one, others get 403.

Views format; the figures come from ``funnels.selectors`` through ``funnels.services``.
"""

from __future__ import annotations

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
from funnels import services
from funnels.api import serializers as s
from funnels.filters import FunnelListFilterSet
from funnels.models import Funnel
from funnels.selectors import (
    FunnelData,
    FunnelSpec,
    Step,
    funnel_can_create,
    funnel_can_edit,
    funnel_compute,
    funnels_visible_to,
)
from tenancy.scoping import role_of as workspace_role

FORMAT_PARAM = OpenApiParameter("format", str, enum=["json", "csv"], description="csv downloads the step tables.")
ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The funnel's id.")
FORBIDDEN = {403: OpenApiResponse(description="You may read this funnel but not change it (owner or admin only).")}


class CanEditFunnel(BasePermission):
    """Reading is for every member who sees the funnel; writing for its owner and workspace admins."""

    def has_object_permission(self, request: Request, view: Any, obj: Funnel) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return funnel_can_edit(funnel=obj, user=request.user, role=view.role)


def result_body(data: FunnelData, *, start: Any, end: Any, computed_at: Any, cached: bool) -> dict[str, Any]:
    return {
        **data.as_dict(),
        "range": {"start": start.isoformat(), "end": end.isoformat()},
        "computed_at": computed_at.isoformat(),
        "cached": cached,
    }


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
    role: str | None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # 401, then 404 for a workspace you are not in
        self.role = workspace_role(request.user, self.workspace)

    def get_queryset(self) -> QuerySet[Funnel]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no workspace
            return Funnel.objects.none()
        return funnels_visible_to(workspace=self.workspace, user=self.request.user).order_by("name", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "role": getattr(self, "role", None)}

    def perform_create(self, serializer: Any) -> None:
        if not funnel_can_create(role=self.role):
            raise PermissionDenied("Viewers cannot create funnels; ask a workspace admin for the analyst role.")
        serializer.instance = services.funnel_create(
            workspace=self.workspace, owner=self.request.user, data=_plain(serializer.validated_data)
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.funnel_update(
            funnel=serializer.instance, data=_plain(serializer.validated_data), actor=self.request.user
        )

    def perform_destroy(self, instance: Funnel) -> None:
        services.funnel_delete(funnel=instance, actor=self.request.user)

    @extend_schema(
        summary="Compute a funnel definition now (not saved)",
        request=s.FunnelQuerySerializer,
        parameters=[FORMAT_PARAM],
        responses={200: s.FunnelResultsSerializer, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["post"], url_path="query")
    def query(self, request: Request, slug: str) -> Response:
        serializer = s.FunnelQuerySerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        q = serializer.validated_data
        spec = FunnelSpec(
            steps=tuple(Step(st["feature"], st["action"], st.get("detail") or "") for st in q["steps"]),
            unit=q["unit"],
            window_days=q["window_days"],
            order=q["order"],
            breakdown=q["breakdown"],
        )
        period = q["period"]
        data = funnel_compute(workspace=self.workspace, spec=spec, period=period, filters=q.get("filters") or None)
        body = result_body(data, start=period.start, end=period.end, computed_at=timezone.now(), cached=False)
        self.csv_filename = "funnel-query.csv"
        return self.table_response(body, data.csv_rows())

    @extend_schema(
        summary="Results of a saved funnel: precomputed for its default range, else computed now",
        parameters=[ID_PARAM, s.ResultsQuerySerializer, FORMAT_PARAM],
        responses={200: s.FunnelResultsSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], url_path="results")
    def results(self, request: Request, slug: str, pk: str) -> Response:
        funnel = self.get_object()
        query = s.ResultsQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        self.csv_filename = f"funnel-{funnel.pk}.csv"
        if q["period"] is None and not q["filters"]:
            data, stored, cached = services.funnel_saved_results(funnel=funnel)
            body = result_body(
                data, start=stored.range_start, end=stored.range_end, computed_at=stored.computed_at, cached=cached
            )
            return self.table_response(body, data.csv_rows())
        period = q["period"] or funnel.default_period()
        filters = {**(funnel.filters or {}), **q["filters"]}
        data = services.funnel_period_results(funnel=funnel, period=period, filters=filters or None)
        body = result_body(data, start=period.start, end=period.end, computed_at=timezone.now(), cached=False)
        return self.table_response(body, data.csv_rows())


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Validated data as plain JSON-able values (nested OrderedDicts become dicts)."""
    plain = dict(data)
    if "steps" in plain:
        plain["steps"] = [
            {"feature": st["feature"], "action": st["action"], "detail": st.get("detail") or ""}
            for st in plain["steps"]
        ]
    if "filters" in plain:
        plain["filters"] = {k: list(v) for k, v in (plain["filters"] or {}).items()}
    return plain
