"""Behaviour endpoints (docs/api.md#behaviour): each parses its query object, calls its selector and
lays the answer out as JSON and as the CSV table."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from behaviour import selectors
from behaviour.api import serializers as s
from behaviour.queries import (
    AnomaliesQuery,
    FailuresQuery,
    HeatmapQuery,
    LifecycleQuery,
    PathsQuery,
    PathUsersQuery,
    QualityQuery,
    RetentionQuery,
    StickinessQuery,
)
from behaviour.selectors import people
from core.api.base import WorkspaceAPIView, document
from core.api.people import people_response
from dashboards.selectors import annotations_for


def heatmap_rows(cells: list[selectors.HeatmapCell]) -> list[dict[str, Any]]:
    return [
        {"weekday": c.weekday, "hour": c.hour, "events": c.events, "failures": c.failures,
         "failure_rate_pct": c.failure_rate_pct}
        for c in cells
    ]  # fmt: skip


def failure_rows(report: selectors.FailureReport) -> list[dict[str, Any]]:
    return [
        {"feature": f.feature, "action": f.action, "events": f.events, "known_outcome": f.known_outcome,
         "failures": f.failures, "failure_rate_pct": f.failure_rate_pct,
         "median_duration_ms": f.median_duration_ms, "p90_duration_ms": f.p90_duration_ms}
        for f in report.features
    ]  # fmt: skip


class HeatmapView(WorkspaceAPIView):
    query_class = HeatmapQuery
    csv_filename = "heatmap.csv"

    @document(HeatmapQuery, s.HeatmapSerializer, "Events and failure rate per local weekday and hour", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        rows = heatmap_rows(selectors.hour_heatmap(self.parse_query()))
        return self.table_response({"cells": rows}, rows)


class FailuresView(WorkspaceAPIView):
    query_class = FailuresQuery
    csv_filename = "failures.csv"
    columns = [
        "feature", "action", "events", "known_outcome", "failures", "failure_rate_pct",
        "median_duration_ms", "p90_duration_ms",
    ]  # fmt: skip

    @document(FailuresQuery, s.FailuresSerializer, "Failure rate and durations per feature and action", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        report = selectors.failures_by_feature(self.parse_query())
        rows = failure_rows(report)
        return self.table_response({"features": rows, "durations": report.durations}, rows, self.columns)


def retention_json(cohorts: list[selectors.Cohort]) -> list[dict[str, Any]]:
    return [
        {"start": c.start.isoformat(), "size": c.size,
         "values": [{"offset": v.offset, "users": v.users, "pct": v.pct} for v in c.values]}
        for c in cohorts
    ]  # fmt: skip


class RetentionView(WorkspaceAPIView):
    query_class = RetentionQuery
    csv_filename = "retention.csv"

    @document(RetentionQuery, s.RetentionSerializer, "Retention by cohort", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        query: RetentionQuery = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.cell_people(query))
        cohorts = retention_json(selectors.retention(query))
        rows = [
            {"cohort": c["start"], "size": c["size"], "offset": v["offset"], "users": v["users"], "pct": v["pct"]}
            for c in cohorts
            for v in c["values"]
        ]
        notes = annotations_for(query)
        return self.table_response({"interval": query.interval.value, "cohorts": cohorts, "annotations": notes}, rows)


class LifecycleView(WorkspaceAPIView):
    query_class = LifecycleQuery
    csv_filename = "lifecycle.csv"

    @document(LifecycleQuery, s.LifecycleSerializer, "New, returning, resurrecting and dormant users", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        query: LifecycleQuery = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.bar_people(query))
        rows = [
            {"bucket": b.bucket.isoformat(), "new": b.new, "returning": b.returning,
             "resurrecting": b.resurrecting, "dormant": b.dormant}
            for b in selectors.lifecycle(query)
        ]  # fmt: skip
        notes = annotations_for(query)
        return self.table_response({"interval": query.interval.value, "buckets": rows, "annotations": notes}, rows)


class StickinessView(WorkspaceAPIView):
    query_class = StickinessQuery
    csv_filename = "stickiness.csv"

    @document(StickinessQuery, s.StickinessSerializer, "Users by number of active days; DAU/MAU", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        query: StickinessQuery = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.stickiness_bar_people(query))
        result = selectors.stickiness(query)
        rows = [{"active_days": k, "users": n} for k, n in result.counts]
        return self.table_response({"days": result.days, "counts": rows, "dau_mau": result.dau_mau}, rows)


class AnomaliesView(WorkspaceAPIView):
    query_class = AnomaliesQuery
    csv_filename = "anomalies.csv"

    @document(AnomaliesQuery, s.AnomaliesSerializer, "Days that broke from their 28-day baseline", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        rows = [
            {"date": a.date.isoformat(), "feature": a.feature, "value": a.value, "median": a.median, "z": a.z,
             "direction": a.direction}
            for a in selectors.anomalies(query)
        ]  # fmt: skip
        data = {"anomalies": rows, "annotations": annotations_for(query)}
        return self.table_response(data, rows, ["date", "feature", "value", "median", "z", "direction"])


FINDINGS = (
    "suspected_duplicates",
    "short_sessions",
    "long_sessions",
    "late_events",
    "future_events",
    "users_never_seen",
)


class DataQualityView(WorkspaceAPIView):
    query_class = QualityQuery
    csv_filename = "data-quality.csv"

    @document(QualityQuery, s.DataQualitySerializer, "Duplicates, odd sessions, late and future events…", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        report = selectors.data_quality(self.parse_query())
        data: dict[str, Any] = {
            name: {"count": getattr(report, name).count, "examples": getattr(report, name).examples}
            for name in FINDINGS
        }
        data["features_to_review"] = report.features_to_review
        rows = [{"check": name, "count": data[name]["count"]} for name in FINDINGS]
        rows.append({"check": "features_to_review", "count": len(report.features_to_review)})
        return self.table_response(data, rows)


class PathsView(WorkspaceAPIView):
    query_class = PathsQuery
    csv_filename = "paths.csv"

    @document(PathsQuery, s.PathsSerializer, "Paths through the CRM within sessions: nodes and edges", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        report = selectors.paths(self.parse_query())
        nodes = [{"step": n.step, "node": n.node, "sessions": n.sessions, "dropoff": n.dropoff} for n in report.nodes]
        edges = [{"step": e.step, "source": e.source, "target": e.target, "sessions": e.sessions} for e in report.edges]
        return self.table_response({"sessions": report.sessions, "nodes": nodes, "edges": edges}, edges)


class PathUsersView(WorkspaceAPIView):
    query_class = PathUsersQuery
    csv_filename = "path-users.csv"

    @document(PathUsersQuery, s.PathUsersSerializer, "The users behind a node or an edge of the paths", "behaviour")
    def get(self, request: Request, slug: str) -> Response:
        query: PathUsersQuery = self.parse_query()
        users = selectors.path_users(query, query.at_step, query.at_node, query.to_node)
        rows = [{"external_id": u.external_id, "name": u.name, "email": u.email, "sessions": u.sessions} for u in users]
        return self.table_response({"users": rows}, rows, ["external_id", "name", "email", "sessions"])
