"""Who was active on which days, for the cohort figures (retention, lifecycle, stickiness): from the
coarsest grain that answers. Any event: ``UserMonth`` (a bitmask of each user's active days per
month); one feature: ``UserFeatureMonth`` (the same per feature); a feature and an action: the finest
``UserFeatureDay`` rows. So a question reads users × months rows, not events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Min, Q, QuerySet

from core.queries import UserFilters
from events.filters import crm_user_condition
from events.models import Feature, UserFeatureDay, UserFeatureMonth, UserMonth
from events.periods import month_days, month_end, months_between
from tenancy.models import Workspace


@dataclass(frozen=True)
class EventSpec:
    """Which events make a user active: any (no feature), one feature's, or one feature·action's."""

    feature: Feature | None = None
    action: str = ""

    def label(self) -> str:
        if self.feature is None:
            return ""
        return f"{self.feature.key}/{self.action}" if self.action else self.feature.key


ActiveDays = dict[int, set[date]]  # CRM user id → local days with a matching event


def _narrow[Q_T: QuerySet](rows: Q_T, workspace: Workspace, spec: EventSpec, filters: UserFilters) -> Q_T:
    rows = rows.filter(workspace=workspace)
    if spec.feature is not None:
        rows = rows.filter(feature=spec.feature)
    if spec.action:
        rows = rows.filter(action=spec.action)
    condition: Q | None = crm_user_condition(workspace, filters)
    return rows.filter(condition) if condition is not None else rows


def _month_rows(workspace: Workspace, spec: EventSpec, filters: UserFilters) -> QuerySet[Any]:
    rows: QuerySet[Any] = UserMonth.objects.all() if spec.feature is None else UserFeatureMonth.objects.all()
    return _narrow(rows, workspace, spec, filters)


def active_days(workspace: Workspace, spec: EventSpec, first: date, last: date, filters: UserFilters) -> ActiveDays:
    """The days first..last on which each user had a matching event."""
    days: ActiveDays = defaultdict(set)
    if first > last:
        return days
    if spec.action:
        finest = _narrow(UserFeatureDay.objects.all(), workspace, spec, filters).filter(day__range=(first, last))
        for user_id, day in finest.values_list("crm_user_id", "day").distinct().iterator(chunk_size=10_000):
            days[user_id].add(day)
        return days
    months = months_between(first, last)
    rows = _month_rows(workspace, spec, filters).filter(month__range=(months[0], months[-1]))
    # One user may have several feature·month rows only when the feature is not fixed; it is here.
    for user_id, month, mask in rows.values_list("crm_user_id", "month", "days").iterator(chunk_size=10_000):
        for day in month_days(month, max(first, month), min(last, month_end(month))):
            if mask >> (day.day - 1) & 1:
                days[user_id].add(day)
    return days


def first_days(workspace: Workspace, spec: EventSpec, filters: UserFilters) -> dict[int, date]:
    """Each user's first day with a matching event, over all the stored history."""
    if spec.action:
        finest = _narrow(UserFeatureDay.objects.all(), workspace, spec, filters)
        return dict(finest.values("crm_user_id").annotate(first=Min("day")).values_list("crm_user_id", "first"))
    firsts = _month_rows(workspace, spec, filters).values("crm_user_id").annotate(first=Min("month"))
    first_month = dict(firsts.values_list("crm_user_id", "first"))
    result: dict[int, date] = {}
    rows = _month_rows(workspace, spec, filters).filter(month__in=set(first_month.values()))
    for user_id, month, mask in rows.values_list("crm_user_id", "month", "days").iterator(chunk_size=10_000):
        if first_month.get(user_id) == month and mask:
            lowest = (mask & -mask).bit_length()  # the lowest set bit: the first active day of the month
            result[user_id] = month.replace(day=lowest)
    return result
