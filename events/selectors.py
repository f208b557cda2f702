"""Reads shared by several tabs, from the rollups."""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from events.models import (
    CrmUser,
    DirtyDay,
    Event,
    Feature,
    FeatureAction,
    FeatureDay,
    FeatureMonth,
    UserDay,
    UserFeatureMonth,
    UserMonth,
    WorkspaceDay,
)
from events.periods import MonthSplit, Period, month_days, month_end, month_mask, month_split, months_between
from tenancy.models import Workspace
from tenancy.scoping import in_workspace


@dataclass(frozen=True)
class DataState:
    has_events: bool
    rollups_pending: bool


def first_active_day(*, workspace: Workspace) -> date | None:
    """The workspace's first local day with events (from the daily rollup, so raw events dropped by
    retention still count); None before any."""
    return WorkspaceDay.objects.filter(workspace=workspace).order_by("day").values_list("day", flat=True).first()


def workspace_data_state(*, workspace: Workspace) -> DataState:
    """Whether there is anything to show, and whether rollups are still catching up.

    Existence checks on indexed columns, not figures: they cost the same at any data volume.
    """
    return DataState(
        has_events=Event.objects.filter(workspace=workspace).exists(),
        rollups_pending=DirtyDay.objects.filter(workspace=workspace).exists(),
    )


def last_seen_by_user(
    *, workspace: Workspace, as_of: date, user_ids: Iterable[int] | None = None
) -> dict[int, datetime]:
    """Each user's latest event time at or before the end of ``as_of`` (local day): every user of
    the workspace, or those of ``user_ids`` (see ``last_seen_at``)."""
    if user_ids is None:
        user_ids = CrmUser.objects.filter(workspace=workspace).values_list("id", flat=True)
    return last_seen_at(workspace=workspace, as_of=as_of, user_ids=list(user_ids))


@dataclass(frozen=True)
class CatalogFeature:
    key: str
    name: str
    type: str
    auto_created: bool
    # action → the details seen with it ("" is the event without detail)
    actions: dict[str, list[str]]


def feature_catalog(*, workspace: Workspace) -> list[CatalogFeature]:
    """Every feature of the workspace with the actions and details seen for it (for the pickers)."""
    seen: dict[int, dict[str, list[str]]] = {}
    for feature_id, action, detail in FeatureAction.objects.filter(workspace=workspace).values_list(
        "feature_id", "action", "detail"
    ):
        seen.setdefault(feature_id, {}).setdefault(action, []).append(detail)
    return [
        CatalogFeature(f.key, f.name or f.key, f.type, f.auto_created, seen.get(f.id, {}))
        for f in Feature.objects.filter(workspace=workspace).order_by("key")
    ]


class UnknownStep(ValueError):
    """A feature, action or detail the workspace has never seen; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def feature_resolve(*, workspace: Workspace, key: str, action: str = "", detail: str = "") -> Feature:
    """The feature with this key, checking that the action (and detail) were seen with it.

    Raises ``UnknownStep`` naming the field at fault, for a 400 that says what is wrong.
    """
    feature = in_workspace(Feature, workspace).filter(key=key).first()
    if feature is None:
        raise UnknownStep("feature", _("Unknown feature: %(key)s.") % {"key": repr(key)})
    if action:
        combos = FeatureAction.objects.filter(feature=feature, action=action)
        if not combos.exists():
            raise UnknownStep(
                "action", _("No %(action)s action was seen for %(key)s.") % {"action": repr(action), "key": key}
            )
        if detail and not combos.filter(detail=detail).exists():
            raise UnknownStep(
                "detail",
                _("No %(action)s action with detail %(detail)s was seen for %(key)s.")
                % {"action": repr(action), "detail": repr(detail), "key": key},
            )
    elif detail:
        raise UnknownStep("detail", _("A detail needs an action."))
    return feature


def crm_user_find(*, workspace: Workspace, query: str) -> CrmUser | None:
    """The CRM user whose external id is ``query``, else the one whose email it is (case-insensitive).

    Raises ``UnknownStep('user', …)`` when an email is shared by several users, so the caller can ask
    for the external id instead.
    """
    users = in_workspace(CrmUser, workspace)
    found = users.filter(external_id=query).first()
    if found is not None:
        return found
    by_email = list(users.filter(email__iexact=query)[:2])
    if len(by_email) > 1:
        raise UnknownStep(
            "user", _("Several users have the email %(email)s; use the external id.") % {"email": repr(query)}
        )
    return by_email[0] if by_email else None


SUGGESTIONS = 10


def crm_users_matching(users: QuerySet[CrmUser], text: str) -> QuerySet[CrmUser]:
    """The users whose name, email or external id contains ``text``, in any case: the users table's
    search and the User field's type-ahead match alike."""
    return users.filter(Q(name__icontains=text) | Q(email__icontains=text) | Q(external_id__icontains=text))


def crm_user_suggestions(*, workspace: Workspace, text: str) -> list[CrmUser]:
    """The CRM users a typed text may mean, for a field's type-ahead: those whose name, email or
    external id contains it (case-insensitive), exact external ids and emails first, then by name and
    external id; at most ``SUGGESTIONS``. Nothing for fewer than two characters."""
    text = text.strip()
    if len(text) < 2:
        return []
    users = crm_users_matching(in_workspace(CrmUser, workspace), text)
    exact = Case(
        When(Q(external_id=text) | Q(email__iexact=text), then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return list(users.annotate(exact=exact).order_by("exact", Lower("name"), "external_id")[:SUGGESTIONS])


def feature_use_in_period(*, workspace: Workspace, period: Period) -> QuerySet[UserFeatureMonth]:
    """The (user, feature) pairs with a day of use inside the period, from the month bitmasks.

    A pair can appear once per month the period touches, so count it with ``distinct``. The rows
    read are users × features × months, whatever the number of events: this is how "distinct users
    of a feature" or "features a user used" in any period stay cheap.
    """
    months = months_between(period.start, period.end)
    qs = UserFeatureMonth.objects.filter(workspace=workspace, month__in=months)
    partial = [
        (month, mask)
        for month in months
        if (mask := month_mask(month, period.start, period.end)) != month_mask(month, month, month_end(month))
    ]
    if not partial:  # whole months: every stored row has a day in the period
        return qs
    hit = Case(
        *[When(month=month, then=F("days").bitand(mask)) for month, mask in partial],
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.alias(hit=hit).exclude(hit=0)


def feature_use_counts(*, workspace: Workspace, period: Period, per: str, narrow: Q | None = None) -> dict[int, int]:
    """How many distinct (user, feature) pairs with a day of use in the period there are per
    ``per``: "feature_id" gives users per feature, "crm_user_id" features per user. ``narrow``
    filters the pairs (e.g. to the users of a filter).

    Within one month every pair is one row; over several, pairs are de-duplicated first and counted
    after (a hash aggregate; ``COUNT(DISTINCT …)`` per group sorts every group instead).
    """
    pairs = feature_use_in_period(workspace=workspace, period=period)
    if narrow is not None:
        pairs = pairs.filter(narrow)
    if len(months_between(period.start, period.end)) == 1:
        return dict(pairs.values(per).annotate(n=Count("*")).order_by().values_list(per, "n"))
    sql, params = pairs.values_list("feature_id", "crm_user_id").distinct().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {per}, COUNT(*) FROM ({sql}) AS pairs GROUP BY {per}", params)
        return dict(cursor.fetchall())


def feature_month_totals(
    *, workspace: Workspace, month: date, features: Sequence[Feature] | None = None
) -> list[tuple[str, int, int]]:
    """(feature key, distinct users, events) of every feature used in the calendar month, from its
    FeatureMonth rows."""
    rows = FeatureMonth.objects.filter(workspace=workspace, month=month)
    if features is not None:
        rows = rows.filter(feature__in=[f.pk for f in features])
    return list(rows.values_list("feature__key", "users", "events"))


def feature_day_reach(
    *, workspace: Workspace, period: Period, features: Sequence[Feature] | None = None
) -> list[tuple[str, int, int]]:
    """(feature key, distinct users, events) of every feature used in the period, from its FeatureDay
    rows: the users are the bits set in the OR of the days' user bitmaps. Features × days rows for a
    period cut anywhere (the month bitmasks would be a row per user, feature and month)."""
    rows = FeatureDay.objects.filter(workspace=workspace, day__range=(period.start, period.end))
    if features is not None:
        rows = rows.filter(feature__in=[f.pk for f in features])
    users: dict[str, int] = {}
    events: dict[str, int] = {}
    for key, n, bits in rows.values_list("feature__key", "events", "user_bits").order_by():
        users[key] = users.get(key, 0) | int.from_bytes(bits, "little")
        events[key] = events.get(key, 0) + n
    return [(key, bits.bit_count(), events[key]) for key, bits in users.items()]


# --- per-user sums over a period: month totals plus the fewest daily rows ---------------------------


def _split(day_model: type[Model], workspace: Workspace, first: date, last: date) -> MonthSplit | None:
    """``month_split`` against the days the workspace has rows for (two index probes); None when
    the workspace has none."""
    bounds = day_model._default_manager.filter(workspace=workspace).aggregate(first=Min("day"), last=Max("day"))
    if bounds["first"] is None:
        return None
    return month_split(first, last, bounds["first"], bounds["last"])


def _add_sums(totals: dict[Any, list[float]], qs: QuerySet[Any], key: str, fields: tuple[str, ...], sign: int) -> None:
    sums = {f"sum_{f}": Sum(f) for f in fields}
    for row in qs.values(key).annotate(**sums).order_by().values_list(key, *sums):
        figures = totals.get(row[0])
        if figures is None:
            figures = totals[row[0]] = [0] * len(fields)
        for index, value in enumerate(row[1:]):
            figures[index] += sign * (value or 0)


def _period_sums(
    *,
    split: MonthSplit,
    months: QuerySet[Any],
    days: QuerySet[Any],
    key: str,
    fields: tuple[str, ...],
) -> dict[Any, list[float]]:
    """Per ``key``, the sums of ``fields`` over the period ``split`` describes: the month rows of its
    whole months, plus and minus daily rows (``months`` and ``days`` already narrowed alike)."""
    totals: dict[Any, list[float]] = {}
    if split.months:
        _add_sums(totals, months.filter(month__in=split.months), key, fields, 1)
    # One query per run of days: each is one range of the (…, day) indexes, where OR-ed ranges are
    # not (PostgreSQL would filter the whole history of the feature instead).
    for sign, ranges in ((1, split.add), (-1, split.subtract)):
        for first, last in ranges:
            _add_sums(totals, days.filter(day__range=(first, last)), key, fields, sign)
    return totals


@dataclass
class UserTotals:
    active_days: int = 0
    events: int = 0
    sessions: int = 0
    session_seconds: float = 0.0


def active_days_by_user(
    *, workspace: Workspace, periods: Iterable[Period], narrow: Q | None = None
) -> list[dict[int, int]]:
    """For each period, each user's number of active days in it (users with none left out), from
    the UserMonth bits of every month the periods touch, in one read."""
    periods = list(periods)
    months = sorted({m for p in periods for m in months_between(p.start, p.end)})
    rows = UserMonth.objects.filter(workspace=workspace, month__in=months)
    if narrow is not None:
        rows = rows.filter(narrow)
    masks = [{m: month_mask(m, p.start, p.end) for m in months_between(p.start, p.end)} for p in periods]
    result: list[dict[int, int]] = [{} for _ in periods]
    for user_id, month, bits in rows.values_list("crm_user_id", "month", "days"):
        for index, period_masks in enumerate(masks):
            mask = period_masks.get(month)
            if mask and (n := (bits & mask).bit_count()):
                result[index][user_id] = result[index].get(user_id, 0) + n
    return result


def user_period_totals(
    *, workspace: Workspace, period: Period, narrow: Q | None = None, active: dict[int, int] | None = None
) -> dict[int, UserTotals]:
    """Each user active in the period (narrowed by ``narrow``, a condition on ``crm_user``) with
    their active days, interactions, sessions and session seconds in it. ``active`` is the
    period's ``active_days_by_user`` when the caller has it already.

    Reads users × months rows, plus daily rows only for the part of a month the period cuts off,
    on the cheaper side (``periods.month_split``); so the cost follows users and months, not the
    number of events."""
    if active is None:
        (active,) = active_days_by_user(workspace=workspace, periods=[period], narrow=narrow)
    if not active:
        return {}
    split = _split(UserDay, workspace, period.start, period.end)
    months = UserMonth.objects.filter(workspace=workspace)
    days = UserDay.objects.filter(workspace=workspace)
    if narrow is not None:
        months, days = months.filter(narrow), days.filter(narrow)
    fields = ("events", "sessions", "session_seconds")
    sums = _period_sums(split=split, months=months, days=days, key="crm_user_id", fields=fields) if split else {}
    totals = {}
    for user_id, n in active.items():
        events, sessions, seconds = sums.get(user_id, (0, 0, 0.0))
        # Sums of a month less some days can differ from the direct sum in the last bits of a
        # float; event times are whole microseconds.
        totals[user_id] = UserTotals(n, int(events), int(sessions), round(seconds, 6))
    return totals


def _month_events(month: date, first: date, last: date) -> Any:
    """The events of a UserFeatureMonth or UserMonth row of ``month`` on its days inside
    first..last: its total when the month is whole, else the sum of the days inside, or the total
    less the days outside when those are fewer."""
    inside = [day.day for day in month_days(month, first, last)]
    outside = [d for d in range(1, month_end(month).day + 1) if d not in inside]
    if not outside:
        return F("events")
    if len(outside) < len(inside):
        return F("events") - reduce(operator.add, (F(UserFeatureMonth.day_field(d)) for d in outside))
    return reduce(operator.add, (F(UserFeatureMonth.day_field(d)) for d in inside))


def _events_by_user(rows: QuerySet[Any], period: Period) -> dict[int, int]:
    """Each user's events in the period from these month rows, taken from the months it touches
    (users without any left out)."""
    months = months_between(period.start, period.end)
    rows = rows.filter(month__in=months)
    events = Case(
        *[When(month=month, then=_month_events(month, period.start, period.end)) for month in months],
        output_field=IntegerField(),
    )
    sums = rows.values("crm_user_id").annotate(n=Sum(events)).order_by().values_list("crm_user_id", "n")
    return {user_id: int(n) for user_id, n in sums if n}


def events_by_user(*, workspace: Workspace, period: Period, narrow: Q | None = None) -> dict[int, int]:
    """Each user's interactions in the period (users without any left out), from the UserMonth
    rows of the months it touches (their per-day events where it cuts a month): users × months
    rows, however many days each user was active."""
    rows = UserMonth.objects.filter(workspace=workspace)
    if narrow is not None:
        rows = rows.filter(narrow)
    return _events_by_user(rows, period)


def feature_events_by_user(
    *, workspace: Workspace, period: Period, feature: Feature, narrow: Q | None = None
) -> dict[int, int]:
    """Each user's events on the feature in the period (users without any left out), from the
    UserFeatureMonth rows of the months it touches (their per-day events where it cuts a month):
    users × months rows, however many days each user was active."""
    rows = UserFeatureMonth.objects.filter(workspace=workspace, feature=feature)
    if narrow is not None:
        rows = rows.filter(narrow)
    return _events_by_user(rows, period)


def last_seen_at(*, workspace: Workspace, as_of: date, user_ids: Collection[int]) -> dict[int, datetime]:
    """Each of these users' last event at or before the end of the local day ``as_of``.

    A user active in as_of's month up to as_of, and not after it, was last seen at that month's
    last event (one UserMonth row each); the others cost one probe of UserDay's (user, day) index
    each. Either way, one row or probe per user, whatever the history."""
    month = as_of.replace(day=1)
    upto = month_mask(month, month, as_of)
    seen: dict[int, datetime] = {}
    wanted = set(user_ids)
    # A few users (a page) by id; many, by reading the workspace's rows and keeping theirs.
    few = len(wanted) <= 500
    months = UserMonth.objects.filter(workspace=workspace, month=month)
    for user_id, bits, last in (months.filter(crm_user__in=wanted) if few else months).values_list(
        "crm_user_id", "days", "last_event_at"
    ):
        if user_id in wanted and bits & upto and not bits & ~upto:
            seen[user_id] = last
    rest = [user_id for user_id in wanted if user_id not in seen]
    if rest:
        latest = UserDay.objects.filter(crm_user=OuterRef("pk"), day__lte=as_of).order_by("-day")
        users = CrmUser.objects.filter(workspace=workspace)
        probed = (
            (users.filter(id__in=rest) if len(rest) <= 500 else users)
            .annotate(seen=Subquery(latest.values("last_event_at")[:1]))
            .values_list("id", "seen")
        )
        seen.update((user_id, moment) for user_id, moment in probed if moment is not None and user_id in wanted)
    return seen
