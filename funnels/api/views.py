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

from core.api.base import ERROR_RESPONSES, CSVRenderer, WorkspaceAPIView
from core.api.parsers import CheckedPagination
from core.api.people import people_response as drilldown_response
from core.people import USER_COLUMNS, row_json
from funnels import services
from funnels.api import serializers as s
from funnels.filters import FunnelListFilterSet
from funnels.models import Funnel, Unit
from funnels.queries import FunnelQuery, FunnelResultsParams, FunnelResultsQuery, plain_values
from funnels.selectors import (
    FunnelData,
    StepPerson,
    funnel_compute,
    funnel_people,
    funnel_time_to_convert,
    funnel_trends,
)
from funnels.services import FunnelResults

FORMAT_PARAM = OpenApiParameter("format", str, enum=["json", "csv"], description="csv downloads the step tables.")
ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The funnel's id.")
FORBIDDEN = {403: OpenApiResponse(description="You may read this funnel but not change it (owner or admin only).")}


class CanEditFunnel(BasePermission):
    """Reading is for every member who sees the funnel; writing for its owner and workspace admins."""

    def has_object_permission(self, request: Request, view: Any, obj: Funnel) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(view.scope.can_edit_saved(obj))


PEOPLE_COLUMNS = ["unit", "name", "email", "level", "entered_at", "last_step_at"]


def person_json(person: StepPerson) -> dict[str, Any]:
    return {
        "unit": person.unit,
        "name": person.name,
        "email": person.email,
        "level": person.level,
        "entered_at": person.entered_at.isoformat(),
        "last_step_at": person.last_step_at.isoformat(),
    }


class PeoplePagination(CheckedPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


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

    def people_response(self, request: Request, query: FunnelQuery) -> Response:
        """The units at a step, a page of them (``page``, ``page_size``), or all as CSV. Users are
        a drill-down (docs/drilldown.md): each row is their users-table row (metrics over the
        funnel's range, ``ordering``) with their level and times; records keep the unit's row."""
        people = funnel_people(query)
        if query.definition.unit == Unit.USER:
            by_user = {p.user_id: p for p in people if p.user_id is not None}
            return drilldown_response(
                self,
                query,
                lambda: by_user,
                json_of=lambda row: {**row_json(row), **person_json(by_user[row.id])},
                columns=list(dict.fromkeys([*USER_COLUMNS, *PEOPLE_COLUMNS])),
                pagination=PeoplePagination,
            )
        if isinstance(request.accepted_renderer, CSVRenderer):
            return self.table_response({}, [person_json(p) for p in people], PEOPLE_COLUMNS)
        paginator = PeoplePagination()
        page = paginator.paginate_queryset(people, request, view=self) or []
        return paginator.get_paginated_response([person_json(p) for p in page])

    def view_response(self, results: FunnelResults) -> Response:
        """The view asked for: the steps, the time to convert or the conversion over time."""
        about = {
            "range": results.period.as_dict(),
            "computed_at": results.computed_at.isoformat(),
            "cached": results.cached,
        }
        if results.time_to_convert is not None:
            ttc = results.time_to_convert
            return self.table_response({"view": "time_to_convert", **ttc.as_dict(), **about}, ttc.csv_rows())
        if results.trends is not None:
            trends = results.trends
            return self.table_response({"view": "trends", **trends.as_dict(), **about}, trends.csv_rows())
        return self.table_response({**results.data.as_dict(), **about}, results.data.csv_rows())

    @extend_schema(
        summary="Compute a funnel definition now (not saved): its steps, time to convert, conversion "
        "over time, or the people at a step",
        request=FunnelQuery.Params,
        parameters=[FORMAT_PARAM],
        responses={200: s.FUNNEL_VIEWS, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["post"], url_path="query")
    def query(self, request: Request, slug: str) -> Response:
        query = self.parse_query(request.data, query_class=FunnelQuery)  # a step's messages by its index
        self.csv_filename = "funnel-query.csv"
        if query.people is not None:
            self.csv_filename = f"funnel-query-step-{query.people.step}-{query.people.status}.csv"
            return self.people_response(request, query)
        now = timezone.now()
        if query.view == "time_to_convert":
            results = FunnelResults(
                FunnelData([]), query.period, now, None, time_to_convert=funnel_time_to_convert(query)
            )
        elif query.view == "trends":
            results = FunnelResults(FunnelData([]), query.period, now, None, trends=funnel_trends(query))
        else:
            results = FunnelResults(funnel_compute(query), query.period, now, None)
        return self.view_response(results)

    @extend_schema(
        summary="Results of a saved funnel: precomputed for its saved range, else computed now; its "
        "time to convert, conversion over time, or the people at a step",
        parameters=[ID_PARAM, FunnelResultsParams, FORMAT_PARAM],
        responses={200: s.FUNNEL_VIEWS, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], url_path="results")
    def results(self, request: Request, slug: str, pk: str) -> Response:
        funnel = self.get_object()
        query = self.parse_query(query_class=FunnelResultsQuery, funnel=funnel)
        self.csv_filename = f"funnel-{funnel.pk}.csv"
        if query.people is not None:
            self.csv_filename = f"funnel-{funnel.pk}-step-{query.people.step}-{query.people.status}.csv"
            return self.people_response(request, query.computation())
        return self.view_response(services.funnel_results(query))
