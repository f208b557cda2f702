"""Home endpoints (API.md): thin views over ``views_home.selectors``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ERROR_RESPONSES, WorkspaceAPIView
from events.periods import Period
from views_home import selectors
from views_home.api import serializers as s

F = TypeVar("F", bound=Callable[..., Any])

FORMAT_PARAM = OpenApiParameter("format", str, enum=["json", "csv"], description="csv downloads the table.")


def _schema(query: type, response: type, summary: str) -> Callable[[F], F]:
    return extend_schema(
        parameters=[query, FORMAT_PARAM], responses={200: response, **ERROR_RESPONSES}, summary=summary, tags=["home"]
    )


class HomeSummaryView(WorkspaceAPIView):
    query_serializer_class = s.PeriodQuerySerializer
    csv_filename = "summary.csv"

    @_schema(s.PeriodQuerySerializer, s.SummarySerializer, "The five summary metrics with the previous period")
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        period = Period.ending(q["as_of"], q["days"], self.workspace.tzinfo)
        summary = selectors.home_summary(workspace=self.workspace, period=period, filters=q["filters"])
        metrics = {name: asdict(getattr(summary, name)) for name in summary.METRICS}
        data = {"period": summary.period.as_dict(), "previous": summary.previous.as_dict(), "metrics": metrics}
        rows = [{"metric": name, **values} for name, values in metrics.items()]
        return self.table_response(data, rows)


class WeeklyInteractionsView(WorkspaceAPIView):
    query_serializer_class = s.WeeksQuerySerializer
    csv_filename = "weekly-interactions.csv"

    @_schema(s.WeeksQuerySerializer, s.WeeklySerializer, "Interactions per week (weeks start on Monday)")
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        weeks = selectors.weekly_interactions(
            workspace=self.workspace, as_of=q["as_of"], weeks=q["weeks"], filters=q["filters"]
        )
        rows = [{"week_start": w.week_start.isoformat(), "interactions": w.interactions} for w in weeks]
        return self.table_response({"weeks": rows}, rows)


class AttendanceCalendarView(WorkspaceAPIView):
    query_serializer_class = s.WeeksQuerySerializer
    csv_filename = "attendance-calendar.csv"

    @_schema(s.WeeksQuerySerializer, s.CalendarSerializer, "Active users per day for the last weeks × 7 days")
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        days = selectors.attendance_calendar(
            workspace=self.workspace, as_of=q["as_of"], weeks=q["weeks"], filters=q["filters"]
        )
        rows = [{"date": d.date.isoformat(), "active_users": d.active_users} for d in days]
        return self.table_response({"days": rows}, rows)


class TopUsersView(WorkspaceAPIView):
    query_serializer_class = s.TopUsersQuerySerializer
    csv_filename = "top-users.csv"

    @_schema(s.TopUsersQuerySerializer, s.TopUsersSerializer, "Top users by interactions or attendance")
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        period = Period.ending(q["as_of"], q["days"], self.workspace.tzinfo)
        users = selectors.top_users(
            workspace=self.workspace, period=period, by=q["by"], limit=q["limit"], filters=q["filters"]
        )
        rows = [asdict(u) for u in users]
        return self.table_response({"users": rows}, rows, ["external_id", "email", "name", "value"])


class ActivityFeaturesView(WorkspaceAPIView):
    query_serializer_class = s.ActivityQuerySerializer
    csv_filename = "activity.csv"

    @extend_schema(
        parameters=[s.ActivityQuerySerializer, FORMAT_PARAM],
        responses={200: s.ActivitySerializer, **ERROR_RESPONSES},
        summary="Interactions per feature over the period, with a daily series (every day present)",
        tags=["activity"],
    )
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        period = Period.ending(q["as_of"], q["days"], self.workspace.tzinfo)
        features = selectors.activity_features(
            workspace=self.workspace,
            period=period,
            filters=q["filters"],
            features=q["features"],
            crm_user=q["crm_user"],
        )
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
        return self.table_response({"features": data}, rows, ["feature", "date", "interactions"])


class TrendsView(WorkspaceAPIView):
    query_serializer_class = s.TrendsQuerySerializer
    csv_filename = "trends.csv"

    @extend_schema(
        parameters=[s.TrendsQuerySerializer, FORMAT_PARAM],
        responses={200: s.TrendsSerializer, **ERROR_RESPONSES},
        summary="One feature (and action, detail) per day, ISO week or month; events or distinct users",
        tags=["trends"],
    )
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        series = selectors.trend_series(
            workspace=self.workspace,
            feature=q["feature"],
            period=q["period"],
            interval=q["interval"],
            measure=q["measure"],
            action=q["action"],
            detail=q["detail"],
            group_by=q.get("group_by"),
            filters=q["filters"],
        )
        data = {
            "interval": q["interval"].value,
            "measure": q["measure"].value,
            **q["period"].as_dict(),
            "series": [
                {"group": t.group, "points": [{"bucket": p.bucket.isoformat(), "value": p.value} for p in t.points]}
                for t in series
            ],
        }
        rows = [
            {"group": t["group"] if t["group"] is not None else "", "bucket": p["bucket"], "value": p["value"]}
            for t in data["series"]
            for p in t["points"]
        ]
        return self.table_response(data, rows)


class HubPopularityView(WorkspaceAPIView):
    query_serializer_class = s.PopularityQuerySerializer
    csv_filename = "popularity.csv"

    @extend_schema(
        parameters=[s.PopularityQuerySerializer, FORMAT_PARAM],
        responses={200: s.PopularitySerializer, **ERROR_RESPONSES},
        summary="Distinct users and interactions per feature, most users first",
        tags=["hub"],
    )
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        popularity = selectors.feature_popularity(
            workspace=self.workspace, period=q["period"], features=q["features"], filters=q["filters"]
        )
        rows = [asdict(p) for p in popularity]
        return self.table_response({"features": rows}, rows, ["feature", "users", "interactions"])


class HubFrequencyView(WorkspaceAPIView):
    query_serializer_class = s.FrequencyQuerySerializer
    csv_filename = "frequency.csv"

    @extend_schema(
        parameters=[s.FrequencyQuerySerializer, FORMAT_PARAM],
        responses={200: s.FrequencySerializer, **ERROR_RESPONSES},
        summary="Users of one feature bucketed by their number of events",
        tags=["hub"],
    )
    def get(self, request: Request, slug: str) -> Response:
        q = self.get_query()
        buckets = selectors.feature_frequency(
            workspace=self.workspace, period=q["period"], feature=q["feature"], bounds=q["bounds"], filters=q["filters"]
        )
        rows = [asdict(b) for b in buckets]
        return self.table_response({"feature": q["feature"].key, "buckets": rows}, rows)
