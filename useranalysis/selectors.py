"""Reads of the User analysis tab: one row of metrics per CRM user, and filter-set results.

Every figure comes from the rollups, read at the coarsest grain that answers it: the UserMonth bits
for attendance, month totals plus the fewest UserDay rows for sessions and interactions, the
UserFeatureMonth bits for features used, and per-user feature totals (or the finest grain, for an
action) for feature-usage conditions. One grouped query per metric for the whole workspace, so the
cost follows the number of users and months, not the number of events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet, Sum

from events.filters import filter_crm_users
from events.models import CrmUser, Feature, UserDay, UserFeatureDay, UserFeatureDayTotal
from events.periods import Period, change_pct
from events.selectors import (
    active_days_by_user,
    feature_events_by_user,
    feature_use_counts,
    last_seen_at,
    user_period_totals,
)
from tenancy.models import Workspace

UserFilters = dict[str, list[str]]

USER_METRICS = (
    "attendance_days",
    "attendance_change_pct",
    "last_seen",
    "session_count",
    "session_minutes",
    "interactions",
    "features_used",
)
USER_ATTRIBUTES = ("external_id", "email", "name", "language", "country", "timezone", "status")
GROUP_BY_ATTRIBUTES = ("language", "country", "timezone", "status", "role")
ACTIVITY_METRICS = (
    "last_seen_days",
    "session_minutes",
    "session_count",
    "attendance_days",
    "interactions",
    "features_used",
)
OPERATORS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
}


@dataclass
class UserRow:
    id: int
    external_id: str
    email: str
    name: str
    language: str
    country: str
    timezone: str
    status: str
    role: str
    attendance_days: int = 0
    attendance_change_pct: float | None = None
    last_seen: datetime | None = None
    session_count: int = 0
    session_minutes: float = 0.0
    interactions: int = 0
    features_used: int = 0
    previous_attendance_days: int = 0
    session_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        # Every field is a plain value: a shallow copy (``asdict`` deep-copies, a third of the time
        # of a 2,000-row answer).
        return {
            k: v
            for k, v in vars(self).items()
            if k not in ("id", "role", "previous_attendance_days", "session_seconds")
        }


# The metrics that cost the most per user, which a paginated table fills only for the rows it shows
# (``user_rows(defer=True)`` then ``user_rows_complete`` on the page) unless it sorts by them.
DEFERRABLE_METRICS = ("last_seen", "features_used")


def can_defer(ordering: str) -> bool:
    return ordering.lstrip("-") not in DEFERRABLE_METRICS


def user_rows(
    *,
    workspace: Workspace,
    period: Period,
    filters: UserFilters | None = None,
    users: QuerySet[CrmUser] | None = None,
    defer: bool = False,
) -> list[UserRow]:
    """Every CRM user of the workspace (whatever their status or registration), narrowed by the user
    filters (and ``users``, e.g. a search), with their metrics for the period, by external id.

    Attendance (this period and the previous) comes from the UserMonth bits, interactions and
    sessions from ``user_period_totals``, last seen from one index probe per user: nothing here
    reads more rows when users are active on more days."""
    scope = filter_crm_users(users if users is not None else CrmUser.objects.filter(workspace=workspace), filters or {})
    columns = ("id", "external_id", "email", "name", "language", "country", "timezone", "status", "role")
    rows = {u["id"]: UserRow(**u) for u in scope.values(*columns)}
    if not rows:
        return []
    # Narrow the rollup queries to the scope only when it is much narrower than the workspace: else
    # reading every user's rows and keeping the scope's is cheaper than the join. (Each figure below
    # is looked up by the scope's ids.)
    narrowed = None
    if (filters or users is not None) and len(rows) * 2 < CrmUser.objects.filter(workspace=workspace).count():
        narrowed = Q(crm_user__in=scope.values("id"))
    attendance, previous_attendance = active_days_by_user(
        workspace=workspace, periods=[period, period.previous()], narrow=narrowed
    )
    totals = user_period_totals(workspace=workspace, period=period, narrow=narrowed, active=attendance)
    for user_id, row in rows.items():
        figures = totals.get(user_id)
        if figures:
            row.attendance_days = figures.active_days
            row.interactions = figures.events
            row.session_count = figures.sessions
            row.session_seconds = figures.session_seconds
            row.session_minutes = round(row.session_seconds / 60, 1)
        row.previous_attendance_days = previous_attendance.get(user_id, 0)
        row.attendance_change_pct = change_pct(row.attendance_days, row.previous_attendance_days)
    if not defer:
        user_rows_complete(workspace=workspace, period=period, rows=list(rows.values()), narrow=narrowed)
    return sorted(rows.values(), key=lambda r: r.external_id)


def user_rows_complete(*, workspace: Workspace, period: Period, rows: list[UserRow], narrow: Q | None = None) -> None:
    """Fill in the deferred metrics (last seen, features used) of these rows, e.g. one page."""
    if not rows:
        return
    if narrow is None and len(rows) <= 500:  # a page: read its users' rows only
        narrow = Q(crm_user__in=[r.id for r in rows])
    seen = last_seen_at(workspace=workspace, as_of=period.end, user_ids=[r.id for r in rows])
    features = feature_use_counts(workspace=workspace, period=period, per="crm_user_id", narrow=narrow)
    tz = workspace.tzinfo
    for row in rows:
        row.last_seen = seen[row.id].astimezone(tz) if row.id in seen else None
        row.features_used = features.get(row.id, 0)


def sort_rows(rows: list[UserRow], ordering: str) -> list[UserRow]:
    """Sort by one column (``-`` for descending); users without a value (never seen, no previous
    attendance) come last either way; ties by external id."""
    descending = ordering.startswith("-")
    key = ordering.lstrip("-")
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: r.external_id)
    present.sort(key=lambda r: getattr(r, key), reverse=descending)
    return present + missing


# --- filter sets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityCondition:
    metric: str
    op: str
    value: float


@dataclass(frozen=True)
class FeatureCondition:
    feature: Feature
    used: bool = True
    action: str = ""
    min_count: int = 1


@dataclass(frozen=True)
class Conditions:
    activity: list[ActivityCondition] = field(default_factory=list)
    features: list[FeatureCondition] = field(default_factory=list)
    users: UserFilters = field(default_factory=dict)


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
    if metric == "session_minutes":
        return row.session_minutes
    if metric == "session_count":
        return row.session_count
    return getattr(row, metric)


def _activity_holds(row: UserRow, condition: ActivityCondition, as_of: date, tz: Any) -> bool:
    value = _activity_value(row, condition.metric, as_of, tz)
    if value is None:
        # Never seen: infinitely long ago, so only "more than N days ago" can hold.
        return condition.metric == "last_seen_days" and condition.op in (">", ">=")
    return OPERATORS[condition.op](value, condition.value)


def _feature_counts(workspace: Workspace, period: Period, condition: FeatureCondition) -> dict[int, int]:
    if not condition.action:  # every action: month totals and the fewest daily rows
        return feature_events_by_user(workspace=workspace, period=period, feature=condition.feature)
    qs = UserFeatureDay.objects.filter(
        workspace=workspace, feature=condition.feature, action=condition.action, day__range=(period.start, period.end)
    )
    return {r["crm_user"]: r["n"] for r in qs.values("crm_user").annotate(n=Sum("events")).order_by()}


def filter_set_result(
    *,
    workspace: Workspace,
    period: Period,
    conditions: Conditions,
    group_by: str | None = None,
    complete: bool = True,
) -> FilterSetResult:
    """The users of the workspace passing the user filters (the total), those of them meeting every
    activity and feature condition (the matched), and the same per value of ``group_by``.

    With ``complete=False`` the matched users' last seen and features used may be left unfilled
    (``FilterSetResult.complete`` says whether they were), for a caller that shows one page."""
    needs_deferred = any(c.metric in ("last_seen_days", "features_used") for c in conditions.activity)
    rows = user_rows(workspace=workspace, period=period, filters=conditions.users, defer=not needs_deferred)
    tz = workspace.tzinfo
    usage = [(c, _feature_counts(workspace, period, c)) for c in conditions.features]

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
        user_rows_complete(workspace=workspace, period=period, rows=matched)
    groups: list[GroupResult] = []
    if group_by:
        totals: dict[str, int] = defaultdict(int)
        hits: dict[str, int] = defaultdict(int)
        for r in rows:
            totals[getattr(r, group_by)] += 1
        for r in matched:
            hits[getattr(r, group_by)] += 1
        groups = [
            GroupResult(g, hits[g], totals[g], share_pct(hits[g], totals[g]))
            for g in sorted(totals, key=lambda g: (-hits[g], -totals[g], g))
        ]
    return FilterSetResult(
        len(rows), len(matched), share_pct(len(matched), len(rows)), matched, groups, complete or needs_deferred
    )


def features_of_user(*, workspace: Workspace, crm_user: CrmUser, period: Period) -> tuple[dict[str, int], list[str]]:
    """The user's interactions per feature in the period, and the catalog features they did not use."""
    used = dict(
        UserFeatureDayTotal.objects.filter(
            workspace=workspace, crm_user=crm_user, day__range=(period.start, period.end)
        )
        .values("feature__key")
        .annotate(n=Sum("events"))
        .order_by("-n", "feature__key")
        .values_list("feature__key", "n")
    )
    unused = list(
        Feature.objects.filter(workspace=workspace).exclude(key__in=used).order_by("key").values_list("key", flat=True)
    )
    return used, unused


def user_daily_activity(*, workspace: Workspace, crm_user: CrmUser, period: Period) -> list[tuple[date, int]]:
    counts = dict(
        UserDay.objects.filter(
            workspace=workspace, crm_user=crm_user, day__range=(period.start, period.end)
        ).values_list("day", "events")
    )
    return [(d, counts.get(d, 0)) for d in period.dates()]
