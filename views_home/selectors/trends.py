"""Trends tab: one feature (optionally one action and detail) per day, ISO week or month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Count, DateField, F, QuerySet, Sum
from django.db.models.functions import Trunc

from core.attributes import GROUP_BY_ATTRIBUTES
from events.periods import Interval
from views_home.selectors.common import feature_day_totals, feature_days, user_feature_totals

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from views_home.queries import TrendsQuery


class Measure(StrEnum):
    EVENTS = "events"
    USERS = "users"


@dataclass(frozen=True)
class TrendPoint:
    bucket: date
    value: int


@dataclass(frozen=True)
class TrendSeries:
    group: str | None
    points: list[TrendPoint]

    @property
    def total(self) -> int:
        return sum(p.value for p in self.points)


def trend_series(query: TrendsQuery) -> list[TrendSeries]:
    """Events (or distinct users) per bucket, every bucket of the period present.

    A week bucket is named by its Monday and a month bucket by its first day, even when the period
    starts mid-way; only days inside the period count. ``measure=users`` counts each user once per
    bucket (not once per day). With ``group_by`` there is one series per attribute value seen, the
    busiest first; without it a single series whose group is None.
    """
    period, filters = query.period, query.filters
    interval, measure, action = query.interval, query.measure, query.action
    group_by = query.group_by or None
    if group_by is not None and group_by not in GROUP_BY_ATTRIBUTES:
        raise ValueError(f"Cannot group by {group_by!r}.")
    # The coarsest grain that answers: per feature and day when no user is singled out (a day's
    # distinct users too), per user without actions when users matter, the finest for an action.
    per_feature_day = not (action or filters or group_by) and (measure is Measure.EVENTS or interval is Interval.DAY)
    qs = _trend_rows(query, per_feature_day=per_feature_day)
    keys = _trend_keys(query)
    if measure is Measure.EVENTS:
        value: Any = Sum("events")
    else:
        value = Sum("users") if per_feature_day else Count("crm_user", distinct=True)
    rows = qs.annotate(**keys).values(*keys).annotate(value=value).order_by()

    values: dict[str | None, dict[date, int]] = defaultdict(dict)
    for row in rows:
        values[row.get("group")][row["bucket"]] = row["value"]
    if group_by is None:
        values.setdefault(None, {})
    buckets = period.buckets(interval)
    series = [
        TrendSeries(group, [TrendPoint(b, counts.get(b, 0)) for b in buckets]) for group, counts in values.items()
    ]
    return sorted(series, key=lambda s: (-s.total, s.group or ""))


def _trend_rows(query: TrendsQuery, *, per_feature_day: bool) -> QuerySet[Any]:
    """The rows a trend sums: per feature and day (no user singled out), per user, feature and day,
    or the finest rows for an action (and detail)."""
    workspace, feature, period, filters = query.workspace, query.feature, query.period, query.filters
    if per_feature_day:
        return feature_day_totals(workspace=workspace, period=period, features=[feature])
    if not query.action:
        return user_feature_totals(workspace=workspace, period=period, filters=filters, features=[feature])
    qs = feature_days(workspace=workspace, period=period, filters=filters, features=[feature]).filter(
        action=query.action
    )
    return qs.filter(detail=query.detail) if query.detail else qs


def _trend_keys(query: TrendsQuery) -> dict[str, Any]:
    bucket = Trunc("day", query.interval.value, output_field=DateField())
    return {"bucket": bucket, **({"group": F(f"crm_user__{query.group_by}")} if query.group_by else {})}


def trend_point_users(query: TrendsQuery, bucket: date, group: str | None) -> list[int]:
    """The users counted in one point of ``measure=users``: those with a row of the trend in the
    bucket (and of the group's attribute value), from the per-user rows whatever grain drew it."""
    keys = _trend_keys(query)
    rows = _trend_rows(query, per_feature_day=False).annotate(**keys).filter(bucket=bucket)
    if query.group_by:
        rows = rows.filter(group=group)
    return list(rows.values_list("crm_user", flat=True).distinct().order_by())
