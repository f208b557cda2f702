"""Chart JSON of the Sales tab (``core.charts``), each for the query of the page it sits on: revenue
against the previous period, the leaderboard, activities per rep and week, the pipeline by stage,
pipeline generated against target, and the forecast by category against quota. Amounts are drawn in
the workspace's currency units (cents ÷ 100); the tables beside the charts give them exactly.

Two are drawn by ``static/sales/sales.js`` (``sales-stacked``: bars stacked, a line dataset — the
quota — over them); a dataset may name its own Chart.js ``type`` (a target line over bars)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from core.charts import CHARTJS_COLORS, WorkspaceChartView, rgb
from sales import selectors
from sales.queries import ActivityQuery, ForecastQuery, GenerationQuery, OpenPipelineQuery, UnionQuery

# Reps drawn by name in the leaderboard and activity charts (the others are summed, or left to the table).
TOP_REPS = 15
ACTIVITY_REPS = 8
GREY = (148, 163, 184)


def units(cents: int | None) -> float | None:
    return None if cents is None else cents / 100


def category_labels() -> dict[str, str]:
    return {
        "pipeline": gettext("Pipeline"),
        "best_case": gettext("Best case"),
        "commit": gettext("Commit"),
        "omitted": gettext("Omitted"),
    }


class SalesChart(WorkspaceChartView):
    """Datasets given whole by ``series()``: (label, values, extra Chart.js options)."""

    def series(self) -> list[tuple[str, list[Any], dict[str, Any]]]:
        raise NotImplementedError

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = []
        for index, (label, values, extra) in enumerate(self.series()):
            color = extra.pop("color", CHARTJS_COLORS[index % len(CHARTJS_COLORS)])
            datasets.append(
                {"label": label, "data": values, "backgroundColor": rgb(color, 0.5), "borderColor": rgb(color), **extra}
            )
        return datasets


class RevenueChart(SalesChart):
    """Revenue won so far, day by day through the period, and through the previous period beside it."""

    query_class = UnionQuery

    def load(self) -> None:
        self.revenue = selectors.revenue_by_day(self.query)

    def get_labels(self) -> list[str]:
        return [day.isoformat() for day in self.revenue.days]

    def series(self) -> list[tuple[str, list[Any], dict[str, Any]]]:
        if not (self.revenue.current and (self.revenue.current[-1] or self.revenue.previous[-1])):
            return []
        return [
            (gettext("This period"), [units(c) for c in self.revenue.current], {}),
            (gettext("Previous period"), [units(c) for c in self.revenue.previous], {"color": GREY}),
        ]


class LeaderboardChart(SalesChart):
    query_class = UnionQuery

    def load(self) -> None:
        self.rows = [row for row in selectors.leaderboard(self.query) if row.revenue_cents][:TOP_REPS]

    def get_labels(self) -> list[str]:
        return [row.rep_name or row.rep for row in self.rows]

    def series(self) -> list[tuple[str, list[Any], dict[str, Any]]]:
        if not self.rows:
            return []
        return [(gettext("Revenue"), [units(row.revenue_cents) for row in self.rows], {})]


class ActivityChart(SalesChart):
    """Completed calls, emails, meetings and messages per week, stacked by rep (the busiest reps by
    name, the others together)."""

    query_class = ActivityQuery

    def load(self) -> None:
        self.report = selectors.rep_activity(self.query)

    def get_labels(self) -> list[str]:
        return [week.isoformat() for week in self.report.weeks]

    def series(self) -> list[tuple[str, list[Any], dict[str, Any]]]:
        busiest = sorted((r for r in self.report.reps if r.counts.total), key=lambda r: (-r.counts.total, r.rep))
        if not busiest:
            return []
        named = {r.rep: r.rep_name or r.rep for r in busiest[:ACTIVITY_REPS]}
        totals: dict[str, dict[str, int]] = {rep: {} for rep in named}
        others: dict[str, int] = {}
        for row in self.report.rows:
            week = row.week_start.isoformat()
            target = totals[row.rep] if row.rep in named else others
            target[week] = target.get(week, 0) + row.counts.total
        weeks = self.get_labels()
        result: list[tuple[str, list[Any], dict[str, Any]]] = [
            (label, [totals[rep].get(w, 0) for w in weeks], {"stack": "reps"}) for rep, label in named.items()
        ]
        if any(others.values()):
            result.append((gettext("Other reps"), [others.get(w, 0) for w in weeks], {"stack": "reps", "color": GREY}))
        return result


class StageChart(SalesChart):
    query_class = OpenPipelineQuery

    def load(self) -> None:
        self.stages = selectors.by_stage(self.query)[0]

    def get_labels(self) -> list[str]:
        return [row.stage for row in self.stages]

    def series(self) -> list[tuple[str, list[Any], dict[str, Any]]]:
        if not self.stages:
            return []
        return [
            (gettext("Amount"), [units(row.amount_cents) for row in self.stages], {}),
            (gettext("Weighted"), [units(row.weighted_cents) for row in self.stages], {}),
        ]


class GenerationChart(SalesChart):
    """Pipeline generated per month (bars) and the month's target (a line)."""

    query_class = GenerationQuery

    def load(self) -> None:
        self.months = selectors.pipeline_generation(self.query).months

    def get_labels(self) -> list[str]:
        return [row.month.isoformat() for row in self.months]

    def series(self) -> list[tuple[str, list[Any], dict[str, Any]]]:
        if not any(row.deals or row.target_cents for row in self.months):
            return []
        result: list[tuple[str, list[Any], dict[str, Any]]] = [
            (gettext("Generated"), [units(row.generated_cents) for row in self.months], {"order": 2})
        ]
        if any(row.target_cents is not None for row in self.months):
            line = {"type": "line", "order": 1, "color": CHARTJS_COLORS[1], "spanGaps": False}
            result.append((gettext("Target"), [units(row.target_cents) for row in self.months], line))
        return result


class ForecastChart(SalesChart):
    """Per close month: won, then the weighted open deals of each category stacked on it; the quota as
    a line."""

    query_class = ForecastQuery

    def load(self) -> None:
        self.months = selectors.forecast(self.query)

    def get_labels(self) -> list[str]:
        return [row.month.isoformat() for row in self.months]

    def series(self) -> list[tuple[str, list[Any], dict[str, Any]]]:
        if not any(row.forecast_cents or row.quota_cents for row in self.months):
            return []
        names = category_labels()
        colors = {"commit": CHARTJS_COLORS[4], "best_case": CHARTJS_COLORS[0], "pipeline": CHARTJS_COLORS[5],
                  "omitted": CHARTJS_COLORS[6]}  # fmt: skip
        result: list[tuple[str, list[Any], dict[str, Any]]] = [
            (
                gettext("Won"),
                [units(row.won_cents) for row in self.months],
                {"stack": "forecast", "color": (22, 163, 74)},
            )
        ]
        for index, name in enumerate(("commit", "best_case", "pipeline", "omitted")):
            position = selectors.CATEGORIES.index(name)
            values = [units(row.categories[position].weighted_cents) for row in self.months]
            label = gettext("%(category)s (weighted)") % {"category": names[name]}
            result.append((label, values, {"stack": "forecast", "color": colors[name], "order": 2 + index}))
        if any(row.quota_cents is not None for row in self.months):
            line = {"type": "line", "stack": "quota", "color": CHARTJS_COLORS[1], "order": 0}
            result.append((gettext("Quota"), [units(row.quota_cents) for row in self.months], line))
        return result
