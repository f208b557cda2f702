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
    workspace, feature, period, filters = query.workspace, query.feature, query.period, query.filters
    interval, measure, action, detail = query.interval, query.measure, query.action, query.detail
    group_by = query.group_by or None
    if group_by is not None and group_by not in GROUP_BY_ATTRIBUTES:
        raise ValueError(f"Cannot group by {group_by!r}.")
    # The coarsest grain that answers: per feature and day when no user is singled out (a day's
    # distinct users too), per user without actions when users matter, the finest for an action.
    qs: QuerySet[Any]
    per_feature_day = not (action or filters or group_by) and (measure is Measure.EVENTS or interval is Interval.DAY)
    if per_feature_day:
        qs = feature_day_totals(workspace=workspace, period=period, features=[feature])
    elif not action:
        qs = user_feature_totals(workspace=workspace, period=period, filters=filters, features=[feature])
    else:
        qs = feature_days(workspace=workspace, period=period, filters=filters, features=[feature]).filter(action=action)
        if detail:
            qs = qs.filter(detail=detail)
    bucket = Trunc("day", interval.value, output_field=DateField())
    keys = {"bucket": bucket, **({"group": F(f"crm_user__{group_by}")} if group_by else {})}
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
