"""Reads of the Funnels tab: the funnel computation and its results.

Every funnel figure on the pages, in the API and in CSV exports comes from ``funnel_compute`` (for a
saved funnel through ``funnels.services``, which keeps its result over the saved range).

What a funnel counts (docs/metrics.md#funnels, the semantics of ClickHouse's ``windowFunnel``)
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

How the attempts are walked is ``funnels.engines``'.
"""

from __future__ import annotations

import statistics
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from events.models import CrmUser
from events.periods import Interval, bucket_start
from events.streams import EPOCH
from funnels import engines
from funnels.models import Unit

if TYPE_CHECKING:
    from funnels.queries import FunnelQuery


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
    """part / whole × 100 rounded to 1 decimal; None when whole is 0 (docs/metrics.md#counts-conversion-and-drop-off)."""
    if not whole:
        return None
    return round(part / whole * 100, 1)


class Tally:
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


def _walk(query: FunnelQuery, bucket_of: Callable[[int], Any] | None = None) -> engines.Walk:
    return engines.prepare(
        workspace=query.workspace,
        spec=query.definition,
        period=query.period,
        filters=query.filters or None,
        bucket_of=bucket_of,
    )


def _overall(best: engines.Best) -> tuple[int, int, list[int]]:
    """A unit's best attempt over its groups: the highest level, then the earliest."""
    return max(best.values(), key=lambda b: (b[0], -b[1]))


def funnel_compute(query: FunnelQuery) -> FunnelData:
    """The funnel of ``query.definition`` over ``query.period`` for ``query.filters`` (the module
    docstring gives the exact semantics)."""
    spec = query.definition
    walk = _walk(query)
    total = Tally(walk.n)
    groups: dict[str, Tally] = {}
    for _unit, best in engines.unit_bests(walk):
        overall = _overall(best)
        total.add(overall[0], overall[2])
        if spec.breakdown:
            for group, (level, _p0, times) in best.items():
                groups.setdefault(group or "", Tally(walk.n)).add(level, times)
    breakdown = [GroupResult(group, tally.results(spec.labels)) for group, tally in groups.items()]
    breakdown.sort(key=lambda g: (-g.steps[0].count, g.group))
    return FunnelData(steps=total.results(spec.labels), breakdown=breakdown)


# --- time to convert --------------------------------------------------------------------------------------

# Bin edges of the time-to-convert distribution, in seconds: the spans a CRM admin thinks in (a
# minute, five, a quarter hour … a day, a week, a month, a year), not equal widths that read as
# "0–37,246 s".
CONVERT_EDGES = (
    0, 60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400, 172800, 259200,
    604800, 1209600, 2592000, 5184000, 7776000, 15552000, 31536000,
)  # fmt: skip


@dataclass(frozen=True)
class ConvertBin:
    from_seconds: int
    to_seconds: int  # exclusive, except for the last bin, which ends at the window and includes it
    units: int


@dataclass(frozen=True)
class TimeToConvert:
    from_step: int
    to_step: int
    units: int
    median_seconds: float | None
    bins: list[ConvertBin]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> TimeToConvert:
        return cls(**{**payload, "bins": [ConvertBin(**b) for b in payload["bins"]]})

    def csv_rows(self) -> list[dict[str, Any]]:
        return [{"from_step": self.from_step, "to_step": self.to_step, **asdict(b)} for b in self.bins]


def convert_bins(durations: Sequence[float], window_seconds: int) -> list[ConvertBin]:
    """Units per bin over [0, window]: the edges below the window, the last bin closed at it."""
    lows = [edge for edge in CONVERT_EDGES if edge < window_seconds]
    highs = [*lows[1:], window_seconds]
    counts = [0] * len(lows)
    for seconds in durations:
        counts[max(0, bisect_right(lows, seconds) - 1)] += 1
    return [ConvertBin(low, high, count) for low, high, count in zip(lows, highs, counts, strict=True)]


def funnel_time_to_convert(query: FunnelQuery) -> TimeToConvert:
    """How long units took from step ``from_step`` to step ``to_step``, among those that reached it
    (their best attempt's step times: docs/metrics.md#time-to-convert)."""
    a, b = query.convert_steps
    durations = [
        (times[b - 1] - times[a - 1]) / 1_000_000
        for _unit, best in engines.unit_bests(_walk(query))
        for level, _p0, times in [_overall(best)]
        if level >= b
    ]
    return TimeToConvert(
        from_step=a,
        to_step=b,
        units=len(durations),
        median_seconds=round(statistics.median(durations), 1) if durations else None,
        bins=convert_bins(durations, query.definition.window_days * 86_400),
    )


# --- conversion over time ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendBucket:
    bucket: date
    entered: int
    completed: int
    conversion_pct: float | None


@dataclass(frozen=True)
class FunnelTrends:
    interval: str
    buckets: list[TrendBucket]

    def as_dict(self) -> dict[str, Any]:
        return {
            "interval": self.interval,
            "buckets": [{**asdict(b), "bucket": b.bucket.isoformat()} for b in self.buckets],
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> FunnelTrends:
        buckets = [TrendBucket(**{**b, "bucket": date.fromisoformat(b["bucket"])}) for b in payload["buckets"]]
        return cls(payload["interval"], buckets)

    def csv_rows(self) -> list[dict[str, Any]]:
        return [{"interval": self.interval, **b} for b in self.as_dict()["buckets"]]


def funnel_trends(query: FunnelQuery) -> FunnelTrends:
    """Completion per interval of attempt start: per interval, the units with an attempt starting in
    it and those whose best such attempt completed the funnel (docs/metrics.md#conversion-over-time)."""
    interval = Interval(query.interval)
    tz = query.workspace.tzinfo

    def bucket_of(start_us: int) -> date:
        return bucket_start((EPOCH + timedelta(microseconds=start_us)).astimezone(tz).date(), interval)

    n = len(query.definition.steps)
    entered: Counter[date] = Counter()
    completed: Counter[date] = Counter()
    for _unit, best in engines.unit_bests(_walk(query, bucket_of)):
        for bucket, (level, _p0, _times) in best.items():
            entered[bucket] += 1
            completed[bucket] += level == n
    return FunnelTrends(
        interval=interval.value,
        buckets=[
            TrendBucket(bucket, entered[bucket], completed[bucket], pct(completed[bucket], entered[bucket]))
            for bucket in query.period.buckets(interval)
        ],
    )


# --- people at a step -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepPerson:
    """A unit that reached (or dropped at) a step: its id, level and when its best attempt began
    and got to its last step."""

    unit: str  # the CRM user's external id, or the record id
    level: int
    entered_at: datetime
    last_step_at: datetime
    name: str = ""
    email: str = ""
    user_id: int | None = None  # the CRM user's id (user funnels): their row in a drill-down


def funnel_people(query: FunnelQuery) -> list[StepPerson]:
    """The units at ``query.people``: those whose level is at least the step (reached), or exactly
    the step before it (dropped), ordered by unit (docs/metrics.md#people-at-a-step)."""
    assert query.people is not None
    step, dropped = query.people.step, query.people.status == "dropped"
    tz = query.workspace.tzinfo
    chosen: list[tuple[Any, int, list[int]]] = []
    for unit, best in engines.unit_bests(_walk(query)):
        level, _p0, times = _overall(best)
        if (level == step - 1) if dropped else (level >= step):
            chosen.append((unit, level, times))

    def moment(us: int) -> datetime:
        return (EPOCH + timedelta(microseconds=us)).astimezone(tz)

    users: dict[Any, CrmUser] = {}
    if query.definition.unit == Unit.USER:
        users = CrmUser.objects.filter(workspace=query.workspace).in_bulk([unit for unit, _l, _t in chosen])
    people = []
    for unit, level, times in chosen:
        user = users.get(unit)
        people.append(
            StepPerson(
                unit=user.external_id if user else str(unit),
                level=level,
                entered_at=moment(times[0]),
                last_step_at=moment(times[level - 1]),
                name=user.name if user else "",
                email=user.email if user else "",
                user_id=user.pk if user else None,
            )
        )
    people.sort(key=lambda p: p.unit)
    return people
