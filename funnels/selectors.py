"""Reads of the Funnels tab: which funnels a member sees, and the funnel computation itself.

Every funnel figure on the page, in the API and in CSV exports comes from ``funnel_compute`` (ad-hoc)
or ``funnel_saved_results`` (a saved funnel: its cached result when fresh, else computed).

How a funnel is computed (DESIGN.md §3 "Funnels", the semantics of ClickHouse's ``windowFunnel``)
-----------------------------------------------------------------------------------------------------
* A *unit* is a CRM user (``unit="user"``) or a CRM record (``unit="record"``: events grouped by
  ``record_id``; events without one are ignored; one record may be touched by several users).
* User filters restrict whose events count: an event of a user outside the filters does not exist
  for the funnel (for a record funnel too).
* An *attempt* starts at every event matching step 1 whose time lies in the range (local days of the
  workspace, start 00:00 to the end of the last day). Its deadline is its start + the window
  (inclusive: an event exactly at the deadline still counts). Later steps may fall after the range.
* The attempt reaches step k when an event matching step k occurs at or after the time of the event
  that matched step k−1 (equal timestamps allowed), no later than the deadline, and one event
  satisfies at most one step of the attempt. The attempt's *level* is the highest step it can reach.
* A unit's level is the best level of its attempts; count(k) = units whose level ≥ k.
* Percentages: conversion_pct(k) = count(k) / count(1) × 100; dropoff_pct(k) = (count(k−1) −
  count(k)) / count(k−1) × 100, 0 for step 1; rounded to 1 decimal, null when the divisor is 0.
* Times (median_seconds_from_previous): for each unit, the *earliest* attempt (by the time, then
  the arrival, of its step-1 event) among those that reach the unit's level; within it, each step's
  time is the earliest time at which that attempt can have reached the step (what a greedy
  earliest-first matching gives). median(k) is the median of t(k) − t(k−1) over the units that
  reached step k, rounded to 1 decimal; null for step 1 and when no unit reached k.
* Breakdown by a user attribute: each group is the funnel restricted to the attempts whose step-1
  event was done by a user with that attribute value (for a user funnel: the user's own value). A
  record started by users of two groups counts in both groups, once in the total.
* ``order="strict"``: the event matched to step k must also be the first event of step k's feature
  after the event matched to step k−1 (ordered by time, then arrival): any other event of that
  feature in between (another action or detail) ends the attempt.

How it runs. An ordered funnel whose steps no single event can match twice (the usual case) walks
its windows inside the database: one statement reads only the step events (per step, one range of
the ``event_step_time`` index: workspace, feature, action, time, user), finds every attempt's step
times with n − 1 running-minimum window passes and returns one row per unit, its best attempt
(``_sql_walk_bests``). Otherwise (strict order, or overlapping steps, where which event serves which
step matters) the database returns only the events that can matter — in [range start, range end +
window), matching some step (strict: on some step's feature), of filtered users — ordered by unit
and time, with a bit mask of the steps each event matches computed in SQL. They are streamed
(``values_list(...).iterator()``, a server-side cursor on PostgreSQL), never as model instances,
and each unit is evaluated in one pass over its own events: per attempt, one binary search per step
into the unit's per-step event times. Memory holds one unit's events plus, per step, one number per
converted unit (for the medians).

Equal timestamps: the events of one instant are matched as a set. Greedily taking, at the earliest
instant where step k can be matched, as many consecutive steps as distinct events of that instant
can serve (a small bipartite matching) gives the highest level and the earliest step times.
"""

from __future__ import annotations

import statistics
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from itertools import groupby
from operator import itemgetter, or_
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import BigIntegerField, Case, F, Func, IntegerField, Q, QuerySet, Value, When

from events.filters import crm_user_condition
from events.models import CrmUser, Event, Feature
from events.periods import Period
from funnels.models import Funnel, FunnelResult, Order, Unit
from tenancy.models import Workspace

UserFilters = dict[str, list[str]]

# Rows fetched per round trip while streaming events (a server-side cursor batch on PostgreSQL).
CHUNK_SIZE = 20_000


@dataclass(frozen=True)
class Step:
    feature: str
    action: str
    detail: str = ""

    @property
    def label(self) -> str:
        return " · ".join(part for part in (self.feature, self.action, self.detail) if part)


@dataclass(frozen=True)
class FunnelSpec:
    """What a funnel computes, besides its range and user filters."""

    steps: tuple[Step, ...]
    unit: str = Unit.USER
    window_days: int = 14
    order: str = Order.ORDERED
    breakdown: str = ""

    @classmethod
    def of(cls, funnel: Funnel) -> FunnelSpec:
        return cls(
            steps=tuple(Step(s["feature"], s["action"], s.get("detail") or "") for s in funnel.steps),
            unit=funnel.unit,
            window_days=funnel.window_days,
            order=funnel.order,
            breakdown=funnel.breakdown,
        )


@dataclass(frozen=True)
class StepResult:
    step: int
    label: str
    count: int
    conversion_pct: float | None
    dropoff_pct: float | None
    median_seconds_from_previous: float | None


@dataclass(frozen=True)
class GroupResult:
    group: str
    steps: list[StepResult]


@dataclass(frozen=True)
class FunnelData:
    steps: list[StepResult]
    breakdown: list[GroupResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"steps": [asdict(s) for s in self.steps], "breakdown": [asdict(g) for g in self.breakdown]}

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> FunnelData:
        return cls(
            steps=[StepResult(**s) for s in payload.get("steps", [])],
            breakdown=[
                GroupResult(g["group"], [StepResult(**s) for s in g["steps"]]) for g in payload.get("breakdown", [])
            ],
        )

    def csv_rows(self) -> list[dict[str, Any]]:
        """The per-step table then the breakdown table, one CSV: ``scope`` says which."""
        rows = [{"scope": "total", "group": "", **asdict(s)} for s in self.steps]
        rows += [{"scope": "group", "group": g.group, **asdict(s)} for g in self.breakdown for s in g.steps]
        return rows

    @property
    def completion_pct(self) -> float | None:
        return self.steps[-1].conversion_pct if self.steps else None

    @property
    def entered(self) -> int:
        return self.steps[0].count if self.steps else 0


def pct(part: int, whole: int) -> float | None:
    """part / whole × 100 rounded to 1 decimal; None when whole is 0 (DESIGN.md §3)."""
    if not whole:
        return None
    return round(part / whole * 100, 1)


# --- who sees what ---------------------------------------------------------------------------------


def funnels_visible_to(*, workspace: Workspace, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Funnel]:
    """The workspace's funnels a member sees: their own and those shared with the workspace.

    Private funnels stay private even to workspace admins (they are managed in the Django admin).
    The rules are those of every saved configuration (``SavedConfigQuerySet.visible_to``).
    """
    return Funnel.objects.filter(workspace=workspace).visible_to(user).select_related("owner", "workspace")


def funnel_can_edit(*, funnel: Funnel, user: Any, role: str | None) -> bool:
    """Only the owner or a workspace admin (superusers count as admins) edits or deletes a funnel."""
    return user.is_authenticated and funnel.can_edit(user)


def funnel_can_create(*, role: str | None) -> bool:
    """Admins and analysts build funnels; viewers only read shared ones."""
    return role in Funnel.CREATOR_ROLES


# --- the computation -------------------------------------------------------------------------------


def funnel_compute(
    *, workspace: Workspace, spec: FunnelSpec, period: Period, filters: UserFilters | None = None
) -> FunnelData:
    """The funnel over ``period`` (see the module docstring for the exact semantics)."""
    n = len(spec.steps)
    window = timedelta(days=spec.window_days)
    ctx = _Context(n=n, start=period.start_utc, end=period.end_utc, window=window, step_features=[])

    attribute: dict[int, str] = {}
    if spec.breakdown:
        values = CrmUser.objects.filter(workspace=workspace).values_list("id", spec.breakdown)
        attribute = {user_id: value or "" for user_id, value in values}

    def group_of(user_id: int) -> str | None:
        """The breakdown group of the user who did an attempt's step-1 event (None: no breakdown)."""
        return attribute.get(user_id, "") if spec.breakdown else None

    total = _Tally(n)
    groups: dict[str, _Tally] = {}
    for best in _unit_bests(workspace=workspace, spec=spec, period=period, filters=filters, ctx=ctx, group_of=group_of):
        overall = max(best.values(), key=lambda b: (b[0], -b[1]))
        total.add(overall[0], overall[2])
        if spec.breakdown:
            for group, (level, _p0, times) in best.items():
                groups.setdefault(group or "", _Tally(n)).add(level, times)

    labels = [s.label for s in spec.steps]
    breakdown = [GroupResult(group, tally.results(labels)) for group, tally in groups.items()]
    breakdown.sort(key=lambda g: (-g.steps[0].count, g.group))
    return FunnelData(steps=total.results(labels), breakdown=breakdown)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly (integers compare and subtract fast and exactly)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


class EpochMicroseconds(Func):
    """``occurred_at`` as integer microseconds since the epoch, computed by the database.

    Converting millions of timestamps into aware datetimes is the costliest part of reading events on
    SQLite (Django parses each text value in Python); integers come through as they are. Exact on
    both backends: SQLite stores ``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC, PostgreSQL's EXTRACT(EPOCH)
    is exact numeric.
    """

    output_field = BigIntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(CAST(strftime('%%s', {sql}) AS INTEGER) * 1000000 + CAST(substr({sql}, 21, 6) AS INTEGER))",
            (*params, *params),
        )

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:  # type: ignore[override]
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(ROUND(EXTRACT(EPOCH FROM {sql}) * 1000000) AS BIGINT)", tuple(params)


@dataclass
class _Context:
    n: int
    start: datetime
    end: datetime
    window: timedelta
    # feature id of each step (strict order); None for a feature the workspace does not have
    step_features: list[int | None]

    def __post_init__(self) -> None:
        self.start_us, self.end_us = epoch_us(self.start), epoch_us(self.end)
        self.window_us = self.window // timedelta(microseconds=1)


class _Tally:
    """count(k) and the step-to-step durations of one funnel (the total or one breakdown group)."""

    def __init__(self, n: int) -> None:
        self.counts = [0] * n
        self.durations = [array("d") for _ in range(n)]

    def add(self, level: int, times: Sequence[int]) -> None:
        for k in range(level):
            self.counts[k] += 1
            if k:
                self.durations[k].append((times[k] - times[k - 1]) / 1_000_000)

    def results(self, labels: list[str]) -> list[StepResult]:
        first = self.counts[0] if self.counts else 0
        steps = []
        for k, count in enumerate(self.counts):
            previous = self.counts[k - 1] if k else count
            durations = self.durations[k]
            steps.append(
                StepResult(
                    step=k + 1,
                    label=labels[k],
                    count=count,
                    conversion_pct=pct(count, first),
                    dropoff_pct=0.0 if k == 0 else pct(previous - count, previous),
                    median_seconds_from_previous=round(statistics.median(durations), 1) if k and durations else None,
                )
            )
        return steps


# Best attempt per breakdown group: group → (level, position of its step-1 event (or its time), step times).
_Best = dict[str | None, tuple[int, int, list[int]]]


def _step_matches(*, workspace: Workspace, spec: FunnelSpec, ctx: _Context) -> list[Q | None]:
    """Per step, the condition an event must meet to match it (None: its feature does not exist in
    the workspace, so the step matches nothing). Sets ``ctx.step_features``."""
    keys = {s.feature for s in spec.steps}
    feature_ids = dict(Feature.objects.filter(workspace=workspace, key__in=keys).values_list("key", "id"))
    step_q: list[Q | None] = []
    for step in spec.steps:
        feature_id = feature_ids.get(step.feature)
        if feature_id is None:  # never seen: the step matches nothing
            step_q.append(None)
            continue
        q = Q(feature_id=feature_id, action=step.action)
        if step.detail:
            q &= Q(detail=step.detail)
        step_q.append(q)
    ctx.step_features = [feature_ids.get(s.feature) for s in spec.steps]
    return step_q


def _candidate_events(
    *, workspace: Workspace, spec: FunnelSpec, filters: UserFilters | None, ctx: _Context
) -> QuerySet:
    """The events of the units that count (filtered users; records only with a record id) in
    [range start, range end + window)."""
    base = Event.objects.filter(workspace=workspace)
    if spec.unit == Unit.RECORD:
        base = base.exclude(record_id="")
    if (condition := crm_user_condition(workspace, filters)) is not None:
        base = base.filter(condition)
    return base.filter(occurred_at__gte=ctx.start, occurred_at__lt=ctx.end + ctx.window)


def _unit_bests(
    *,
    workspace: Workspace,
    spec: FunnelSpec,
    period: Period,
    filters: UserFilters | None,
    ctx: _Context,
    group_of: Callable[[int], str | None],
) -> Iterator[_Best]:
    """Per unit that entered the funnel, its best attempt per breakdown group."""
    step_q = _step_matches(workspace=workspace, spec=spec, ctx=ctx)
    if step_q[0] is None:
        return
    if _use_sql_walk(spec):
        walk = _strict_sql_bests if spec.order == Order.STRICT else _sql_walk_bests
        yield from walk(workspace=workspace, spec=spec, filters=filters, ctx=ctx, step_q=step_q, group_of=group_of)
        return
    evaluate = _ordered_unit if spec.order != Order.STRICT else _strict_unit
    rows = _event_rows(workspace=workspace, spec=spec, filters=filters, ctx=ctx, step_q=step_q)
    for _unit, unit_rows in groupby(rows, key=itemgetter(0)):
        best = evaluate(list(unit_rows), ctx, group_of)
        if best:
            yield best


def _event_rows(
    *, workspace: Workspace, spec: FunnelSpec, filters: UserFilters | None, ctx: _Context, step_q: list[Q | None]
) -> Iterator[tuple[Any, ...]]:
    """(unit, occurred_at in epoch microseconds, crm_user_id, step mask, feature_id) of the events
    that can matter, ordered by unit, time and arrival."""
    unit_field = "crm_user_id" if spec.unit == Unit.USER else "record_id"
    # One pass over the time range. (Restricting it to the units with a step-1 event in the range, by
    # a semi-join, measured slower: a second scan costs more than streaming the units that never
    # enter, which are dropped at once.)
    qs = _candidate_events(workspace=workspace, spec=spec, filters=filters, ctx=ctx)
    known = [q for q in step_q if q is not None]
    if spec.order == Order.STRICT:
        qs = qs.filter(feature_id__in={f for f in ctx.step_features if f is not None})
    else:
        qs = qs.filter(reduce(or_, known))
    return (
        qs.annotate(step_mask=_step_mask(step_q), at_us=EpochMicroseconds("occurred_at"))
        .order_by(unit_field, "occurred_at", "id")
        .values_list(unit_field, "at_us", "crm_user_id", "step_mask", "feature_id")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _step_mask(step_q: list[Q | None]) -> Any:
    """Bit k−1 set when the event matches step k."""
    mask: Any = Value(0)
    for j, step_match in enumerate(step_q):
        if step_match is not None:
            mask = mask + Case(When(step_match, then=Value(1 << j)), default=Value(0), output_field=IntegerField())
    return mask


# --- the window walk in SQL ------------------------------------------------------------------------

# Whether ordered funnels whose steps no event can match twice walk their windows in the database
# (``_sql_walk_bests``). None: on PostgreSQL only — SQLite's window functions are slower than the
# Python walk there (300k events: ~365 ms against ~250 ms). The tests force both paths on both.
SQL_WALK: bool | None = None


def _use_sql_walk(spec: FunnelSpec) -> bool:
    postgres = connection.vendor == "postgresql"
    wanted = postgres if SQL_WALK is None else SQL_WALK
    if spec.order == Order.STRICT:
        return wanted and postgres  # its statement needs PostgreSQL's arrays
    return wanted and _steps_disjoint(spec)


def _steps_disjoint(spec: FunnelSpec) -> bool:
    """Ordered funnel whose steps no single event can match twice (no two steps with the same feature
    and action whose details are equal or one of them empty)."""
    if spec.order == Order.STRICT:
        return False
    for i, a in enumerate(spec.steps):
        for b in spec.steps[i + 1 :]:
            if (a.feature, a.action) == (b.feature, b.action) and (
                not a.detail or not b.detail or a.detail == b.detail
            ):
                return False
    return True


def _sql_walk_bests(
    *,
    workspace: Workspace,
    spec: FunnelSpec,
    filters: UserFilters | None,
    ctx: _Context,
    step_q: list[Q | None],
    group_of: Callable[[int], str | None],
) -> Iterator[_Best]:
    """The best attempts, with the window walk done by one SQL statement (ordered, disjoint steps).

    When no event matches two steps, an attempt's greedy walk depends only on its start time t0:
    t(1) = t0 and t(k) = the first time ≥ t(k−1) of an event matching step k (equal timestamps
    are distinct events, one per step); its level is the longest prefix with t(k) ≤ t0 + window.
    With N_k(t) = min{time of a step-k event ≥ t}, t(k) = N_k(… N_2(t0)), and because every N_k is
    non-decreasing, N_j(N_k(t)) = min over step-k events at or after t of N_j(their time): a
    running ``MIN(...) FILTER (WHERE s = k) OVER (PARTITION BY unit ORDER BY time DESC, s DESC)``.
    n − 1 such passes, from the last step back, give every step-1 event the times of its whole
    attempt; the database then keeps per unit (and per step-1 user, for a record breakdown) the
    best attempt: highest level, then earliest. Only those rows come back (one per unit), not the
    events. Attempts with the same start have the same times, so ties between them do not matter.

    The same statement runs on SQLite.
    """
    n = ctx.n
    postgres = connection.vendor == "postgresql"
    unit_field = "crm_user_id" if spec.unit == Unit.USER else "record_id"
    # The user of each attempt's step-1 event: only a record funnel's breakdown needs it (a user
    # funnel's unit is its user; without a breakdown the group is None whoever the user is).
    by_user = spec.unit == Unit.RECORD and bool(spec.breakdown)
    fields = [unit_field, "ts", "s", *(["crm_user_id"] if by_user else [])]
    carry = "u, ts, s, uid" if by_user else "u, ts, s"
    qs = _candidate_events(workspace=workspace, spec=spec, filters=filters, ctx=ctx)
    branches, params = [], []
    for k, step_match in enumerate(step_q, start=1):
        if step_match is None:
            continue
        # One branch per step (each can read an index on feature and action alone); no event is in two.
        branch = (
            qs.filter(step_match)
            .annotate(ts=F("occurred_at"), s=Value(k, output_field=IntegerField()))
            .order_by()
            .values_list(*fields)
        )
        sql, branch_params = branch.query.sql_with_params()
        branches.append(sql)
        params.extend(branch_params)

    # Each pass reads, at a row of step k, the rows of step k+1 at or after it: sorted by time
    # descending, and at equal times by step descending, those are exactly the rows before it (a
    # ROWS frame: cheaper than RANGE, which looks for the peers of every row). The passes compare
    # stored times as they are (SQLite's text sorts in time order too).
    window = "WINDOW w AS (PARTITION BY u ORDER BY ts DESC, s DESC ROWS UNBOUNDED PRECEDING)"
    ctes = [f"e({carry}) AS ({' UNION ALL '.join(branches)})"]
    source = "e"
    for k in range(n - 1, 0, -1):  # pass k: times of steps k+1..n of a walk that is at step k at ts
        columns = [f"MIN(ts) FILTER (WHERE s = {k + 1}) OVER w AS v{k + 1}"]
        columns += [f"MIN(v{j}) FILTER (WHERE s = {k + 1}) OVER w AS v{j}" for j in range(k + 2, n + 1)]
        ctes.append(f"p{k} AS (SELECT {carry}, {', '.join(columns)} FROM {source} {window})")
        source = f"p{k}"
    # The attempts (step-1 events in the range) get their times in integer microseconds: the
    # deadline is simple arithmetic then, and integers load faster than aware datetimes.
    if postgres:
        epoch = "CAST(ROUND(EXTRACT(EPOCH FROM {0}) * 1000000) AS BIGINT)"
    else:
        epoch = "(CAST(strftime('%%s', {0}) AS INTEGER) * 1000000 + CAST(substr({0}, 21, 6) AS INTEGER))"
    later = [f"v{j}" for j in range(2, n + 1)]
    attempt_times = ", ".join(f"{epoch.format(column)} AS {column}" for column in ["ts", *later])
    ctes.append(
        f"a AS (SELECT u, {'uid' if by_user else 'u AS uid'}, {attempt_times} FROM {source} "
        "WHERE s = 1 AND ts >= %s AND ts < %s)"
    )
    params += [connection.ops.adapt_datetimefield_value(moment) for moment in (ctx.start, ctx.end)]
    level = " + ".join(["1", *(f"CASE WHEN {v} <= ts + {ctx.window_us:d} THEN 1 ELSE 0 END" for v in later)])
    per = "u, uid" if by_user else "u"
    sql = (
        f"WITH {', '.join(ctes)} "
        f"SELECT u, uid, lvl, ts, {', '.join(later)} FROM ("
        f"SELECT a.*, {level} AS lvl, ROW_NUMBER() OVER (PARTITION BY {per} ORDER BY {level} DESC, ts) AS rn "
        "FROM a) r WHERE rn = 1 ORDER BY u"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for _unit, unit_rows in groupby(rows, key=itemgetter(0)):
        best: _Best = {}
        for row in unit_rows:
            level = row[2]
            times = list(row[3 : 3 + level])
            group = group_of(row[1])
            current = best.get(group)
            if current is None or (level, -times[0]) > (current[0], -current[1]):
                best[group] = (level, times[0], times)
        yield best


def _strict_sql_bests(
    *,
    workspace: Workspace,
    spec: FunnelSpec,
    filters: UserFilters | None,
    ctx: _Context,
    step_q: list[Q | None],
    group_of: Callable[[int], str | None],
) -> Iterator[_Best]:
    """The best attempts of a strict-order funnel, walked by one PostgreSQL statement.

    Step k of an attempt is the next event of step k's feature after step k−1's event (by time,
    then arrival), and it must match step k. So what follows a walk standing at an event depends
    only on that event: R_k(e) = the times of steps k, k+1, … reached from e = [t(q)] + R_{k+1}(q)
    where q is the next event of step k's feature after e, if q matches step k, else nothing.
    Going back from the last step, each pass finds q for every event with a running
    ``MIN(ARRAY[time, id] || payload) FILTER (WHERE feature = step k's)`` over the events after
    it (sorted by time and id descending: those before it), the payload being q's R_{k+1}. An
    attempt's level is 1 + the number of its times within the window (they never decrease).
    """
    n = ctx.n
    unit_field = "crm_user_id" if spec.unit == Unit.USER else "record_id"
    by_user = spec.unit == Unit.RECORD and bool(spec.breakdown)
    qs = (
        _candidate_events(workspace=workspace, spec=spec, filters=filters, ctx=ctx)
        .filter(feature_id__in={f for f in ctx.step_features if f is not None})
        .annotate(m=_step_mask(step_q), ts=EpochMicroseconds("occurred_at"))
        .order_by()
        .values_list(unit_field, "ts", "id", "feature_id", "m", "crm_user_id" if by_user else unit_field)
    )
    sql, params = qs.query.sql_with_params()
    carry = "u, ts, id, f, m, uid"
    window = "WINDOW w AS (PARTITION BY u ORDER BY ts DESC, id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
    ctes = [f"e({carry}) AS ({sql})"]
    source, after = "e", "'{}'::bigint[]"
    for k in range(n, 1, -1):  # pass k: r{k} = the times of steps k.. reached after each event
        feature_id = ctx.step_features[k - 1]
        if feature_id is None:  # the step matches nothing: every walk stops before it
            ctes.append(f"p{k} AS (SELECT {carry}, '{{}}'::bigint[] AS r{k} FROM {source})")
        else:
            payload = f"CASE WHEN m & {1 << (k - 1)} <> 0 THEN ARRAY[ts] || {after} ELSE '{{}}'::bigint[] END"
            nearest = f"MIN(ARRAY[ts, id] || {payload}) FILTER (WHERE f = {feature_id:d}) OVER w"
            ctes.append(
                f"p{k} AS (SELECT {carry}, COALESCE(({nearest})[3:], '{{}}'::bigint[]) AS r{k} FROM {source} {window})"
            )
        source, after = f"p{k}", f"r{k}"
    ctes.append(
        f"a AS (SELECT u, uid, ts, id, ARRAY[ts] || {after} AS times FROM {source} "
        "WHERE m & 1 <> 0 AND ts >= %s AND ts < %s)"
    )
    params = (*params, ctx.start_us, ctx.end_us)
    level = f"(SELECT count(*) FROM unnest(times) t WHERE t <= ts + {ctx.window_us:d})"
    per = "u, uid" if by_user else "u"
    sql = (
        f"WITH {', '.join(ctes)} SELECT u, uid, lvl, times, id FROM ("
        f"SELECT u, uid, times, lvl, id, ROW_NUMBER() OVER (PARTITION BY {per} ORDER BY lvl DESC, ts, id) AS rn "
        f"FROM (SELECT a.*, {level} AS lvl FROM a) l) r WHERE rn = 1 ORDER BY u"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for _unit, unit_rows in groupby(rows, key=itemgetter(0)):
        # Several rows per unit only for a record breakdown (one per step-1 user). Attempts that
        # start at the same time can differ here, so "earliest" is by time, then arrival: the
        # rows in that order, the position stands for both.
        best: _Best = {}
        ordered = sorted(unit_rows, key=lambda row: (row[3][0], row[4]))
        for position, (_u, user, level, times, _id) in enumerate(ordered):
            group = group_of(user)
            current = best.get(group)
            if current is None or level > current[0]:
                best[group] = (level, position, list(times[:level]))
        yield best


def _ordered_unit(events: list[tuple[Any, ...]], ctx: _Context, group_of: Callable[[int], str | None]) -> _Best:
    """Evaluate every attempt of one unit (events sorted by time, then arrival)."""
    n = ctx.n
    times = [e[1] for e in events]
    masks = [e[3] for e in events]
    positions: list[list[int]] = [[] for _ in range(n)]
    for p, m in enumerate(masks):
        while m:
            low = m & -m
            positions[low.bit_length() - 1].append(p)
            m ^= low
    step_times = [[times[p] for p in plist] for plist in positions]

    def match_instant(moment: int, k: int, taken: int | None) -> int:
        """How many consecutive steps from k the distinct events at ``moment`` can serve (``taken``,
        the attempt's step-1 event, excluded): a tiny bipartite matching, trivial for one event."""
        lo, hi = bisect_left(times, moment), bisect_right(times, moment)
        candidates = [p for p in range(lo, hi) if p != taken and masks[p] >> k]
        if len(candidates) == 1:
            return 1 if masks[candidates[0]] >> k & 1 else 0
        owner: dict[int, int] = {}  # event position → step it serves

        def assign(step: int, seen: set[int]) -> bool:
            for p in candidates:
                if masks[p] >> step & 1 and p not in seen:
                    seen.add(p)
                    if p not in owner or assign(owner[p], seen):
                        owner[p] = step
                        return True
            return False

        served = 0
        while k + served < n and assign(k + served, set()):
            served += 1
        return served

    best: _Best = {}
    for p0 in positions[0]:
        t0 = times[p0]
        if t0 < ctx.start_us:
            continue
        if t0 >= ctx.end_us:
            break
        group = group_of(events[p0][2])
        current = best.get(group)
        if current is not None and current[0] == n:
            continue  # this group already has a complete attempt, and an earlier one
        deadline = t0 + ctx.window_us
        step_at = [t0]
        k = 1
        if k < n:
            served = match_instant(t0, k, p0)
            step_at += [t0] * served
            k += served
        moment = t0
        while k < n:
            candidates = step_times[k]
            i = bisect_right(candidates, moment)  # the instant ``moment`` cannot serve step k any more
            if i == len(candidates) or candidates[i] > deadline:
                break
            moment = candidates[i]
            served = match_instant(moment, k, None)
            step_at += [moment] * served
            k += served
        if current is None or k > current[0]:
            best[group] = (k, p0, step_at)
            if k == n and group is None:
                break  # the earliest complete attempt: nothing can beat it
    return best


def _strict_unit(events: list[tuple[Any, ...]], ctx: _Context, group_of: Callable[[int], str | None]) -> _Best:
    """Strict order: step k must be the next event of its feature after step k−1's event."""
    n = ctx.n
    by_feature: dict[int, list[int]] = {}
    for p, event in enumerate(events):
        by_feature.setdefault(event[4], []).append(p)
    best: _Best = {}
    for p0, event in enumerate(events):
        t0 = event[1]
        if not event[3] & 1 or t0 < ctx.start_us:
            continue
        if t0 >= ctx.end_us:
            break
        group = group_of(event[2])
        current = best.get(group)
        if current is not None and current[0] == n:
            continue
        deadline = t0 + ctx.window_us
        step_at = [t0]
        p = p0
        for k in range(1, n):
            feature_id = ctx.step_features[k]
            same_feature = by_feature.get(feature_id, []) if feature_id is not None else []
            i = bisect_right(same_feature, p)
            if i == len(same_feature):
                break
            q = same_feature[i]
            if events[q][1] > deadline or not events[q][3] >> k & 1:
                break
            step_at.append(events[q][1])
            p = q
        level = len(step_at)
        if current is None or level > current[0]:
            best[group] = (level, p0, step_at)
            if level == n and group is None:
                break
    return best


# --- saved funnels ---------------------------------------------------------------------------------


def funnel_result_is_fresh(*, funnel: Funnel, result: FunnelResult | None, period: Period | None = None) -> bool:
    """Whether a stored result still answers for the funnel: not marked stale, made for its current
    definition and for its current default range (or ``period``)."""
    if result is None or result.stale or result.signature != funnel.signature():
        return False
    period = period or funnel.default_period()
    return (result.range_start, result.range_end) == (period.start, period.end)


def funnel_cached_result(*, funnel: Funnel, period: Period | None = None) -> FunnelResult | None:
    """The stored result of a saved funnel if it is fresh (``funnel_result_is_fresh``)."""
    result = FunnelResult.objects.filter(funnel=funnel).first()
    return result if funnel_result_is_fresh(funnel=funnel, result=result, period=period) else None


def step_labels(steps: Iterable[dict[str, Any]]) -> list[str]:
    return [Step(s["feature"], s["action"], s.get("detail") or "").label for s in steps]
