"""Reads of the Home tab (DESIGN.md §3–4). Every figure on the page, in the API and in CSV exports
comes from one of these functions, and each reads rollups only (never the raw events table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from django.db.models import Count, Q, QuerySet, Sum

from events.filters import filter_crm_users
from events.models import CrmUser, FeatureDay, UserDay, Workspace
from events.periods import Interval, Period, bucket_start, change_pct, week_start
from events.selectors import feature_use_in_period

UserFilters = dict[str, list[str]]


@dataclass(frozen=True)
class Metric:
    value: int
    previous: int
    change_pct: float | None


@dataclass(frozen=True)
class HomeSummary:
    period: Period
    previous: Period
    interactions: Metric
    features_used: Metric
    attendance_days: Metric
    active_users: Metric
    inactive_users: Metric

    METRICS = ("interactions", "features_used", "attendance_days", "active_users", "inactive_users")


@dataclass(frozen=True)
class WeekCount:
    week_start: date
    interactions: int


@dataclass(frozen=True)
class DayCount:
    date: date
    active_users: int


@dataclass(frozen=True)
class TopUser:
    external_id: str
    email: str
    name: str
    value: int


def scoped_users(*, workspace: Workspace, filters: UserFilters | None) -> QuerySet[CrmUser]:
    return filter_crm_users(CrmUser.objects.filter(workspace=workspace), filters or {})


def _restrict_to_users[Q_T: QuerySet](qs: Q_T, *, workspace: Workspace, filters: UserFilters | None) -> Q_T:
    if not filters:
        return qs
    return qs.filter(crm_user__in=scoped_users(workspace=workspace, filters=filters).values("id"))


def user_days(*, workspace: Workspace, period: Period, filters: UserFilters | None = None) -> QuerySet[UserDay]:
    qs = UserDay.objects.filter(workspace=workspace, day__range=(period.start, period.end))
    return _restrict_to_users(qs, workspace=workspace, filters=filters)


def _period_figures(workspace: Workspace, period: Period, filters: UserFilters | None) -> dict[str, int]:
    totals = user_days(workspace=workspace, period=period, filters=filters).aggregate(
        interactions=Sum("events"), attendance_days=Count("id"), active_users=Count("crm_user", distinct=True)
    )
    if filters:  # features used by the filtered users: the month bitmasks of their (user, feature) pairs
        pairs = _restrict_to_users(
            feature_use_in_period(workspace=workspace, period=period), workspace=workspace, filters=filters
        )
        features = pairs.aggregate(n=Count("feature", distinct=True))["n"]
    else:
        features = FeatureDay.objects.filter(workspace=workspace, day__range=(period.start, period.end)).aggregate(
            n=Count("feature", distinct=True)
        )["n"]
    active_ids = user_days(workspace=workspace, period=period, filters=filters).values("crm_user")
    # Inactive: not deactivated, registered by the end of the period, and no event in it.
    inactive = (
        scoped_users(workspace=workspace, filters=filters)
        .exclude(status=CrmUser.Status.DEACTIVATED)
        .filter(Q(created_at__isnull=True) | Q(created_at__lt=period.end_utc))
        .exclude(id__in=active_ids)
        .count()
    )
    return {
        "interactions": totals["interactions"] or 0,
        "features_used": features or 0,
        "attendance_days": totals["attendance_days"] or 0,
        "active_users": totals["active_users"] or 0,
        "inactive_users": inactive,
    }


def home_summary(*, workspace: Workspace, period: Period, filters: UserFilters | None = None) -> HomeSummary:
    """The five summary metrics for the period, with the previous period and the change."""
    previous = period.previous()
    now, before = _period_figures(workspace, period, filters), _period_figures(workspace, previous, filters)
    metrics = {
        name: Metric(now[name], before[name], change_pct(now[name], before[name])) for name in HomeSummary.METRICS
    }
    return HomeSummary(period=period, previous=previous, **metrics)


def _events_per_day(workspace: Workspace, period: Period, filters: UserFilters | None) -> dict[date, int]:
    rows = user_days(workspace=workspace, period=period, filters=filters).values("day").annotate(n=Sum("events"))
    return {row["day"]: row["n"] for row in rows}


def weekly_interactions(
    *, workspace: Workspace, as_of: date, weeks: int = 5, filters: UserFilters | None = None
) -> list[WeekCount]:
    """Interactions per Monday-starting week, oldest first; the last week holds as_of and is
    counted up to the end of as_of."""
    first = week_start(as_of) - timedelta(weeks=weeks - 1)
    period = Period(first, as_of, workspace.tzinfo)
    totals = dict.fromkeys(period.buckets(Interval.WEEK), 0)
    for day, n in _events_per_day(workspace, period, filters).items():
        totals[bucket_start(day, Interval.WEEK)] += n
    return [WeekCount(week, n) for week, n in totals.items()]


def attendance_calendar(
    *, workspace: Workspace, as_of: date, weeks: int = 5, filters: UserFilters | None = None
) -> list[DayCount]:
    """Active users per day for the ``weeks × 7`` days ending on as_of, oldest first."""
    period = Period.ending(as_of, weeks * 7, workspace.tzinfo)
    rows = user_days(workspace=workspace, period=period, filters=filters).values("day").annotate(n=Count("id"))
    counts = {row["day"]: row["n"] for row in rows}
    return [DayCount(day, counts.get(day, 0)) for day in period.dates()]


def top_users(
    *,
    workspace: Workspace,
    period: Period,
    by: Literal["interactions", "attendance"] = "interactions",
    limit: int = 10,
    filters: UserFilters | None = None,
) -> list[TopUser]:
    """The users with the most interactions (or active days) in the period; ties by external id."""
    value = Sum("events") if by == "interactions" else Count("id")
    rows = (
        user_days(workspace=workspace, period=period, filters=filters)
        .values("crm_user__external_id", "crm_user__email", "crm_user__name")
        .annotate(value=value)
        .order_by("-value", "crm_user__external_id")[:limit]
    )
    return [TopUser(r["crm_user__external_id"], r["crm_user__email"], r["crm_user__name"], r["value"]) for r in rows]
