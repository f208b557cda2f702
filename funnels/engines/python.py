"""The walks in Python: one unit at a time, over its events sorted by time, then arrival.

Each row is (unit, time in epoch microseconds, crm_user_id, step mask, feature_id)
(``funnels.engines.walk.event_rows``). Per attempt, one binary search per step into the unit's
per-step event times.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from funnels.engines.walk import Best, Walk

Row = tuple[Any, ...]


class _UnitEvents:
    """One unit's events for the ordered walk: their times and step masks, and per step the
    positions and times of the events that match it."""

    def __init__(self, events: list[Row], n: int) -> None:
        self.n = n
        self.times = [e[1] for e in events]
        self.masks = [e[3] for e in events]
        self.positions: list[list[int]] = [[] for _ in range(n)]
        for p, m in enumerate(self.masks):
            while m:
                low = m & -m
                self.positions[low.bit_length() - 1].append(p)
                m ^= low
        self.step_times = [[self.times[p] for p in plist] for plist in self.positions]

    def match_instant(self, moment: int, k: int, taken: int | None) -> int:
        """How many consecutive steps from k the distinct events at ``moment`` can serve (``taken``,
        the attempt's step-1 event, excluded): a tiny bipartite matching, trivial for one event."""
        masks = self.masks
        lo, hi = bisect_left(self.times, moment), bisect_right(self.times, moment)
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
        while k + served < self.n and assign(k + served, set()):
            served += 1
        return served

    def attempt(self, p0: int, deadline: int) -> list[int]:
        """The step times of the attempt that starts at the event at ``p0``: at each instant, as
        many consecutive steps as its events can serve (the highest level, the earliest times)."""
        t0 = self.times[p0]
        step_at = [t0]
        k = 1
        if k < self.n:
            served = self.match_instant(t0, k, p0)
            step_at += [t0] * served
            k += served
        moment = t0
        while k < self.n:
            candidates = self.step_times[k]
            i = bisect_right(candidates, moment)  # the instant ``moment`` cannot serve step k any more
            if i == len(candidates) or candidates[i] > deadline:
                break
            moment = candidates[i]
            served = self.match_instant(moment, k, None)
            step_at += [moment] * served
            k += served
        return step_at


def ordered_unit(events: list[Row], walk: Walk) -> Best:
    """Evaluate every attempt of one unit (events sorted by time, then arrival)."""
    unit = _UnitEvents(events, walk.n)
    best: Best = {}
    for p0 in unit.positions[0]:
        t0 = unit.times[p0]
        if t0 < walk.start_us:
            continue
        if t0 >= walk.end_us:
            break
        group = walk.group_of(events[p0][2])
        current = best.get(group)
        if current is not None and current[0] == walk.n:
            continue  # this group already has a complete attempt, and an earlier one
        step_at = unit.attempt(p0, t0 + walk.window_us)
        if current is None or len(step_at) > current[0]:
            best[group] = (len(step_at), p0, step_at)
            if len(step_at) == walk.n and group is None:
                break  # the earliest complete attempt: nothing can beat it
    return best


def _strict_attempt(events: list[Row], p0: int, walk: Walk, by_feature: dict[int, list[int]]) -> list[int]:
    """The step times of the strict attempt starting at ``p0``: step k is the next event of its
    feature after step k−1's event, if it matches step k within the deadline."""
    deadline = events[p0][1] + walk.window_us
    step_at = [events[p0][1]]
    p = p0
    for k in range(1, walk.n):
        feature_id = walk.step_features[k]
        same_feature = by_feature.get(feature_id, []) if feature_id is not None else []
        i = bisect_right(same_feature, p)
        if i == len(same_feature):
            break
        q = same_feature[i]
        if events[q][1] > deadline or not events[q][3] >> k & 1:
            break
        step_at.append(events[q][1])
        p = q
    return step_at


def strict_unit(events: list[Row], walk: Walk) -> Best:
    """Strict order: step k must be the next event of its feature after step k−1's event."""
    by_feature: dict[int, list[int]] = {}
    for p, event in enumerate(events):
        by_feature.setdefault(event[4], []).append(p)
    best: Best = {}
    for p0, event in enumerate(events):
        t0 = event[1]
        if not event[3] & 1 or t0 < walk.start_us:
            continue
        if t0 >= walk.end_us:
            break
        group = walk.group_of(event[2])
        current = best.get(group)
        if current is not None and current[0] == walk.n:
            continue
        step_at = _strict_attempt(events, p0, walk, by_feature)
        if current is None or len(step_at) > current[0]:
            best[group] = (len(step_at), p0, step_at)
            if len(step_at) == walk.n and group is None:
                break
    return best
