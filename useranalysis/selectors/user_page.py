"""What a CRM user's page reads (docs/metrics.md#the-user-page): their row of metrics, their
interactions per feature and per day, and their sessions, over the query's period."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet, Sum

from events.models import CrmUser, Event, Feature, Session, UserDay, UserFeatureDayTotal
from tenancy.scoping import in_workspace
from useranalysis.queries import UserEventsQuery, UserQuery
from useranalysis.selectors.users import UserRow, rows_of


def user_row(query: UserQuery) -> UserRow:
    """The user's own row: no filter or search narrows it."""
    users = in_workspace(CrmUser, query.workspace).filter(pk=_user(query).pk)
    return rows_of(query, users, subset=True)[0]


def features_of_user(query: UserQuery) -> tuple[dict[str, int], list[str]]:
    """The user's interactions per feature in the period (most first), and the catalog features they
    did not use."""
    period = query.period
    used = dict(
        in_workspace(UserFeatureDayTotal, query.workspace)
        .filter(crm_user=_user(query), day__range=(period.start, period.end))
        .values("feature__key")
        .annotate(n=Sum("events"))
        .order_by("-n", "feature__key")
        .values_list("feature__key", "n")
    )
    unused = list(
        in_workspace(Feature, query.workspace).exclude(key__in=used).order_by("key").values_list("key", flat=True)
    )
    return used, unused


def user_daily_activity(query: UserQuery) -> list[tuple[date, int]]:
    """Interactions per day of the period, every day present (zeros included)."""
    period = query.period
    counts = dict(
        in_workspace(UserDay, query.workspace)
        .filter(crm_user=_user(query), day__range=(period.start, period.end))
        .values_list("day", "events")
    )
    return [(d, counts.get(d, 0)) for d in period.dates()]


def user_sessions(query: UserQuery, limit: int) -> list[Session]:
    """The sessions that start in the period, newest first, at most ``limit``."""
    period = query.period
    sessions = in_workspace(Session, query.workspace).filter(
        crm_user=_user(query), day__range=(period.start, period.end)
    )
    return list(sessions.order_by("-started_at", "-pk")[:limit])


def _user(query: UserQuery) -> CrmUser:
    assert query.crm_user is not None, "the view looks the user up through the scope"
    return query.crm_user


def user_events(query: UserEventsQuery) -> QuerySet[Event]:
    """The user's raw events in the period, newest first (ties: the later stored first), with their
    feature: the one place that reads events row by row, through the ``(crm_user, occurred_at)``
    index; the caller pages it."""
    assert query.crm_user is not None
    period = query.period
    events = in_workspace(Event, query.workspace).filter(
        crm_user=query.crm_user, occurred_at__gte=period.start_utc, occurred_at__lt=period.end_utc
    )
    if query.feature is not None:
        events = events.filter(feature=query.feature)
    return events.select_related("feature").order_by("-occurred_at", "-id")
