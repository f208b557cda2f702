"""The API side of a drill-down (docs/drilldown.md): the users behind a figure laid out as the
``users`` endpoint lays out its rows: ``{"count", "next", "previous", "results"}`` sorted by
``ordering``, a page of ``page_size`` (``page``), or every row with ``format=csv``."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from rest_framework import serializers
from rest_framework.response import Response

from core.api.base import CSVRenderer, WorkspaceAPIView
from core.api.parsers import CheckedPagination
from core.people import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    USER_COLUMNS,
    NotAFigure,
    TableParams,
    UserRow,
    can_defer,
    people_rows,
    row_json,
    sort_rows,
    user_rows_complete,
)
from core.queries import PeriodQuery, WholeNumberParam


class UsersPagination(CheckedPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


LONG_PAGE_SIZE = 1000


class LongTableParams(TableParams):
    """A table whose pages may be longer: the people at a funnel step (docs/api.md#funnel-views)."""

    page_size = WholeNumberParam(min_value=1, max_value=LONG_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


def table_ordering(view: WorkspaceAPIView, max_page_size: int = MAX_PAGE_SIZE) -> str:
    """The table's ``ordering`` (and a checked ``page``/``page_size``, at most ``max_page_size``)
    from the query string; a 400 naming the field otherwise."""
    params = (TableParams if max_page_size == MAX_PAGE_SIZE else LongTableParams)(data=view.request.query_params)
    if not params.is_valid():
        raise serializers.ValidationError(params.errors)
    ordering: str = params.validated_data["ordering"]
    return ordering


def users_page(
    view: WorkspaceAPIView,
    query: PeriodQuery,
    rows: list[UserRow],
    ordering: str,
    *,
    complete: bool,
    json_of: Callable[[UserRow], dict[str, Any]] = row_json,
    columns: list[str] | None = None,
    pagination: type[CheckedPagination] = UsersPagination,
) -> Response:
    """``rows`` sorted by ``ordering``: every one of them as CSV, else one page. ``complete``: whether
    their deferred metrics (last seen, features used) are filled already; if not, only the page's are."""
    rows = sort_rows(rows, ordering)
    if isinstance(view.request.accepted_renderer, CSVRenderer):  # every row, not one page
        if not complete:
            user_rows_complete(query, rows)
        return view.table_response({}, [json_of(r) for r in rows], columns or USER_COLUMNS)
    paginator = pagination()
    page = list(paginator.paginate_queryset(rows, view.request, view=view) or [])
    if not complete:
        user_rows_complete(query, page)
    return paginator.get_paginated_response([json_of(r) for r in page])


def people_response(
    view: WorkspaceAPIView,
    query: PeriodQuery,
    people: Callable[[], Collection[int]],
    pagination: type[CheckedPagination] = UsersPagination,
    **layout: Any,
) -> Response:
    """The drill-down answer: the users ``people()`` finds behind the figure ``query.people`` names,
    metrics over the query's period; a 400 naming ``people`` when it names no figure of the answer."""
    ordering = table_ordering(view, pagination.max_page_size or MAX_PAGE_SIZE)
    try:
        ids = people()
    except NotAFigure as exc:
        raise serializers.ValidationError({exc.field: [str(exc)]}) from None
    defer = can_defer(ordering) and not isinstance(view.request.accepted_renderer, CSVRenderer)
    rows = people_rows(query, ids, defer=defer)
    return users_page(view, query, rows, ordering, complete=not defer, pagination=pagination, **layout)
