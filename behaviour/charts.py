"""Chart JSON of the Behaviour tab (``core.charts``): the failure rate per feature and action, the
hour × weekday heatmap (drawn with chartjs-chart-matrix by static/behaviour/behaviour.js), the
retention curves, the lifecycle (stacked, dormant below the axis) and stickiness."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext

from behaviour import selectors
from behaviour.queries import (
    AnomaliesQuery,
    FailuresQuery,
    HeatmapQuery,
    LifecycleQuery,
    PathsQuery,
    RetentionQuery,
    StickinessQuery,
)
from core.charts import CHARTJS_COLORS, WorkspaceChartView, rgb

# How many feature·action bars the failure chart shows (the table lists them all).
TOP_FAILURES = 15
# Monday 2024-01-01 … Sunday 2024-01-07: the weekday names in the active language.
WEEKDAY_DATES = [f"2024-01-0{n}" for n in range(1, 8)]


def weekday_names() -> list[str]:
    return [date_format(date.fromisoformat(d), "D") for d in WEEKDAY_DATES]


class FailureRateChart(WorkspaceChartView):
    query_class = FailuresQuery

    def load(self) -> None:
        report = selectors.failures_by_feature(self.query)
        # The feature actions with the most failures, drawn by failure rate, highest first.
        top = [r for r in report.features if r.failures][:TOP_FAILURES]
        self.rows = sorted(top, key=lambda r: (-(r.failure_rate_pct or 0), r.feature, r.action))

    def get_labels(self) -> list[str]:
        return [f"{r.feature} · {r.action}" for r in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("Failure rate (%)")]

    def get_data(self) -> list[list[Any]]:
        return [[r.failure_rate_pct for r in self.rows]] if self.rows else []


class HeatmapChart(WorkspaceChartView):
    """``{"labels": hours, "weekdays": names, "datasets": [{"label", "data": [{"x", "y", "v", …}]}]}``:
    one cell per weekday and hour; ``v`` is the measure drawn (events, or the failure rate)."""

    query_class = HeatmapQuery
    measure = "events"

    def load(self) -> None:
        self.cells = selectors.hour_heatmap(self.query)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        names = weekday_names()
        events = self.measure == "events"
        color = CHARTJS_COLORS[0] if events else CHARTJS_COLORS[1]
        label = gettext("Events") if events else gettext("Failure rate (%)")
        data = [
            {
                "x": str(c.hour),
                "y": names[c.weekday - 1],
                "v": c.events if events else c.failure_rate_pct,
                "events": c.events,
                "failures": c.failures,
                "rate": c.failure_rate_pct,
            }
            for c in self.cells
        ]
        drawn = any(c.events for c in self.cells) if events else any(c.outcomes for c in self.cells)
        return {
            "labels": [str(h) for h in range(24)],
            "weekdays": names,
            "names": {"events": gettext("Events"), "rate": gettext("Failure rate")},
            "datasets": [{"label": label, "data": data, "color": rgb(color)}] if drawn else [],
        }


class FailureHeatmapChart(HeatmapChart):
    measure = "failure_rate"


# How many cohorts the retention chart draws (the newest; the table lists them all).
RETENTION_LINES = 8


class RetentionChart(WorkspaceChartView):
    """One line per cohort (the newest ``RETENTION_LINES`` with users): the share that came back at
    each offset."""

    query_class = RetentionQuery

    def load(self) -> None:
        self.cohorts = [c for c in selectors.retention(self.query) if c.size][-RETENTION_LINES:]

    def get_labels(self) -> list[str]:
        return [str(k) for k in range(self.query.periods)]

    def get_providers(self) -> list[str]:
        return [date_format(c.start, gettext("M j, Y")) for c in self.cohorts]

    def get_data(self) -> list[list[Any]]:
        return [[v.pct for v in c.values] for c in self.cohorts]

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        for dataset, cohort in zip(datasets, self.cohorts, strict=True):  # a point opens its cell's users
            dataset["people"] = [
                f"{cohort.start.isoformat()}:{v.offset}" if v.users is not None else None for v in cohort.values
            ]
        return datasets


class LifecycleChart(WorkspaceChartView):
    """Stacked bars per interval: new, returning, resurrecting above the axis, dormant below."""

    query_class = LifecycleQuery

    def load(self) -> None:
        self.buckets = selectors.lifecycle(self.query)

    def get_labels(self) -> list[str]:
        return [b.bucket.isoformat() for b in self.buckets]

    def get_providers(self) -> list[str]:
        return [gettext("New"), gettext("Returning"), gettext("Resurrecting"), gettext("Dormant")]

    def get_data(self) -> list[list[Any]]:
        if not any(b.new or b.returning or b.resurrecting or b.dormant for b in self.buckets):
            return []
        return [
            [b.new for b in self.buckets],
            [b.returning for b in self.buckets],
            [b.resurrecting for b in self.buckets],
            [-b.dormant for b in self.buckets],
        ]

    def get_colors(self) -> Iterator[tuple[int, int, int]]:
        yield from (CHARTJS_COLORS[4], CHARTJS_COLORS[0], CHARTJS_COLORS[2], CHARTJS_COLORS[1])

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        states = ("new", "returning", "resurrecting", "dormant")  # the datasets' order (get_data)
        for dataset, state in zip(datasets, states, strict=False):  # a bar opens its users
            dataset["people"] = [f"{b.bucket.isoformat()}:{state}" for b in self.buckets]
        return datasets


class StickinessChart(WorkspaceChartView):
    query_class = StickinessQuery

    def load(self) -> None:
        self.result = selectors.stickiness(self.query)

    def get_labels(self) -> list[str]:
        return [str(k) for k, _ in self.result.counts]

    def get_providers(self) -> list[str]:
        return [gettext("Users")]

    def get_data(self) -> list[list[Any]]:
        return [[n for _, n in self.result.counts]] if any(n for _, n in self.result.counts) else []


class AnomalyChart(WorkspaceChartView):
    """One series per day (the query's feature, or the workspace total): its value, its baseline
    (the median of the 28 days before) and its anomalies as points (``anomaly`` drawer)."""

    query_class = AnomaliesQuery

    def load(self) -> None:
        self.days = selectors.anomaly_series(self.query)

    def get_labels(self) -> list[str]:
        return [d.day.isoformat() for d in self.days]

    def get_providers(self) -> list[str]:
        return [gettext("Value"), gettext("Baseline (median of the 28 days before)"), gettext("Anomaly")]

    def get_data(self) -> list[list[Any]]:
        if not any(d.value for d in self.days):
            return []
        return [
            [d.value for d in self.days],
            [d.median for d in self.days],
            [d.value if d.anomaly else None for d in self.days],
        ]


class PathsChart(WorkspaceChartView):
    """A Sankey of the paths (``sankey`` drawer, chartjs-chart-sankey): a node per step and feature,
    named "step. node" so that a feature at two steps is two nodes; the flows are the edges."""

    query_class = PathsQuery

    def load(self) -> None:
        self.report = selectors.paths(self.query)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        labels: dict[str, str] = {}
        columns: dict[str, int] = {}  # each node in its step's column (a node without flows out would go last)
        flows = []
        for e in self.report.edges:
            source, target = f"{e.step}. {e.source}", f"{e.step + 1}. {e.target}"
            labels[source], labels[target] = e.source, e.target
            columns[source], columns[target] = e.step - 1, e.step
            flows.append({"from": source, "to": target, "flow": e.sessions})
        dataset = {"label": gettext("Sessions"), "data": flows, "labels": labels, "column": columns}
        return {"labels": [], "datasets": [dataset] if flows else []}
