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
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from funnels import engines
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


def funnel_compute(query: FunnelQuery) -> FunnelData:
    """The funnel of ``query.definition`` over ``query.period`` for ``query.filters`` (the module
    docstring gives the exact semantics)."""
    spec = query.definition
    walk = engines.prepare(workspace=query.workspace, spec=spec, period=query.period, filters=query.filters or None)
    total = Tally(walk.n)
    groups: dict[str, Tally] = {}
    for best in engines.unit_bests(walk):
        overall = max(best.values(), key=lambda b: (b[0], -b[1]))
        total.add(overall[0], overall[2])
        if spec.breakdown:
            for group, (level, _p0, times) in best.items():
                groups.setdefault(group or "", Tally(walk.n)).add(level, times)
    breakdown = [GroupResult(group, tally.results(spec.labels)) for group, tally in groups.items()]
    breakdown.sort(key=lambda g: (-g.steps[0].count, g.group))
    return FunnelData(steps=total.results(spec.labels), breakdown=breakdown)
