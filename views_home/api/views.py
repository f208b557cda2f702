"""Home, Activity, Trends and Hub endpoints (docs/api.md#home and after): each parses its query
object, calls its selector and lays the answer out as JSON and as the CSV table."""

from __future__ import annotations

from dataclasses import asdict

from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import WorkspaceAPIView, document
from core.api.people import people_response
from dashboards.selectors import annotations_for
from views_home import selectors
from views_home.api import serializers as s
from views_home.queries import (
    ActivityQuery,
    FrequencyQuery,
    HomeQuery,
    PopularityQuery,
    TopUsersQuery,
    TrendsApiQuery,
    WeeksQuery,
)
from views_home.selectors import people


class HomeSummaryView(WorkspaceAPIView):
    query_class = HomeQuery
    csv_filename = "summary.csv"

    @document(HomeQuery, s.SummarySerializer, "The five summary metrics with the previous period", "home")
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.summary_people(query))
        summary = selectors.home_summary(query)
        metrics = {name: asdict(getattr(summary, name)) for name in summary.METRICS}
        data = {
            "period": summary.period.as_dict(),
            "previous": summary.previous.as_dict(),
            "metrics": metrics,
            "comparable": summary.comparable,
        }
        rows = [{"metric": name, **values} for name, values in metrics.items()]
        return self.table_response(data, rows)


class WeeklyInteractionsView(WorkspaceAPIView):
    query_class = WeeksQuery
    csv_filename = "weekly-interactions.csv"

    @document(WeeksQuery, s.WeeklySerializer, "Interactions per week (weeks start on Monday)", "home")
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        weeks = selectors.weekly_interactions(query)
        rows = [{"week_start": w.week_start.isoformat(), "interactions": w.interactions} for w in weeks]
        notes = annotations_for(query, start=weeks[0].week_start if weeks else None)
        return self.table_response({"weeks": rows, "annotations": notes}, rows)


class AttendanceCalendarView(WorkspaceAPIView):
    query_class = WeeksQuery
    csv_filename = "attendance-calendar.csv"

    @document(WeeksQuery, s.CalendarSerializer, "Active users per day", "home")
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.calendar_people(query))
        days = selectors.attendance_calendar(query)
        rows = [{"date": d.date.isoformat(), "active_users": d.active_users} for d in days]
        notes = annotations_for(query, start=days[0].date if days else None)
        return self.table_response({"days": rows, "annotations": notes}, rows)


class TopUsersView(WorkspaceAPIView):
    query_class = TopUsersQuery
    csv_filename = "top-users.csv"

    @document(TopUsersQuery, s.TopUsersSerializer, "Top users by interactions or attendance", "home")
    def get(self, request: Request, slug: str) -> Response:
        rows = [asdict(u) for u in selectors.top_users(self.parse_query())]
        return self.table_response({"users": rows}, rows, ["external_id", "email", "name", "value"])


class ActivityFeaturesView(WorkspaceAPIView):
    query_class = ActivityQuery
    csv_filename = "activity.csv"

    @document(
        ActivityQuery,
        s.ActivitySerializer,
        "Interactions per feature over the period, with a daily series (every day present)",
        "activity",
    )
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        features = selectors.activity_features(query)
        data = [
            {
                "feature": f.feature,
                "interactions": f.interactions,
                "series": [{"date": p.date.isoformat(), "interactions": p.interactions} for p in f.series],
            }
            for f in features
        ]
        rows = [
            {"feature": f.feature, "date": p.date.isoformat(), "interactions": p.interactions}
            for f in features
            for p in f.series
        ]
        data_with_notes = {"features": data, "annotations": annotations_for(query)}
        return self.table_response(data_with_notes, rows, ["feature", "date", "interactions"])


class TrendsView(WorkspaceAPIView):
    query_class = TrendsApiQuery
    csv_filename = "trends.csv"

    @document(
        TrendsApiQuery,
        s.TrendsSerializer,
        "One feature (and action, detail) per day, ISO week or month; events or distinct users",
        "trends",
    )
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.trend_people(query))
        series = selectors.trend_series(query)
        data = {
            "interval": query.interval.value,
            "measure": query.measure.value,
            **query.period.as_dict(),
            "series": [
                {"group": t.group, "points": [{"bucket": p.bucket.isoformat(), "value": p.value} for p in t.points]}
                for t in series
            ],
            "annotations": annotations_for(query),
        }
        rows = [
            {"group": t["group"] if t["group"] is not None else "", "bucket": p["bucket"], "value": p["value"]}
            for t in data["series"]
            for p in t["points"]
        ]
        return self.table_response(data, rows)


class HubPopularityView(WorkspaceAPIView):
    query_class = PopularityQuery
    csv_filename = "popularity.csv"

    @document(
        PopularityQuery, s.PopularitySerializer, "Distinct users and interactions per feature, most users first", "hub"
    )
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.popularity_people(query))
        rows = [asdict(p) for p in selectors.feature_popularity(query)]
        return self.table_response({"features": rows}, rows, ["feature", "users", "interactions"])


class HubFrequencyView(WorkspaceAPIView):
    query_class = FrequencyQuery
    csv_filename = "frequency.csv"

    @document(FrequencyQuery, s.FrequencySerializer, "Users of one feature bucketed by their number of events", "hub")
    def get(self, request: Request, slug: str) -> Response:
        query = self.parse_query()
        if query.people:  # drill-down (docs/drilldown.md)
            return people_response(self, query, lambda: people.frequency_people(query))
        rows = [asdict(b) for b in selectors.feature_frequency(query)]
        return self.table_response({"feature": query.feature.key, "buckets": rows}, rows)
