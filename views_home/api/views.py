"""Home endpoints (API.md): thin views over ``views_home.selectors``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from crm_usage.api import ERROR_RESPONSES, WorkspaceAPIView
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
        return self.table_response({"users": rows}, rows)
