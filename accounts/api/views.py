"""Accounts endpoints (API.md "Accounts and sales", docs/accounts.md): each parses its query object once,
calls the selectors and lays the answer out as JSON, and as CSV with ``format=csv``.

Tenant scoping is ``core.api.base.WorkspaceAPIView``'s and ``tenancy.api.views.SavedConfigViewSet``'s:
the workspace comes from the URL and the user's membership (404 otherwise), an account is looked up in
it by external id (another workspace's is a 404), a segment through the scope (its owner's or shared).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import presenters, selectors, services
from accounts.api import serializers as s
from accounts.models import Segment
from accounts.queries import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AccountQuery,
    ListParams,
    ListQuery,
    OverviewQuery,
    segment_list_query,
)
from core.api.base import ERROR_RESPONSES, FORMAT_PARAM, CSVRenderer, WorkspaceAPIView, document
from core.api.parsers import CheckedPagination
from core.queries import QueryInvalid
from records.selectors import LIST_CAP
from tenancy.api.views import SavedConfigViewSet

TAG = "accounts"


class AccountsPagination(CheckedPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


def accounts_response(view: Any, query: ListQuery, filename: str) -> Response:
    """The accounts of a list query: one page (``{count, next, previous, results}``), or every one of
    them as CSV."""
    request = view.request
    rows = selectors.account_rows(query)
    if isinstance(request.accepted_renderer, CSVRenderer):
        response = Response({})
        response.csv_rows = [presenters.account_row_json(a) for a in rows.iterator(chunk_size=2000)]  # type: ignore[attr-defined]
        response.csv_columns = presenters.LIST_COLUMNS  # type: ignore[attr-defined]
        response.csv_filename = filename  # type: ignore[attr-defined]
        return response
    paginator = AccountsPagination()
    page = paginator.paginate_queryset(rows, request, view=view) or []
    return paginator.get_paginated_response([presenters.account_row_json(a) for a in page])


class OverviewView(WorkspaceAPIView):
    query_class = OverviewQuery
    csv_filename = "accounts-overview.csv"

    @document(OverviewQuery, s.AccountsOverviewSerializer, "The account overview (seed 001) as of a day", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: OverviewQuery = self.parse_query()
        whole = request.accepted_renderer.format == "csv" and query.table == "closing_this_month"
        answer = selectors.overview(query, None if whole else LIST_CAP)
        data = presenters.overview_json(answer, query)
        self.csv_filename = f"accounts-{query.table.replace('_', '-')}.csv"
        return self.table_response(data, data[query.table], presenters.OVERVIEW_COLUMNS[query.table])


class AccountListView(WorkspaceAPIView):
    query_class = ListQuery
    csv_filename = "accounts.csv"

    @extend_schema(operation_id="workspaces_accounts_list")
    @document(ListQuery, s.PaginatedAccountListSerializer, "Accounts: search, filters, ordering, pages", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: ListQuery = self.parse_query()
        return accounts_response(self, query, f"{self.workspace.slug}-{self.csv_filename}")


@extend_schema(exclude=True)
class AccountListAlias(AccountListView):
    """``accounts`` without its trailing slash (not in the schema)."""


class SuggestedSegmentsView(WorkspaceAPIView):
    csv_filename = "suggested-segments.csv"

    @extend_schema(
        parameters=[FORMAT_PARAM],
        responses={200: s.SuggestedSegmentSerializer(many=True), **ERROR_RESPONSES},
        summary="The suggested segments, their rules and how many accounts each holds now",
        tags=[TAG],
    )
    def get(self, request: Request, slug: str) -> Response:
        rows = [presenters.suggestion_json(x) for x in selectors.suggested_segments(self.workspace)]
        base = request.build_absolute_uri(reverse("api-accounts", kwargs={"slug": self.workspace.slug}))
        data = [{**row, "accounts_url": f"{base}?suggested={row['key']}"} for row in rows]
        return self.table_response(data, rows, presenters.SUGGESTION_COLUMNS)


class AccountView(WorkspaceAPIView):
    query_class = AccountQuery
    csv_filename = "account.csv"

    @document(AccountQuery, s.AccountDetailSerializer, "One account: its row, all its deals, its products", TAG)
    def get(self, request: Request, slug: str, external_id: str) -> Response:
        query: AccountQuery = self.parse_query()
        account = selectors.account_find(self.workspace, external_id)
        if account is None:
            raise NotFound("No such account in this workspace.")
        deals = list(selectors.account_deals(account))
        products = selectors.account_products(account)
        data = presenters.account_json(account, deals, products)
        self.csv_filename = f"account-{query.table}.csv"
        columns = presenters.DEAL_COLUMNS if query.table == "deals" else presenters.ACCOUNT_PRODUCT_COLUMNS
        return self.table_response(data, data[query.table], columns)


# --- segments ----------------------------------------------------------------------------------------


ID_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The segment's id.")


@extend_schema_view(
    list=extend_schema(summary="Segments you can see", tags=["segments"]),
    create=extend_schema(summary="Save a segment (admins and analysts)", tags=["segments"]),
    retrieve=extend_schema(parameters=[ID_PARAM], tags=["segments"]),
    update=extend_schema(parameters=[ID_PARAM], tags=["segments"]),
    partial_update=extend_schema(parameters=[ID_PARAM], tags=["segments"]),
    destroy=extend_schema(parameters=[ID_PARAM], tags=["segments"]),
)
class SegmentViewSet(SavedConfigViewSet):
    """CRUD of saved segments: the rules of every saved configuration (``SavedConfigViewSet``)."""

    model = Segment
    serializer_class = s.SegmentSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().order_by("name", "pk")

    def perform_create(self, serializer: Any) -> None:
        if not self.scope.can_create_saved:
            raise PermissionDenied("Only workspace admins and analysts create segments.")
        serializer.instance = services.segment_save(
            workspace=self.workspace, actor=self.request.user, segment=None, values=dict(serializer.validated_data)
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = services.segment_save(
            workspace=self.workspace,
            actor=self.request.user,
            segment=serializer.instance,
            values=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance: Any) -> None:
        services.segment_delete(actor=self.request.user, segment=instance)

    @extend_schema(
        parameters=[ID_PARAM, ListParams, FORMAT_PARAM],
        responses={200: s.PaginatedAccountListSerializer, **ERROR_RESPONSES},
        summary="A segment's accounts, as accounts/ answers (its filters; ordering, page, page_size)",
        tags=["segments"],
    )
    @action(detail=True, methods=["get"], renderer_classes=WorkspaceAPIView.renderer_classes)
    def accounts(self, request: Request, slug: str, pk: str) -> Response:
        segment: Segment = self.get_object()
        try:
            query = segment_list_query(self.workspace, segment.stored_filters, request.query_params)
        except QueryInvalid as exc:
            raise serializers.ValidationError(exc.detail) from None
        return accounts_response(self, query, f"{self.workspace.slug}-segment-{segment.pk}.csv")
