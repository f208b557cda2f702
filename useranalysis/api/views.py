"""User analysis endpoints (API.md ``users``, ``filter-sets/…``): thin views over the selectors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ERROR_RESPONSES, CSVRenderer, WorkspaceAPIView
from events.models import CrmUser
from events.periods import Period
from tenancy.api.views import SavedConfigViewSet
from useranalysis import selectors
from useranalysis.api import serializers as s
from useranalysis.models import FilterSet
from useranalysis.services import filter_set_saved_result, run_filter_set, saved_definition

USER_COLUMNS = list(s.UserRowSerializer().fields)

FORMAT_PARAM = OpenApiParameter("format", str, enum=["json", "csv"], description="csv downloads every row.")


class UsersPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def iso_timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in the workspace's offset, or in UTC when that offset is not whole minutes
    (local mean time before 1900), which RFC 3339 cannot express."""
    if moment is None:
        return None
    offset = moment.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        moment = moment.astimezone(UTC)
    return moment.isoformat()


def row_json(row: selectors.UserRow) -> dict[str, Any]:
    data = row.as_dict()
    data["last_seen"] = iso_timestamp(row.last_seen)
    return data


class UsersView(WorkspaceAPIView):
    query_serializer_class = s.UsersQuerySerializer
    csv_filename = "users.csv"

    @extend_schema(
        parameters=[s.UsersQuerySerializer, FORMAT_PARAM],
        responses={200: s.PaginatedUserRowsSerializer, **ERROR_RESPONSES},
        summary="One row of metrics per CRM user for the period; sortable, searchable, paginated",
        tags=["users"],
    )
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        period = Period.ending(q["as_of"], q["days"], self.workspace.tzinfo)
        users = CrmUser.objects.filter(workspace=self.workspace)
        if q.get("search"):
            term = q["search"]
            users = users.filter(Q(name__icontains=term) | Q(email__icontains=term) | Q(external_id__icontains=term))
        csv = isinstance(request.accepted_renderer, CSVRenderer)
        # A page needs last seen and features used of its own rows only, unless sorted by them.
        defer = not csv and selectors.can_defer(q["ordering"])
        rows = selectors.user_rows(
            workspace=self.workspace, period=period, filters=q["filters"], users=users, defer=defer
        )
        rows = selectors.sort_rows(rows, q["ordering"])
        if csv:  # every matching row, not one page
            return self.table_response({}, [row_json(r) for r in rows], USER_COLUMNS)
        paginator = UsersPagination()
        page = list(paginator.paginate_queryset(rows, request, view=self) or [])
        if defer:
            selectors.user_rows_complete(workspace=self.workspace, period=period, rows=page)
        return paginator.get_paginated_response([row_json(r) for r in page])


def result_json(result: selectors.FilterSetResult, users: list[selectors.UserRow]) -> dict[str, Any]:
    return {
        "total_users": result.total_users,
        "matched": result.matched,
        "matched_pct": result.matched_pct,
        "users": [row_json(r) for r in users],
        "groups": [
            {"group": g.group, "matched": g.matched, "total": g.total, "matched_pct": g.matched_pct}
            for g in result.groups
        ],
    }


def one_page_wanted(request: Request, ordering: str) -> bool:
    """Whether ``filter_set_response`` will show one page of users, sorted by a column that can wait
    until the page is cut: then the result need not fill every user's deferred metrics."""
    paginated = "page" in request.query_params or "page_size" in request.query_params
    return paginated and not isinstance(request.accepted_renderer, CSVRenderer) and selectors.can_defer(ordering)


def filter_set_response(
    view: Any, result: selectors.FilterSetResult, ordering: str, csv_filename: str, period: Period
) -> Response:
    """The result with its matched users sorted by ``ordering``: every one of them, or one page
    (with ``next``/``previous`` links) when the query names ``page`` or ``page_size``. The CSV
    form is always every matched user."""
    request = view.request
    rows = selectors.sort_rows(result.users, ordering)
    if not result.complete and not one_page_wanted(request, ordering):
        selectors.user_rows_complete(workspace=view.workspace, period=period, rows=rows)
    if isinstance(request.accepted_renderer, CSVRenderer):
        response = Response({})
        response.csv_rows = [row_json(r) for r in rows]  # type: ignore[attr-defined]
        response.csv_columns = USER_COLUMNS  # type: ignore[attr-defined]
        response.csv_filename = csv_filename  # type: ignore[attr-defined]
        return response
    links: dict[str, str | None] = {"next": None, "previous": None}
    if "page" in request.query_params or "page_size" in request.query_params:
        paginator = UsersPagination()
        rows = list(paginator.paginate_queryset(rows, request, view=view) or [])
        links = {"next": paginator.get_next_link(), "previous": paginator.get_previous_link()}
        if not result.complete:
            selectors.user_rows_complete(workspace=view.workspace, period=period, rows=rows)
    return Response({**result_json(result, rows), **links})


class FilterSetQueryView(WorkspaceAPIView):
    """POST a filter-set definition; the result is computed now (nothing is saved)."""

    query_serializer_class = s.UsersQuerySerializer
    renderer_classes = WorkspaceAPIView.renderer_classes
    csv_filename = "filter-set.csv"

    @extend_schema(
        parameters=[s.UsersQuerySerializer],
        request=s.FilterSetQuerySerializer,
        responses={200: s.FilterSetResultSerializer, **ERROR_RESPONSES},
        summary="Run a filter-set definition without saving it",
        tags=["filter-sets"],
    )
    def post(self, request: Request, slug: str) -> Response:
        body = s.FilterSetQuerySerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        q = self.get_query()
        as_of, days = body.validated_data.get("as_of") or q["as_of"], body.validated_data.get("days") or q["days"]
        period = Period.ending(as_of, days, self.workspace.tzinfo)
        result = run_filter_set(
            self.workspace, body.validated_data, period, complete=not one_page_wanted(request, q["ordering"])
        )
        return filter_set_response(self, result, q["ordering"], f"{self.workspace.slug}-{self.csv_filename}", period)


@extend_schema_view(
    list=extend_schema(summary="Filter sets you can see", tags=["filter-sets"]),
    create=extend_schema(summary="Save a filter set (admins and analysts)", tags=["filter-sets"]),
    retrieve=extend_schema(tags=["filter-sets"]),
    update=extend_schema(tags=["filter-sets"]),
    partial_update=extend_schema(tags=["filter-sets"]),
    destroy=extend_schema(tags=["filter-sets"]),
)
class FilterSetViewSet(SavedConfigViewSet):
    model = FilterSet
    serializer_class = s.FilterSetSerializer
    pagination_class = None

    @extend_schema(
        parameters=[s.UsersQuerySerializer],
        responses={200: s.FilterSetResultSerializer, **ERROR_RESPONSES},
        summary="The result of a saved filter set for a period",
        tags=["filter-sets"],
    )
    @action(detail=True, methods=["get"], renderer_classes=WorkspaceAPIView.renderer_classes)
    def results(self, request: Request, slug: str, pk: str) -> Response:
        filter_set = self.get_object()
        query = s.UsersQuerySerializer(data=request.query_params, context=self.get_serializer_context())
        query.is_valid(raise_exception=True)
        days = query.validated_data["days"] if "days" in request.query_params else filter_set.default_days
        period = Period.ending(query.validated_data["as_of"], days, self.workspace.tzinfo)
        definition = saved_definition(filter_set, raise_exception=True)
        assert definition is not None
        result, _ = filter_set_saved_result(workspace=self.workspace, definition=definition, period=period)
        csv_filename = f"{self.workspace.slug}-filter-set-{filter_set.pk}.csv"
        return filter_set_response(self, result, query.validated_data["ordering"], csv_filename, period)
