"""An independent, deliberately naive implementation of docs/metrics.md#funnels, for the tests.

It shares no code with ``funnels.selectors``: it loads every Event of the workspace as a model
instance, applies the definitions literally and searches every chain of events exhaustively
(exponential, fine for a few hundred events):

* an attempt starts at each step-1 event in [start 00:00, end + 1 day 00:00) local time;
* a chain is e1 (the attempt's event), e2, … ek of distinct events, e_i matching step i, each at or
  after the time of the previous one and no later than e1's time + window;
* an attempt's level is the length of its longest chain; its step times are, for each k, the
  earliest time at which any of its chains reaches step k;
* a unit's level is the best attempt's; its times are those of the earliest attempt (by time,
  then id of the step-1 event) with that level;
* strict order: step k is the first event of step k's feature after step k−1's event (by time,
  then id), and it must match step k;
* breakdown: per attribute value, the same over the attempts whose step-1 event's user has it.

Also:

* any order (``order="any"``): an attempt starts at each event in the range matching any step; its
  window is the unit's events with a time in [t0, t0 + window]; its level is the size of a maximum
  matching of steps to distinct events of the window (found by exhaustive search); T(k) is the
  earliest time t at which the window's events up to t admit a matching of size k;
* exclusions (``{"feature", "action", "detail", "between": (a, b)}``, action or detail "" = any):
  an attempt of level L ≥ a is void when an event of the unit matching the exclusion lies in
  [T(a), T(b)] (or [T(a), deadline] when L < b), both ends included. Void attempts are dropped
  before anything else: a unit all of whose attempts are void does not exist for the funnel;
* time to convert (``reference_time_to_convert``), conversion over time (``reference_trends``) and
  the units reached or dropped at a step (``reference_people``) are read from the same attempts.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from events.models import Event
from tenancy.models import Workspace

# Time-to-convert bin edges in seconds (the last bin listed ends at the window instead).
EDGES = [
    0,
    60,
    300,
    900,
    1800,
    3600,
    10800,
    21600,
    43200,
    86400,
    172800,
    259200,
    604800,
    1209600,
    2592000,
    5184000,
    7776000,
    15552000,
    31536000,
]

# One attempt: its start event and its step times (as many as its level).
Attempt = tuple[Event, list[datetime]]


def _utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def _matches(event: Event, step: dict[str, str]) -> bool:
    return (
        event.feature.key == step["feature"]
        and event.action == step["action"]
        and (not step.get("detail") or event.detail == step["detail"])
    )


def _excluded(event: Event, exclusion: dict[str, Any]) -> bool:
    return (
        event.feature.key == exclusion["feature"]
        and (not exclusion.get("action") or event.action == exclusion["action"])
        and (not exclusion.get("detail") or event.detail == exclusion["detail"])
    )


def _attempt_ordered(events: list[Event], e0: Event, steps: list[dict[str, str]], window: timedelta) -> list[datetime]:
    """The earliest time of each step reachable from e0 (a list as long as the attempt's level)."""
    deadline = e0.occurred_at + window
    earliest: dict[int, datetime] = {}

    def extend(chain: list[Event]) -> None:
        length = len(chain)
        last = chain[-1].occurred_at
        if length not in earliest or last < earliest[length]:
            earliest[length] = last
        if length == len(steps):
            return
        for event in events:
            if event in chain or event.occurred_at < last or event.occurred_at > deadline:
                continue
            if _matches(event, steps[length]):
                extend([*chain, event])

    extend([e0])
    level = max(earliest)
    return [earliest[k] for k in range(1, level + 1)]


def _attempt_strict(events: list[Event], e0: Event, steps: list[dict[str, str]], window: timedelta) -> list[datetime]:
    deadline = e0.occurred_at + window
    times = [e0.occurred_at]
    position = events.index(e0)
    for step in steps[1:]:
        following = [e for e in events[position + 1 :] if e.feature.key == step["feature"]]
        if not following:
            break
        nxt = following[0]
        if nxt.occurred_at > deadline or not _matches(nxt, step):
            break
        times.append(nxt.occurred_at)
        position = events.index(nxt)
    return times


def _matching(events: list[Event], steps: list[dict[str, str]]) -> int:
    """The size of a maximum matching of steps to distinct events (an event serves one step at most),
    by trying, step after step, to leave it out or to give it one of the events left that match it.
    Events matching the same steps are interchangeable, so only how many of each kind are left
    matters (which makes the search small)."""
    kinds = Counter(tuple(_matches(e, s) for s in steps) for e in events)
    order = sorted(kinds)

    @cache
    def largest(i: int, left: tuple[int, ...]) -> int:
        if i == len(steps):
            return 0
        found = largest(i + 1, left)
        for j, kind in enumerate(order):
            if kind[i] and left[j]:
                found = max(found, 1 + largest(i + 1, (*left[:j], left[j] - 1, *left[j + 1 :])))
        return found

    return largest(0, tuple(kinds[kind] for kind in order))


def _attempt_any(events: list[Event], e0: Event, steps: list[dict[str, str]], window: timedelta) -> list[datetime]:
    """T(1)…T(level): for each k, the earliest time by which the window's events match k steps."""
    deadline = e0.occurred_at + window
    inside = [e for e in events if e0.occurred_at <= e.occurred_at <= deadline]
    times: list[datetime] = []
    for moment in sorted({e.occurred_at for e in inside}):
        reached = _matching([e for e in inside if e.occurred_at <= moment], steps)
        while len(times) < reached:
            times.append(moment)
    return times


def _void(events: list[Event], e0: Event, times: list[datetime], exclusions: list[dict], window: timedelta) -> bool:
    level = len(times)
    for exclusion in exclusions:
        a, b = exclusion["between"]
        if level < a:
            continue
        low = times[a - 1]
        high = times[b - 1] if level >= b else e0.occurred_at + window
        if any(_excluded(e, exclusion) and low <= e.occurred_at <= high for e in events):
            return True
    return False


def _attempts(
    *,
    workspace: Workspace,
    steps: list[dict[str, str]],
    start: date,
    end: date,
    unit: str = "user",
    window_days: int = 14,
    order: str = "ordered",
    filters: dict[str, list[str]] | None = None,
    breakdown: str = "",
    exclusions: list[dict[str, Any]] | None = None,
) -> dict[str, list[Attempt]]:
    """Per unit (a user's external id, or a record id), its attempts that are not void; units
    without one are left out."""
    tz = ZoneInfo(workspace.timezone)
    first, after = _utc_midnight(start, tz), _utc_midnight(end + timedelta(days=1), tz)
    window = timedelta(days=window_days)
    everything = list(Event.objects.filter(workspace=workspace).select_related("feature", "crm_user"))
    kept = [
        e
        for e in everything
        if all(getattr(e.crm_user, attribute) in values for attribute, values in (filters or {}).items() if values)
        and (unit == "user" or e.record_id)
    ]
    by_unit: dict[str, list[Event]] = defaultdict(list)
    for e in kept:
        by_unit[e.crm_user.external_id if unit == "user" else e.record_id].append(e)

    attempt: Callable[..., list[datetime]] = {
        "ordered": _attempt_ordered,
        "strict": _attempt_strict,
        "any": _attempt_any,
    }[order]
    starts = steps if order == "any" else steps[:1]
    result: dict[str, list[Attempt]] = {}
    for key, events in by_unit.items():
        events.sort(key=lambda e: (e.occurred_at, e.id))
        attempts = [
            (e0, attempt(events, e0, steps, window))
            for e0 in events
            if first <= e0.occurred_at < after and any(_matches(e0, s) for s in starts)
        ]
        attempts = [(e0, times) for e0, times in attempts if not _void(events, e0, times, exclusions or [], window)]
        if attempts:
            result[key] = attempts
    return result


def _best(candidates: list[Attempt]) -> list[datetime]:
    """The step times of the best attempt: the highest level, then the earliest start (time, id)."""
    top = max(len(times) for _e0, times in candidates)
    return min(
        ((e0, times) for e0, times in candidates if len(times) == top),
        key=lambda c: (c[0].occurred_at, c[0].id),
    )[1]


def _table(levels: list[list[datetime]], labels: list[str]) -> list[dict[str, Any]]:
    n = len(labels)
    counts = [sum(1 for times in levels if len(times) >= k) for k in range(1, n + 1)]
    rows = []
    for k in range(n):
        durations = [(t[k] - t[k - 1]).total_seconds() for t in levels if len(t) > k] if k else []
        conversion = round(counts[k] / counts[0] * 100, 1) if counts[0] else None
        if k == 0:
            dropoff: float | None = 0.0
        else:
            dropoff = round((counts[k - 1] - counts[k]) / counts[k - 1] * 100, 1) if counts[k - 1] else None
        rows.append(
            {
                "step": k + 1,
                "label": labels[k],
                "count": counts[k],
                "conversion_pct": conversion,
                "dropoff_pct": dropoff,
                "median_seconds_from_previous": round(statistics.median(durations), 1) if durations else None,
            }
        )
    return rows


def reference_funnel(
    *,
    workspace: Workspace,
    steps: list[dict[str, str]],
    start: date,
    end: date,
    unit: str = "user",
    window_days: int = 14,
    order: str = "ordered",
    filters: dict[str, list[str]] | None = None,
    breakdown: str = "",
    exclusions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``funnel_compute(…).as_dict()``."""
    by_unit = _attempts(
        workspace=workspace,
        steps=steps,
        start=start,
        end=end,
        unit=unit,
        window_days=window_days,
        order=order,
        filters=filters,
        exclusions=exclusions,
    )
    total: list[list[datetime]] = []
    groups: dict[str, list[list[datetime]]] = defaultdict(list)
    for attempts in by_unit.values():
        total.append(_best(attempts))
        if breakdown:
            values = {getattr(e0.crm_user, breakdown) or "" for e0, _t in attempts}
            for value in values:
                mine = [(e0, t) for e0, t in attempts if (getattr(e0.crm_user, breakdown) or "") == value]
                groups[value].append(_best(mine))

    labels = [" · ".join(p for p in (s["feature"], s["action"], s.get("detail", "")) if p) for s in steps]
    breakdown_rows = [{"group": g, "steps": _table(levels, labels)} for g, levels in groups.items()]
    breakdown_rows.sort(key=lambda g: (-g["steps"][0]["count"], g["group"]))
    return {"steps": _table(total, labels), "breakdown": breakdown_rows}


def reference_time_to_convert(*, from_step: int, to_step: int, **definition: Any) -> dict[str, Any]:
    """``funnel_time_to_convert(…).as_dict()``: T(to) − T(from) of each unit's best attempt that
    reaches ``to_step``, its median and its bins ([lo, hi), the last one [lo, window])."""
    bests = [_best(attempts) for attempts in _attempts(**definition).values()]
    durations = [(t[to_step - 1] - t[from_step - 1]).total_seconds() for t in bests if len(t) >= to_step]
    window_seconds = definition.get("window_days", 14) * 86400
    lows = [edge for edge in EDGES if edge < window_seconds]
    bins = []
    for i, low in enumerate(lows):
        last = i == len(lows) - 1
        high = window_seconds if last else lows[i + 1]
        inside = [d for d in durations if low <= d < high or (last and d == high)]
        bins.append({"from_seconds": low, "to_seconds": high, "units": len(inside)})
    return {
        "from_step": from_step,
        "to_step": to_step,
        "units": len(durations),
        "median_seconds": round(statistics.median(durations), 1) if durations else None,
        "bins": bins,
    }


def _bucket_of(day: date, interval: str) -> date:
    if interval == "day":
        return day
    if interval == "week":
        while day.weekday() != 0:  # back to Monday
            day -= timedelta(days=1)
        return day
    return date(day.year, day.month, 1)


def reference_trends(*, interval: str, **definition: Any) -> dict[str, Any]:
    """``funnel_trends(…).as_dict()``: per bucket of the attempts' start (local time), the units with
    an attempt starting in it, and those of them with one that completes the funnel."""
    tz = ZoneInfo(definition["workspace"].timezone)
    n = len(definition["steps"])
    by_unit = _attempts(**definition)
    buckets: list[date] = []
    day = definition["start"]
    while day <= definition["end"]:
        if _bucket_of(day, interval) not in buckets:
            buckets.append(_bucket_of(day, interval))
        day += timedelta(days=1)
    rows = []
    for bucket in buckets:
        entered = completed = 0
        for attempts in by_unit.values():
            mine = [
                (e0, t) for e0, t in attempts if _bucket_of(e0.occurred_at.astimezone(tz).date(), interval) == bucket
            ]
            if mine:
                entered += 1
                completed += len(_best(mine)) == n
        rows.append(
            {
                "bucket": bucket.isoformat(),
                "entered": entered,
                "completed": completed,
                "conversion_pct": round(completed / entered * 100, 1) if entered else None,
            }
        )
    return {"interval": interval, "buckets": rows}


def reference_people(*, step: int, status: str, **definition: Any) -> list[tuple[str, int]]:
    """``funnel_people(…)`` as (unit, level) pairs: the units whose best level is at least ``step``
    (``reached``) or exactly ``step`` − 1 (``dropped``), by unit."""
    levels = {key: len(_best(attempts)) for key, attempts in _attempts(**definition).items()}
    if status == "reached":
        return sorted((key, level) for key, level in levels.items() if level >= step)
    return sorted((key, level) for key, level in levels.items() if level == step - 1)
