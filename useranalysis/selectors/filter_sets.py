"""A filter set's result (docs/metrics.md#filter-sets): the users passing its user-attribute
conditions (the total), those of them meeting every activity and feature condition (the matched),
and the same per value of its group-by attribute.

Feature-usage conditions read per-user feature totals, or the finest grain for an action.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Sum

from events.filters import filter_crm_users
from events.models import CrmUser, UserFeatureDay
from events.selectors import feature_events_by_user
from tenancy.scoping import in_workspace
from useranalysis.queries import OPERATORS, ActivityCondition, FeatureCondition, FilterSetQuery
from useranalysis.selectors.users import UserRow, rows_of, user_rows_complete

# Activity metrics that need the deferred metrics of every user (not only of a page).
NEEDS_DEFERRED = ("last_seen_days", "features_used")


@dataclass(frozen=True)
class GroupResult:
    group: str
    matched: int
    total: int
    matched_pct: float | None


@dataclass(frozen=True)
class FilterSetResult:
    total_users: int
    matched: int
    matched_pct: float | None
    users: list[UserRow]
    groups: list[GroupResult]
    # False when the users' deferred metrics (last seen, features used) are left for the caller to
    # fill for the rows it shows (``user_rows_complete``), e.g. one page.
    complete: bool = True


def share_pct(part: int, whole: int) -> float | None:
    return round(part / whole * 100, 1) if whole else None


def _activity_value(row: UserRow, metric: str, as_of: date, tz: Any) -> float | None:
    if metric == "last_seen_days":
        return None if row.last_seen is None else (as_of - row.last_seen.astimezone(tz).date()).days
    value: float | None = getattr(row, metric)
    return value


def _activity_holds(row: UserRow, condition: ActivityCondition, as_of: date, tz: Any) -> bool:
    value = _activity_value(row, condition.metric, as_of, tz)
    if value is None:
        # Never seen: infinitely long ago, so only "more than N days ago" can hold.
        return condition.metric == "last_seen_days" and condition.op in (">", ">=")
    return OPERATORS[condition.op](value, condition.value)


def _feature_counts(query: FilterSetQuery, condition: FeatureCondition) -> dict[int, int]:
    workspace, period = query.workspace, query.period
    if not condition.action:  # every action: month totals and the fewest daily rows
        return feature_events_by_user(workspace=workspace, period=period, feature=condition.feature)
    qs = UserFeatureDay.objects.filter(
        workspace=workspace, feature=condition.feature, action=condition.action, day__range=(period.start, period.end)
    )
    return {r["crm_user"]: r["n"] for r in qs.values("crm_user").annotate(n=Sum("events")).order_by()}


def _groups(rows: list[UserRow], matched: list[UserRow], group_by: str) -> list[GroupResult]:
    totals: dict[str, int] = defaultdict(int)
    hits: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[getattr(r, group_by)] += 1
    for r in matched:
        hits[getattr(r, group_by)] += 1
    return [
        GroupResult(g, hits[g], totals[g], share_pct(hits[g], totals[g]))
        for g in sorted(totals, key=lambda g: (-hits[g], -totals[g], g))
    ]


def filter_set_result(query: FilterSetQuery, *, complete: bool = True) -> FilterSetResult:
    """The filter set's total, matched users and groups over the query's period.

    With ``complete=False`` the matched users' last seen and features used may be left unfilled
    (``FilterSetResult.complete`` says whether they were), for a caller that shows one page."""
    conditions, period, tz = query.conditions, query.period, query.workspace.tzinfo
    needs_deferred = any(c.metric in NEEDS_DEFERRED for c in conditions.activity)
    users = filter_crm_users(in_workspace(CrmUser, query.workspace), conditions.users)
    rows = rows_of(query, users, subset=bool(conditions.users), defer=not needs_deferred)
    usage = [(c, _feature_counts(query, c)) for c in conditions.features]

    def matches(row: UserRow) -> bool:
        if not all(_activity_holds(row, c, period.end, tz) for c in conditions.activity):
            return False
        for condition, counts in usage:
            n = counts.get(row.id, 0)
            if condition.used and n < condition.min_count:
                return False
            if not condition.used and n > 0:
                return False
        return True

    matched = [r for r in rows if matches(r)]
    if complete and not needs_deferred:  # the matched users are listed with every metric
        user_rows_complete(query, matched)
    groups = _groups(rows, matched, query.group_by) if query.group_by else []
    return FilterSetResult(
        len(rows), len(matched), share_pct(len(matched), len(rows)), matched, groups, complete or needs_deferred
    )
