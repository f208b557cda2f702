"""Sales endpoints (API.md "Accounts and sales", docs/sales.md): each parses its query object, calls its
selector and lays the answer out as JSON and, with ``format=csv``, as the CSV of one of its lists
(``table``; the dashboard's main list by default). Lists that grow with the data are cut to
``LIST_CAP`` rows in JSON (``truncated`` says which were cut); their CSV has every row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import WorkspaceAPIView, document
from records.figures import cents_text
from sales import selectors
from sales.api import serializers as s
from sales.queries import (
    ActivityQuery,
    CleanHouseQuery,
    ForecastQuery,
    GenerationQuery,
    OpenPipelineQuery,
    UnionQuery,
)
from sales.selectors import LIST_CAP

TAG = "sales"


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def deal_base(deal: selectors.DealRow) -> dict[str, Any]:
    return {"external_id": deal.external_id, "name": deal.name, "account": deal.account, "rep": deal.rep}


# --- 1. state of the union -----------------------------------------------------------------------------------


def metric_json(metric: selectors.Metric, money: bool = False) -> dict[str, Any]:
    if money:
        value = cents_text(metric.value)  # type: ignore[arg-type]
        previous = cents_text(metric.previous)  # type: ignore[arg-type]
        return {"value": value, "previous": previous, "change_pct": metric.change_pct}
    return {"value": metric.value, "previous": metric.previous, "change_pct": metric.change_pct}


def top_deal_rows(union: selectors.Union) -> list[dict[str, Any]]:
    return [
        {**deal_base(d), "amount": cents_text(d.amount_cents), "close_date": _day(d.close_date)}
        for d in union.top_deals
    ]


def leaderboard_rows(union: selectors.Union) -> list[dict[str, Any]]:
    return [
        {"rep": r.rep, "revenue": cents_text(r.revenue_cents), "won": r.won, "lost": r.lost,
         "win_rate_pct": r.win_rate_pct}
        for r in union.leaderboard
    ]  # fmt: skip


class UnionView(WorkspaceAPIView):
    query_class = UnionQuery
    csv_filename = "sales-state-of-the-union.csv"
    columns = {
        "leaderboard": ["rep", "revenue", "won", "lost", "win_rate_pct"],
        "top_deals": ["external_id", "name", "account", "rep", "amount", "close_date"],
    }

    @document(
        UnionQuery, s.SalesUnionSerializer, "State of the union: revenue, wins, win rate, top deals, leaderboard", TAG
    )
    def get(self, request: Request, slug: str) -> Response:
        query: UnionQuery = self.parse_query()
        union = selectors.state_of_the_union(query)
        data: dict[str, Any] = {
            "period": union.period.as_dict(),
            "previous": union.previous.as_dict(),
            "currency": self.workspace.currency,
            "metrics": {
                "revenue": metric_json(union.revenue, money=True),
                "deals_won": metric_json(union.deals_won),
                "win_rate_pct": metric_json(union.win_rate_pct),
                "average_deal_size": metric_json(union.average_deal_size, money=True),
                "open_pipeline": metric_json(union.open_pipeline, money=True),
            },
            "top_deals": top_deal_rows(union),
            "leaderboard": leaderboard_rows(union),
        }
        table = query.table or "leaderboard"
        return self.table_response(data, data[table], self.columns[table])


# --- 2. activity -----------------------------------------------------------------------------------------------


def counts_json(counts: selectors.Counts) -> dict[str, int]:
    return {"calls": counts.calls, "emails": counts.emails, "meetings": counts.meetings, "messages": counts.messages}


class ActivityView(WorkspaceAPIView):
    query_class = ActivityQuery
    csv_filename = "sales-activity.csv"
    columns = {
        "rows": ["week_start", "rep", "calls", "emails", "meetings", "messages"],
        "reps": ["rep", "calls", "emails", "meetings", "messages", "won_deals", "meetings_per_won_deal"],
    }

    @document(ActivityQuery, s.SalesActivitySerializer, "Calls, emails, meetings and messages per rep and week", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: ActivityQuery = self.parse_query()
        report = selectors.rep_activity(query)
        week_text = {week: week.isoformat() for week in report.weeks}
        data: dict[str, Any] = {
            # 2,000 reps over a month are 10,000 rows: each dict built in one go.
            "rows": [
                {
                    "week_start": week_text[r.week_start],
                    "rep": r.rep,
                    "calls": r.counts.calls,
                    "emails": r.counts.emails,
                    "meetings": r.counts.meetings,
                    "messages": r.counts.messages,
                }
                for r in report.rows
            ],
            "reps": [
                {
                    "rep": r.rep,
                    **counts_json(r.counts),
                    "won_deals": r.won_deals,
                    "meetings_per_won_deal": r.meetings_per_won_deal,
                }
                for r in report.reps
            ],  # fmt: skip
        }
        table = query.table or "rows"
        return self.table_response(data, data[table], self.columns[table])


# --- 3. open pipeline -------------------------------------------------------------------------------------------


def stage_rows(stages: list[selectors.StageRow]) -> list[dict[str, Any]]:
    return [
        {
            "stage": r.stage,
            "deals": r.deals,
            "amount": cents_text(r.amount_cents),
            "weighted": cents_text(r.weighted_cents),
        }
        for r in stages
    ]


def stuck_rows(stuck: list[selectors.StuckDeal]) -> list[dict[str, Any]]:
    return [
        {**deal_base(r.deal), "stage": r.deal.stage, "amount": cents_text(r.deal.amount_cents),
         "days_in_stage": r.days_in_stage}
        for r in stuck
    ]  # fmt: skip


def idle_rows(idle: list[selectors.IdleDeal]) -> list[dict[str, Any]]:
    return [{**deal_base(r.deal), "amount": cents_text(r.deal.amount_cents), "days_idle": r.days_idle} for r in idle]


class OpenPipelineView(WorkspaceAPIView):
    query_class = OpenPipelineQuery
    csv_filename = "sales-open-pipeline.csv"
    columns = {
        "by_stage": ["stage", "deals", "amount", "weighted"],
        "stuck": ["external_id", "name", "account", "rep", "stage", "amount", "days_in_stage"],
        "idle": ["external_id", "name", "account", "rep", "amount", "days_idle"],
    }

    @document(OpenPipelineQuery, s.SalesOpenPipelineSerializer, "Open deals by stage, stuck and idle deals", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: OpenPipelineQuery = self.parse_query()
        if request.accepted_renderer.format == "csv" and query.table in ("stuck", "idle"):
            if query.table == "stuck":
                rows = stuck_rows(selectors.stuck_deals(query, None).rows)
            else:
                rows = idle_rows(selectors.idle_deals(query, None).rows)
            return self.table_response({}, rows, self.columns[query.table])
        report = selectors.open_pipeline(query, LIST_CAP)
        data: dict[str, Any] = {
            "as_of": query.as_of.isoformat(),
            "total": {"deals": report.deals, "amount": cents_text(report.amount_cents),
                      "weighted": cents_text(report.weighted_cents)},
            "by_stage": stage_rows(report.by_stage),
            "stuck": stuck_rows(report.stuck.rows),
            "idle": idle_rows(report.idle.rows),
            "truncated": {"stuck": report.stuck.truncated, "idle": report.idle.truncated},
        }  # fmt: skip
        return self.table_response(data, data["by_stage"], self.columns["by_stage"])


# --- 4. pipeline generation, 5. forecast ---------------------------------------------------------------------


def generated_json(row: selectors.GeneratedMonth | selectors.GeneratedRep) -> dict[str, Any]:
    return {
        "deals": row.deals, "generated": cents_text(row.generated_cents), "target": cents_text(row.target_cents),
        "attainment_pct": row.attainment_pct,
    }  # fmt: skip


class GenerationView(WorkspaceAPIView):
    query_class = GenerationQuery
    csv_filename = "sales-pipeline-generation.csv"
    columns = {
        "months": ["month", "deals", "generated", "target", "attainment_pct"],
        "reps": ["rep", "deals", "generated", "target", "attainment_pct"],
    }

    @document(GenerationQuery, s.SalesGenerationSerializer, "Pipeline generated per month and rep against target", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: GenerationQuery = self.parse_query()
        report = selectors.pipeline_generation(query)
        coverage = report.coverage
        data: dict[str, Any] = {
            "months": [{"month": m.month.isoformat(), **generated_json(m)} for m in report.months],
            "reps": [{"rep": r.rep, **generated_json(r)} for r in report.reps],
            "coverage": {
                "quota": cents_text(coverage.quota_cents), "revenue": cents_text(coverage.revenue_cents),
                "open_pipeline": cents_text(coverage.open_pipeline_cents), "ratio": coverage.ratio,
            },
        }  # fmt: skip
        table = query.table or "months"
        return self.table_response(data, data[table], self.columns[table])


def forecast_json(month: selectors.ForecastMonth) -> dict[str, Any]:
    return {
        "month": month.month.isoformat(),
        "won": cents_text(month.won_cents),
        "weighted_open": cents_text(month.weighted_open_cents),
        "forecast": cents_text(month.forecast_cents),
        "quota": cents_text(month.quota_cents),
        "quota_pct": month.quota_pct,
        "categories": [
            {
                "category": c.category,
                "deals": c.deals,
                "amount": cents_text(c.amount_cents),
                "weighted": cents_text(c.weighted_cents),
            }
            for c in month.categories
        ],  # fmt: skip
    }


class ForecastView(WorkspaceAPIView):
    query_class = ForecastQuery
    csv_filename = "sales-forecast.csv"
    month_columns = ["month", "won", "weighted_open", "forecast", "quota", "quota_pct"]
    category_columns = ["month", "category", "deals", "amount", "weighted"]

    @document(
        ForecastQuery, s.SalesForecastSerializer, "Won plus weighted open deals per close month, against quota", TAG
    )
    def get(self, request: Request, slug: str) -> Response:
        query: ForecastQuery = self.parse_query()
        months = [forecast_json(m) for m in selectors.forecast(query)]
        if query.table == "categories":
            rows = [{"month": m["month"], **c} for m in months for c in m["categories"]]
            return self.table_response({"months": months}, rows, self.category_columns)
        # One row a month; each category's figures as columns (pipeline_deals, pipeline_amount…).
        rows = [
            {**{k: m[k] for k in self.month_columns},
             **{f"{c['category']}_{k}": c[k] for c in m["categories"] for k in ("deals", "amount", "weighted")}}
            for m in months
        ]  # fmt: skip
        return self.table_response({"months": months}, rows, self.month_columns)


# --- 6. clean house ---------------------------------------------------------------------------------------------


def past_due_rows(rows: list[selectors.PastDue]) -> list[dict[str, Any]]:
    return [
        {**deal_base(r.deal), "close_date": _day(r.deal.close_date), "days_past_due": r.days_past_due,
         "amount": cents_text(r.deal.amount_cents)}
        for r in rows
    ]  # fmt: skip


def missing_rows(rows: list[selectors.DealRow]) -> list[dict[str, Any]]:
    return [
        {**deal_base(d), "state": d.state, "close_date": _day(d.close_date), "amount": cents_text(d.amount_cents)}
        for d in rows
    ]


def account_rows(rows: list[selectors.AccountRow]) -> list[dict[str, Any]]:
    return [{"external_id": a.external_id, "name": a.name} for a in rows]


def duplicate_rows(groups: list[selectors.DuplicateGroup]) -> list[dict[str, Any]]:
    return [{"key": g.key, "accounts": account_rows(g.accounts)} for g in groups]


CLEAN_HOUSE_LISTS: dict[str, tuple[Callable[..., Any], Callable[[Any], list[dict[str, Any]]], list[str]]] = {
    # table → (selector, JSON rows, CSV columns)
    "past_due": (selectors.past_due, past_due_rows,
                 ["external_id", "name", "account", "rep", "close_date", "days_past_due", "amount"]),
    "missing_amount": (selectors.missing_amount, missing_rows,
                       ["external_id", "name", "account", "rep", "state", "close_date", "amount"]),
    "missing_close_date": (selectors.missing_close_date, missing_rows,
                           ["external_id", "name", "account", "rep", "state", "close_date", "amount"]),
    "ownerless_accounts": (selectors.ownerless_accounts, account_rows, ["external_id", "name"]),
    "duplicate_accounts": (selectors.duplicate_accounts, duplicate_rows, ["key", "external_id", "name"]),
}  # fmt: skip


class CleanHouseView(WorkspaceAPIView):
    query_class = CleanHouseQuery
    csv_filename = "sales-clean-house.csv"

    @document(
        CleanHouseQuery,
        s.SalesCleanHouseSerializer,
        "Past-due deals, missing amounts and dates, ownerless and duplicate accounts",
        TAG,
    )
    def get(self, request: Request, slug: str) -> Response:
        query: CleanHouseQuery = self.parse_query()
        table = query.table or "past_due"
        if request.accepted_renderer.format == "csv":
            select, layout, columns = CLEAN_HOUSE_LISTS[table]
            rows = layout(select(query, None).rows)
            if table == "duplicate_accounts":  # one line per account, its group's key first
                rows = [{"key": g["key"], **a} for g in rows for a in g["accounts"]]
            return self.table_response({}, rows, columns)
        data: dict[str, Any] = {"as_of": query.as_of.isoformat()}
        truncated = {}
        for name, (select, layout, _columns) in CLEAN_HOUSE_LISTS.items():
            found = select(query, LIST_CAP)
            data[name] = layout(found.rows)
            truncated[name] = found.truncated
        data["truncated"] = truncated
        return self.table_response(data, data[table], CLEAN_HOUSE_LISTS[table][2])
