"""Perception metrics endpoints (API.md "Customer perception", docs/perception.md#metrics): each parses its
query object once, calls its selector and lays the answer out as JSON and, with ``format=csv``, as the
CSV of its list (the summary's metrics, the trend's months, the breakdown's groups, every account)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import CSVRenderer, WorkspaceAPIView, document
from core.api.parsers import CheckedPagination
from perception.api import metric_serializers as s
from perception.queries import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    BreakdownQuery,
    PerceptionAccountsQuery,
    SummaryQuery,
    TrendQuery,
)
from perception.selectors import metrics as selectors
from records.figures import cents_text
from records.models import Account

TAG = "perception"

SUMMARY_COLUMNS = ["metric", "value", "previous", "change", "change_pct"]
TREND_COLUMNS = ["month", *selectors.METRICS]
BREAKDOWN_COLUMNS = ["group", *selectors.METRICS]
ACCOUNT_COLUMNS = ["external_id", "name", "industry", "owner", "contracts", "monthly_value", "last_end", "revenue"]


def _answered(name: str, value: Any) -> Any:
    """A figure as answered: money (cents) as a 2-decimal string."""
    return cents_text(value) if name in selectors.MONEY_METRICS else value


def _csv_cell(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) else value


def values_json(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _answered(name, values[name]) for name in selectors.METRICS}


def summary_json(answer: selectors.Summary, currency: str) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for name, metric in answer.metrics.items():
        metrics[name] = {
            "value": _answered(name, metric.value),
            "previous": _answered(name, metric.previous),
            "change": _answered(name, metric.change),
            "change_pct": metric.change_pct,
        }
    metrics["nps"].update(promoters=answer.promoters, passives=answer.passives, detractors=answer.detractors)
    return {
        "period": answer.period.as_dict(),
        "previous": answer.previous.as_dict(),
        "currency": currency,
        "metrics": metrics,
    }


class SummaryView(WorkspaceAPIView):
    query_class = SummaryQuery
    csv_filename = "perception-summary.csv"

    @document(SummaryQuery, s.PerceptionSummarySerializer, "Perception metrics against the previous period", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: SummaryQuery = self.parse_query()
        data = summary_json(selectors.summary(query), self.workspace.currency)
        # A money change may be negative: a Decimal, not a text, so that the CSV writer does not take
        # "-12.50" for a formula and quote it.
        rows = [
            {"metric": name, **{k: _csv_cell(metric[k]) for k in SUMMARY_COLUMNS[1:]}}
            for name, metric in data["metrics"].items()
        ]
        return self.table_response(data, rows, SUMMARY_COLUMNS)


class TrendView(WorkspaceAPIView):
    query_class = TrendQuery
    csv_filename = "perception-trend.csv"

    @document(TrendQuery, s.PerceptionTrendSerializer, "Perception metrics per month of the period", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: TrendQuery = self.parse_query()
        rows = [{"month": row.month.isoformat(), **values_json(row.values)} for row in selectors.trend(query)]
        return self.table_response({"months": rows}, rows, TREND_COLUMNS)


class BreakdownView(WorkspaceAPIView):
    query_class = BreakdownQuery
    csv_filename = "perception-breakdown.csv"

    @document(BreakdownQuery, s.PerceptionBreakdownSerializer, "Perception metrics per industry, owner or segment", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: BreakdownQuery = self.parse_query()
        rows = [group_json(row) for row in selectors.breakdown(query)]
        columns = ["segment", *BREAKDOWN_COLUMNS] if query.by == "segment" else BREAKDOWN_COLUMNS
        return self.table_response({"groups": rows}, rows, columns)


def group_json(row: selectors.GroupRow) -> dict[str, Any]:
    """A breakdown's group; by segment, its id too (segment names need not be unique)."""
    return {
        **({"segment": row.segment} if row.segment is not None else {}),
        "group": row.group,
        **values_json(row.values),
    }


class PerceptionAccountsPagination(CheckedPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


def account_rows(query: PerceptionAccountsQuery, accounts: list[Account]) -> list[dict[str, Any]]:
    figures = selectors.account_figures(query, [a.pk for a in accounts])
    rows = []
    for account in accounts:
        figure = figures.get(account.pk, selectors.AccountFigures())
        rows.append(
            {
                "external_id": account.external_id,
                "name": account.name,
                "industry": account.industry,
                "owner": account.owner.external_id if account.owner is not None else None,
                "contracts": figure.contracts,
                "monthly_value": cents_text(figure.monthly_value),
                "last_end": figure.last_end.isoformat() if figure.last_end else None,
                "revenue": cents_text(figure.revenue),
            }
        )
    return rows


CSV_CHUNK = 2000


class AccountsView(WorkspaceAPIView):
    query_class = PerceptionAccountsQuery
    csv_filename = "perception-accounts.csv"

    @extend_schema(operation_id="workspaces_perception_accounts_list")
    @document(
        PerceptionAccountsQuery,
        s.PaginatedPerceptionAccountListSerializer,
        "The accounts at start, churned or retained in the period",
        TAG,
    )
    def get(self, request: Request, slug: str) -> Response:
        query: PerceptionAccountsQuery = self.parse_query()
        accounts = selectors.perception_accounts(query)
        if isinstance(request.accepted_renderer, CSVRenderer):
            rows: list[dict[str, Any]] = []
            chunk: list[Account] = []
            for account in accounts.iterator(chunk_size=CSV_CHUNK):
                chunk.append(account)
                if len(chunk) == CSV_CHUNK:
                    rows += account_rows(query, chunk)
                    chunk = []
            rows += account_rows(query, chunk)
            self.csv_filename = f"perception-accounts-{query.status.replace('_', '-')}.csv"
            return self.table_response({}, rows, ACCOUNT_COLUMNS)
        paginator = PerceptionAccountsPagination()
        page = paginator.paginate_queryset(accounts, request, view=self) or []
        return paginator.get_paginated_response(account_rows(query, list(page)))
