"""Reads of the Home tab (docs/metrics.md#home). Every figure on the page, in the API and in CSV exports
comes from one of these functions, and each reads rollups only (never the raw events table): one
WorkspaceDay row a day for the workspace's totals, the UserMonth bits for who was active and how
many days, month totals plus the fewest UserDay rows for per-user sums. Filtered by user
attributes, the per-day figures read the filtered users' UserDay rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet, Sum

from core.queries import PeriodQuery
from events.filters import crm_user_condition, filter_crm_users
from events.models import CrmUser, FeatureDay, UserDay, WorkspaceDay
from events.periods import Interval, Period, bucket_start, change_pct, week_start
from events.selectors import active_days_by_user, events_by_user, feature_use_in_period, first_active_day
from tenancy.models import Workspace

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from views_home.queries import TopUsersQuery, WeeksQuery

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
    # False when the previous period starts before the workspace's first event: its figures are then
    # partly "before the CRM sent anything", and a change against them would mislead.
    comparable: bool = True

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
    condition = crm_user_condition(workspace, filters)
    return qs if condition is None else qs.filter(condition)


def user_days(*, workspace: Workspace, period: Period, filters: UserFilters | None = None) -> QuerySet[UserDay]:
    qs = UserDay.objects.filter(workspace=workspace, day__range=(period.start, period.end))
    return _restrict_to_users(qs, workspace=workspace, filters=filters)


def _period_figures(
    workspace: Workspace, period: Period, filters: UserFilters | None, narrow: Q | None, active: dict[int, int]
) -> dict[int | str, int]:
    """The summary metrics of one period; ``active`` is its active days per user, ``narrow`` the
    filters as a condition on ``crm_user``."""
    if filters:  # the filtered users' sums, and their (user, feature) pairs for features used
        interactions = sum(events_by_user(workspace=workspace, period=period, narrow=narrow).values())
        pairs = _restrict_to_users(
            feature_use_in_period(workspace=workspace, period=period), workspace=workspace, filters=filters
        )
        features = pairs.aggregate(n=Count("feature", distinct=True))["n"]
    else:  # one row a day for the totals; feature·day rows for features used
        days = WorkspaceDay.objects.filter(workspace=workspace, day__range=(period.start, period.end))
        interactions = days.aggregate(n=Sum("events"))["n"] or 0
        features = FeatureDay.objects.filter(workspace=workspace, day__range=(period.start, period.end)).aggregate(
            n=Count("feature", distinct=True)
        )["n"]
    return {
        "interactions": interactions,
        "features_used": features or 0,
        "attendance_days": sum(active.values()),
        "active_users": len(active),
        "inactive_users": len(inactive_users(workspace, period, filters, active)),
    }


def inactive_users(
    workspace: Workspace, period: Period, filters: UserFilters | None, active: dict[int, int]
) -> list[int]:
    """The ids of the inactive users of the period: not deactivated, registered by its end, and not
    ``active`` (its active days per user) in it. The summary's figure and its drill-down."""
    candidates = (
        scoped_users(workspace=workspace, filters=filters)
        .exclude(status=CrmUser.Status.DEACTIVATED)
        .filter(Q(created_at__isnull=True) | Q(created_at__lt=period.end_utc))
        .values_list("id", flat=True)
    )
    return [user_id for user_id in candidates if user_id not in active]


def home_summary(query: PeriodQuery) -> HomeSummary:
    """The five summary metrics for the period, with the previous period and the change."""
    workspace, period, filters = query.workspace, query.period, query.filters
    previous = period.previous()
    narrow = crm_user_condition(workspace, filters)
    active_now, active_before = active_days_by_user(workspace=workspace, periods=[period, previous], narrow=narrow)
    now = _period_figures(workspace, period, filters, narrow, active_now)
    before = _period_figures(workspace, previous, filters, narrow, active_before)
    metrics = {
        name: Metric(now[name], before[name], change_pct(now[name], before[name])) for name in HomeSummary.METRICS
    }
    first = first_active_day(workspace=workspace)
    comparable = first is not None and previous.start >= first
    return HomeSummary(period=period, previous=previous, comparable=comparable, **metrics)


def _per_day(workspace: Workspace, period: Period, filters: UserFilters | None) -> dict[date, tuple[int, int]]:
    """(interactions, active users) per day with any: one WorkspaceDay row a day, or the filtered
    users' UserDay rows."""
    if not filters:
        rows = WorkspaceDay.objects.filter(workspace=workspace, day__range=(period.start, period.end))
        return {day: (events, users) for day, events, users in rows.values_list("day", "events", "users")}
    grouped = (
        user_days(workspace=workspace, period=period, filters=filters)
        .values("day")
        .annotate(n_events=Sum("events"), n_users=Count("id"))
        .values_list("day", "n_events", "n_users")
    )
    return {day: (events, users) for day, events, users in grouped}


def weeks_period(query: WeeksQuery) -> Period:
    """The days a weekly figure covers: the ``weeks`` Monday-starting weeks ending with the week of
    the period's last day (up to that day), or the period itself when ``weeks`` is None."""
    period = query.period
    if query.weeks is None:
        return period
    first = week_start(period.end) - timedelta(weeks=query.weeks - 1)
    return Period(first, period.end, period.tz)


def weekly_interactions(query: WeeksQuery) -> list[WeekCount]:
    """Interactions per Monday-starting week, oldest first, counting only the days of
    ``weeks_period``: a week cut by it counts its days inside, so the weeks add up to the period."""
    period = weeks_period(query)
    totals = dict.fromkeys(period.buckets(Interval.WEEK), 0)
    for day, (events, _) in _per_day(query.workspace, period, query.filters).items():
        totals[bucket_start(day, Interval.WEEK)] += events
    return [WeekCount(week, n) for week, n in totals.items()]


def attendance_calendar(query: WeeksQuery) -> list[DayCount]:
    """Active users per day, oldest first, over ``calendar_period``."""
    period = calendar_period(query)
    counts = _per_day(query.workspace, period, query.filters)
    return [DayCount(day, counts[day][1] if day in counts else 0) for day in period.dates()]


def calendar_period(query: WeeksQuery) -> Period:
    """The days of the attendance calendar: the ``weeks × 7`` days ending on the period's last day,
    or every day of the period when ``weeks`` is None."""
    period = query.period
    if query.weeks is not None:
        period = Period.ending(period.end, query.weeks * 7, period.tz)
    return period


def top_users(query: TopUsersQuery) -> list[TopUser]:
    """The users with the most interactions (or active days) in the period; ties by external id."""
    workspace, period, filters, by, limit = query.workspace, query.period, query.filters, query.by, query.limit
    narrow = crm_user_condition(workspace, filters)
    if by == "interactions":
        values = events_by_user(workspace=workspace, period=period, narrow=narrow)
    else:
        (values,) = active_days_by_user(workspace=workspace, periods=[period], narrow=narrow)
    # Only the users who can make the list: those at or above the limit-th value (ties included).
    cutoff = sorted(values.values(), reverse=True)[limit - 1] if len(values) >= limit else 0
    contenders = [user_id for user_id, value in values.items() if value >= cutoff]
    people = CrmUser.objects.filter(id__in=contenders).values_list("id", "external_id", "email", "name")
    ranked = sorted(people, key=lambda p: (-values[p[0]], p[1]))[:limit]
    return [TopUser(external_id, email, name, values[user_id]) for user_id, external_id, email, name in ranked]
