"""One row of metrics per CRM user (docs/metrics.md#the-user-table), for the users table, a user's
page and a filter set's matched users.

Every figure comes from the rollups, read at the coarsest grain that answers it: the UserMonth bits
for attendance, month totals plus the fewest UserDay rows for sessions and interactions, the
UserFeatureMonth bits for features used. One grouped query per metric for the whole workspace, so the
cost follows the number of users and months, not the number of events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from core.queries import PeriodQuery
from events.filters import filter_crm_users
from events.models import CrmUser
from events.periods import change_pct
from events.selectors import (
    active_days_by_user,
    crm_users_matching,
    feature_use_counts,
    last_seen_at,
    user_period_totals,
)
from tenancy.scoping import in_workspace
from useranalysis.queries import UsersQuery


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


ROW_COLUMNS = ("id", "external_id", "email", "name", "language", "country", "timezone", "status", "role")

# The metrics that cost the most per user, which a paginated table fills only for the rows it shows
# (``user_rows(defer=True)`` then ``user_rows_complete`` on the page) unless it sorts by them.
DEFERRABLE_METRICS = ("last_seen", "features_used")


def can_defer(ordering: str) -> bool:
    return ordering.lstrip("-") not in DEFERRABLE_METRICS


def user_rows(query: UsersQuery, *, defer: bool = False) -> list[UserRow]:
    """Every CRM user of the workspace (whatever their status or registration), narrowed by the user
    filters and the search, with their metrics for the period, by external id."""
    users = in_workspace(CrmUser, query.workspace)
    if query.search:  # the same match as the ``users`` endpoint's (docs/api.md#users-table)
        users = crm_users_matching(users, query.search)
    return rows_of(
        query, filter_crm_users(users, query.filters), subset=bool(query.search or query.filters), defer=defer
    )


def rows_of(query: PeriodQuery, users: QuerySet[CrmUser], *, subset: bool, defer: bool = False) -> list[UserRow]:
    """The rows of ``users`` (a ``subset`` of the workspace's, or all of them) for the query's period.

    Attendance (this period and the previous) comes from the UserMonth bits, interactions and
    sessions from ``user_period_totals``, last seen from one index probe per user: nothing here
    reads more rows when users are active on more days."""
    workspace, period = query.workspace, query.period
    rows = {u["id"]: UserRow(**u) for u in users.values(*ROW_COLUMNS)}
    if not rows:
        return []
    # Narrow the rollup queries to the subset only when it is much smaller than the workspace: else
    # reading every user's rows and keeping the subset's is cheaper than the join. (Each figure below
    # is looked up by the subset's ids.)
    narrowed = None
    if subset and len(rows) * 2 < in_workspace(CrmUser, workspace).count():
        narrowed = Q(crm_user__in=users.values("id"))
    attendance, previous = active_days_by_user(
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
        row.previous_attendance_days = previous.get(user_id, 0)
        row.attendance_change_pct = change_pct(row.attendance_days, row.previous_attendance_days)
    if not defer:
        user_rows_complete(query, list(rows.values()), narrow=narrowed)
    return sorted(rows.values(), key=lambda r: r.external_id)


def user_rows_complete(query: PeriodQuery, rows: list[UserRow], *, narrow: Q | None = None) -> None:
    """Fill in the deferred metrics (last seen, features used) of these rows, e.g. one page."""
    if not rows:
        return
    workspace, period = query.workspace, query.period
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
