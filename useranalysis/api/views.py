"""User analysis endpoints (docs/api.md#user-analysis): each parses its query object, calls the
selectors and lays the answer out as JSON and as the CSV table of every matching user."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ERROR_RESPONSES, FORMAT_PARAM, CSVRenderer, WorkspaceAPIView, document
from core.api.parsers import CheckedPagination
from core.api.people import UsersPagination, users_page
from core.people import MAX_PAGE_SIZE, USER_COLUMNS, row_json
from core.queries import QueryInvalid
from events.filters import USER_FILTER_FIELDS
from events.models import CrmUser
from tenancy.api.views import SavedConfigViewSet
from tenancy.models import Workspace
from useranalysis import selectors, services
from useranalysis.api import serializers as s
from useranalysis.models import FilterSet
from useranalysis.presenters import EVENT_COLUMNS, event_json, group_json
from useranalysis.queries import (
    FilterSetQuery,
    FilterSetTableParams,
    UserEventsQuery,
    UsersQuery,
)

DEFINITION_KEYS = ("conditions", "group_by")
BODY_KEYS = (*DEFINITION_KEYS, "as_of", "days")  # the body of filter-sets/query


class UsersView(WorkspaceAPIView):
    query_class = UsersQuery
    csv_filename = "users.csv"

    @document(
        UsersQuery,
        s.PaginatedUserRowsSerializer,
        "One row of metrics per CRM user for the period; sortable, searchable, paginated",
        "users",
    )
    def get(self, request: Request, slug: str) -> Response:
        query: UsersQuery = self.parse_query()
        csv = isinstance(request.accepted_renderer, CSVRenderer)
        # A page needs last seen and features used of its own rows only, unless sorted by them.
        defer = not csv and selectors.can_defer(query.ordering)
        return users_page(self, query, selectors.user_rows(query, defer=defer), query.ordering, complete=not defer)


class UserEventsPagination(CheckedPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class UserEventsView(WorkspaceAPIView):
    """One CRM user's raw events (the timeline of their page), newest first, paginated; the CSV has
    every event of the period."""

    query_class = UserEventsQuery
    csv_filename = "events.csv"

    @document(UserEventsQuery, s.PaginatedUserEventsSerializer, "One CRM user's raw events, newest first", "users")
    def get(self, request: Request, slug: str, external_id: str) -> Response:
        crm_user = self.scope.get(CrmUser, external_id=external_id)
        query: UserEventsQuery = self.parse_query()
        events = selectors.user_events(query.of(crm_user))
        tz = self.workspace.tzinfo
        if isinstance(request.accepted_renderer, CSVRenderer):
            rows = [event_json(e, tz) for e in events.iterator(chunk_size=2000)]
            for row in rows:
                row["properties"] = json.dumps(row["properties"], ensure_ascii=False) if row["properties"] else ""
            return self.table_response({}, rows, EVENT_COLUMNS)
        paginator = UserEventsPagination()
        page = paginator.paginate_queryset(events, request, view=self) or []
        return paginator.get_paginated_response([event_json(e, tz) for e in page])


# --- filter sets ---------------------------------------------------------------------------------------


def filter_set_query(
    workspace: Workspace, params: QueryDict, definition: Mapping[str, Any], default_days: int | None = None
) -> FilterSetQuery:
    """The query string (its period and table) with ``definition`` (and the body's period), parsed;
    a 400 naming each field at fault, nested as the definition (``conditions.features.0.action``)."""
    data: dict[str, Any] = {
        key: params.getlist(key) if key in USER_FILTER_FIELDS else params.get(key)
        for key in params
        if key not in DEFINITION_KEYS
    }
    data.update(definition)
    try:
        return FilterSetQuery.parse(data, workspace=workspace, default_days=default_days)
    except QueryInvalid as exc:
        raise serializers.ValidationError(exc.detail) from None


def paged(request: Request) -> bool:
    """Whether one page of matched users is asked for (else every one of them)."""
    wants_page = "page" in request.query_params or "page_size" in request.query_params
    return wants_page and not isinstance(request.accepted_renderer, CSVRenderer)


def result_json(result: selectors.FilterSetResult, users: list[selectors.UserRow]) -> dict[str, Any]:
    return {
        "total_users": result.total_users,
        "matched": result.matched,
        "matched_pct": result.matched_pct,
        "users": [row_json(r) for r in users],
        "groups": [group_json(g) for g in result.groups],
    }


def filter_set_response(view: Any, query: FilterSetQuery, result: selectors.FilterSetResult, filename: str) -> Response:
    """The result with its matched users sorted by the query's ordering: every one of them, or one
    page (with ``next``/``previous`` links) when the query names ``page`` or ``page_size``. The CSV
    form is always every matched user."""
    request = view.request
    rows = selectors.sort_rows(result.users, query.ordering)
    one_page = paged(request)
    if not result.complete and not (one_page and selectors.can_defer(query.ordering)):
        selectors.user_rows_complete(query, rows)
    if isinstance(request.accepted_renderer, CSVRenderer):
        response = Response({})
        response.csv_rows = [row_json(r) for r in rows]  # type: ignore[attr-defined]
        response.csv_columns = USER_COLUMNS  # type: ignore[attr-defined]
        response.csv_filename = filename  # type: ignore[attr-defined]
        return response
    links: dict[str, str | None] = {"next": None, "previous": None}
    if one_page:
        paginator = UsersPagination()
        rows = list(paginator.paginate_queryset(rows, request, view=view) or [])
        links = {"next": paginator.get_next_link(), "previous": paginator.get_previous_link()}
        if not result.complete:
            selectors.user_rows_complete(query, rows)
    return Response({**result_json(result, rows), **links})


class FilterSetQueryView(WorkspaceAPIView):
    """POST a filter-set definition; the result is computed now (nothing is saved)."""

    csv_filename = "filter-set.csv"

    @extend_schema(
        parameters=[FilterSetTableParams, FORMAT_PARAM],
        request=s.FilterSetQueryBodySerializer,
        responses={200: s.FilterSetResultSerializer, **ERROR_RESPONSES},
        summary="Run a filter-set definition without saving it",
        tags=["filter-sets"],
    )
    def post(self, request: Request, slug: str) -> Response:
        body = request.data
        if not isinstance(body, Mapping):
            message = _("Invalid data. Expected a dictionary, but got %(type)s.") % {"type": type(body).__name__}
            raise serializers.ValidationError({"non_field_errors": [message]})
        definition = {key: body[key] for key in BODY_KEYS if key in body}
        query = filter_set_query(self.workspace, request.query_params, definition)
        # One page sorted by a column that can wait: only that page's deferred metrics are filled.
        complete = not (paged(request) and selectors.can_defer(query.ordering))
        result = selectors.filter_set_result(query, complete=complete)
        return filter_set_response(self, query, result, f"{self.workspace.slug}-{self.csv_filename}")


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
        parameters=[FilterSetTableParams, FORMAT_PARAM],
        responses={200: s.FilterSetResultSerializer, **ERROR_RESPONSES},
        summary="The result of a saved filter set for a period (days default to its default_days)",
        tags=["filter-sets"],
    )
    @action(detail=True, methods=["get"], renderer_classes=WorkspaceAPIView.renderer_classes)
    def results(self, request: Request, slug: str, pk: str) -> Response:
        filter_set = self.get_object()
        definition = services.saved_data(filter_set)
        query = filter_set_query(self.workspace, request.query_params, definition, filter_set.default_days)
        result, _cached = services.filter_set_saved_result(query)
        return filter_set_response(self, query, result, f"{self.workspace.slug}-filter-set-{filter_set.pk}.csv")
