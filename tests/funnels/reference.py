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
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events.models import Event
from tenancy.models import Workspace


def _utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def _matches(event: Event, step: dict[str, str]) -> bool:
    return (
        event.feature.key == step["feature"]
        and event.action == step["action"]
        and (not step.get("detail") or event.detail == step["detail"])
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
) -> dict[str, Any]:
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
    by_unit: dict[Any, list[Event]] = defaultdict(list)
    for e in kept:
        by_unit[e.crm_user_id if unit == "user" else e.record_id].append(e)

    attempt = _attempt_strict if order == "strict" else _attempt_ordered
    total: list[list[datetime]] = []
    groups: dict[str, list[list[datetime]]] = defaultdict(list)
    for events in by_unit.values():
        events.sort(key=lambda e: (e.occurred_at, e.id))
        attempts = [
            (e0, attempt(events, e0, steps, window))
            for e0 in events
            if first <= e0.occurred_at < after and _matches(e0, steps[0])
        ]
        if not attempts:
            continue

        def best(candidates: list[tuple[Event, list[datetime]]]) -> list[datetime]:
            top = max(len(times) for _e0, times in candidates)
            return min(
                ((e0, times) for e0, times in candidates if len(times) == top),
                key=lambda c: (c[0].occurred_at, c[0].id),
            )[1]

        total.append(best(attempts))
        if breakdown:
            values = {getattr(e0.crm_user, breakdown) or "" for e0, _t in attempts}
            for value in values:
                mine = [(e0, t) for e0, t in attempts if (getattr(e0.crm_user, breakdown) or "") == value]
                groups[value].append(best(mine))

    labels = [" · ".join(p for p in (s["feature"], s["action"], s.get("detail", "")) if p) for s in steps]
    breakdown_rows = [{"group": g, "steps": _table(levels, labels)} for g, levels in groups.items()]
    breakdown_rows.sort(key=lambda g: (-g["steps"][0]["count"], g["group"]))
    return {"steps": _table(total, labels), "breakdown": breakdown_rows}
