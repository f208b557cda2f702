"""Who was active on which days, for the cohort figures (retention, lifecycle, stickiness): from the
coarsest grain that answers. Any event: ``UserMonth`` (a bitmask of each user's active days per
month); one feature: ``UserFeatureMonth`` (the same per feature); a feature and an action: the finest
``UserFeatureDay`` rows. So a question reads users × months rows, not events, and hands each user's
days on as one integer (bit i: day i of the range), which the figures count with bit operations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Min, Q, QuerySet

from core.queries import UserFilters
from events.filters import crm_user_condition
from events.models import Feature, UserFeatureDay, UserFeatureMonth, UserMonth
from events.periods import months_between
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


DayBits = dict[int, int]  # CRM user id → bit i set if the user had a matching event on day first + i


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


def _shifts(months: Iterable[date], origin: date) -> dict[date, tuple[int, int]]:
    """Per month, how to move its day bits (bit d − 1 for day d) to bit (day − origin).days: a right
    shift for a month that starts before origin (its earlier days drop out), then a left shift."""
    offsets = {month: (month - origin).days for month in months}
    return {month: (max(0, -offset), max(0, offset)) for month, offset in offsets.items()}


def active_day_bits(workspace: Workspace, spec: EventSpec, first: date, last: date, filters: UserFilters) -> DayBits:
    """Each user's days first..last with a matching event, as one integer (bit i: day first + i).

    A user·month row is one shift and one OR, whatever the number of active days in it; the days of
    the months cut by first..last are dropped by the shifts (before first) and a final mask (after
    last)."""
    bits: DayBits = {}
    if first > last:
        return bits
    span = (1 << ((last - first).days + 1)) - 1
    if spec.action:
        finest = _narrow(UserFeatureDay.objects.all(), workspace, spec, filters).filter(day__range=(first, last))
        # The finest rows are one per user and active day (what they are read for: one action).
        # The day's bit comes from a table of the range's days, not date arithmetic per row.
        index, day, offset = {}, first, 0
        while day <= last:
            index[day] = offset
            day, offset = day + timedelta(days=1), offset + 1
        for user_id, day in finest.values_list("crm_user_id", "day").distinct().iterator(chunk_size=10_000):
            bits[user_id] = bits.get(user_id, 0) | 1 << index[day]
        return bits
    months = months_between(first, last)
    shifts = _shifts(months, first)
    rows = _month_rows(workspace, spec, filters).filter(month__range=(months[0], months[-1]))
    # One row per user and month: UserMonth's key, and UserFeatureMonth's with the feature fixed.
    # Fetched at once, not through a server-side cursor, whose extra round trips cost as much as the
    # rows: they are users × months, not events (the finest rows above may be many more).
    for user_id, month, mask in rows.values_list("crm_user_id", "month", "days"):
        right, left = shifts[month]
        bits[user_id] = bits.get(user_id, 0) | (mask >> right) << left
    return {user_id: mask & span for user_id, mask in bits.items() if mask & span}


def first_day_offsets(workspace: Workspace, spec: EventSpec, filters: UserFilters, origin: date) -> dict[int, int]:
    """Each user's first day with a matching event, over all the stored history, as its distance in
    days from ``origin`` (negative before it)."""
    if spec.action:
        finest = _narrow(UserFeatureDay.objects.all(), workspace, spec, filters)
        firsts = finest.values("crm_user_id").annotate(first=Min("day")).values_list("crm_user_id", "first")
        return {user_id: (day - origin).days for user_id, day in firsts}
    rows = _month_rows(workspace, spec, filters)
    first_month: dict[int, date] | None = None
    if connection.features.can_distinct_on_fields:
        # PostgreSQL: each user's earliest row in one sorted pass (twice as fast as the two queries
        # below, the second of which also fetches the other users' rows of those months).
        firsts = rows.order_by("crm_user_id", "month").distinct("crm_user_id")
    else:
        first_month = dict(rows.values("crm_user_id").annotate(first=Min("month")).values_list("crm_user_id", "first"))
        firsts = rows.filter(month__in=set(first_month.values()))
    offsets: dict[date, int] = {}  # per month, not per user: few distinct months
    result: dict[int, int] = {}
    for user_id, month, mask in firsts.values_list("crm_user_id", "month", "days"):
        if not mask or (first_month is not None and first_month.get(user_id) != month):
            continue
        if month not in offsets:
            offsets[month] = (month - origin).days
        # The lowest set bit is the first active day of the month (bit 0: the 1st).
        result[user_id] = offsets[month] + (mask & -mask).bit_length() - 1
    return result
