"""The walks in Python: one unit at a time, over its events sorted by time, then arrival.

Each row is (unit, time in epoch microseconds, crm_user_id, mask, feature_id)
(``funnels.engines.walk.event_rows``); the mask's low n bits say which steps the event matches,
the bits above which exclusion steps. Ordered: per attempt, one binary search per step into the
unit's per-step event times. Any order: per attempt, a maximum matching of steps to the window's
events, grown one event at a time. An attempt an exclusion step voids is dropped
(``Exclusions``) before the best attempts are chosen.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from funnels.engines.walk import Best, Walk, keep_if_better

Row = tuple[Any, ...]


class Exclusions:
    """One unit's events per exclusion step, by time: whether one voids an attempt."""

    def __init__(self, events: list[Row], walk: Walk) -> None:
        self.between = [e.between for e in walk.spec.exclusions]
        self.times: list[list[int]] = [[] for _ in self.between]
        for event in events:
            bits = event[3] >> walk.n
            for j in range(len(self.between)):
                if bits >> j & 1:
                    self.times[j].append(event[1])

    def void(self, step_at: list[int], deadline: int) -> bool:
        """Whether an excluded event falls between the attempt's step a and step b (inclusive; its
        deadline when it did not reach b), for an exclusion whose step a it reached."""
        level = len(step_at)
        for times, (a, b) in zip(self.times, self.between, strict=True):
            if level < a or not times:
                continue
            low, high = step_at[a - 1], step_at[b - 1] if level >= b else deadline
            i = bisect_left(times, low)
            if i < len(times) and times[i] <= high:
                return True
        return False


def _exclusions(events: list[Row], walk: Walk) -> Exclusions | None:
    return Exclusions(events, walk) if walk.spec.exclusions else None


class _UnitEvents:
    """One unit's events for the ordered walk: their times and step masks, and per step the
    positions and times of the events that match it."""

    def __init__(self, events: list[Row], n: int) -> None:
        self.n = n
        self.times = [e[1] for e in events]
        steps = (1 << n) - 1
        self.masks = [e[3] & steps for e in events]
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
    exclusions = _exclusions(events, walk)
    best: Best = {}
    for p0 in unit.positions[0]:
        t0 = unit.times[p0]
        if t0 < walk.start_us:
            continue
        if t0 >= walk.end_us:
            break
        group = walk.attempt_group(events[p0][2], t0)
        current = best.get(group)
        if current is not None and current[0] == walk.n:
            continue  # this group already has a complete attempt, and an earlier one
        deadline = t0 + walk.window_us
        step_at = unit.attempt(p0, deadline)
        if exclusions is not None and exclusions.void(step_at, deadline):
            continue
        if keep_if_better(best, group, len(step_at), p0, step_at) and len(step_at) == walk.n and group is None:
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
    step_features = set(walk.step_features)
    for p, event in enumerate(events):
        if event[4] in step_features:  # events only an exclusion step asked for do not end attempts
            by_feature.setdefault(event[4], []).append(p)
    exclusions = _exclusions(events, walk)
    best: Best = {}
    for p0, event in enumerate(events):
        t0 = event[1]
        if not event[3] & 1 or t0 < walk.start_us:
            continue
        if t0 >= walk.end_us:
            break
        group = walk.attempt_group(event[2], t0)
        current = best.get(group)
        if current is not None and current[0] == walk.n:
            continue
        step_at = _strict_attempt(events, p0, walk, by_feature)
        if exclusions is not None and exclusions.void(step_at, t0 + walk.window_us):
            continue
        if keep_if_better(best, group, len(step_at), p0, step_at) and len(step_at) == walk.n and group is None:
            break
    return best


def _any_order_attempt(times: list[int], masks: list[int], first: int, deadline: int, n: int) -> list[int]:
    """The step times T(1), T(2)… of the any-order attempt whose window holds the events from
    position ``first`` up to ``deadline``: T(k) is the time of the event with which a maximum
    matching of steps to distinct events first reaches k.

    Kuhn's augmenting paths, one event at a time: after each event the matching is maximum for the
    events seen so far, so its size grows by at most one per event, and exactly when it can."""
    owner = [-1] * n  # step → the position of the event serving it

    def augment(p: int, seen: int) -> bool:
        m = masks[p]
        while m:
            low = m & -m
            step = low.bit_length() - 1
            m ^= low
            if seen >> step & 1:
                continue
            seen |= low
            if owner[step] < 0 or augment(owner[step], seen):
                owner[step] = p
                return True
        return False

    step_at: list[int] = []
    for p in range(first, len(times)):
        if times[p] > deadline:
            break
        if masks[p] and augment(p, 0):
            step_at.append(times[p])
            if len(step_at) == n:
                break
    return step_at


def _disjoint_any_order_attempt(step_times: list[list[int]], t0: int, deadline: int) -> list[int]:
    """``_any_order_attempt`` when no event of the unit matches two steps: a matching is then one
    event per step, so T(k) is the k-th earliest of the steps' first times in the window (one
    binary search per step instead of a pass over the window's events)."""
    firsts = []
    for times in step_times:
        i = bisect_left(times, t0)
        if i < len(times) and times[i] <= deadline:
            firsts.append(times[i])
    firsts.sort()
    return firsts


def any_order_unit(events: list[Row], walk: Walk) -> Best:
    """Any order: an attempt starts at every event matching some step; its level is the most
    steps distinct events of its window can serve (docs/metrics.md#any-order)."""
    times = [e[1] for e in events]
    masks = [e[3] & walk.step_bits for e in events]
    step_times: list[list[int]] | None = None
    if all(m & (m - 1) == 0 for m in masks):  # no event matches two steps: the quick walk
        step_times = [[] for _ in range(walk.n)]
        for t, m in zip(times, masks, strict=True):
            if m:
                step_times[m.bit_length() - 1].append(t)
    exclusions = _exclusions(events, walk)
    best: Best = {}
    same_start: tuple[int, list[int] | None] | None = None  # attempts of one instant share a window
    for p0, t0 in enumerate(times):
        if not masks[p0] or t0 < walk.start_us:
            continue
        if t0 >= walk.end_us:
            break
        group = walk.attempt_group(events[p0][2], t0)
        current = best.get(group)
        if current is not None and current[0] == walk.n:
            continue
        if same_start is None or same_start[0] != t0:
            deadline = t0 + walk.window_us
            if step_times is not None:
                step_at = _disjoint_any_order_attempt(step_times, t0, deadline)
            else:
                step_at = _any_order_attempt(times, masks, bisect_left(times, t0), deadline, walk.n)
            voided = exclusions is not None and exclusions.void(step_at, deadline)
            same_start = (t0, None if voided else step_at)
        kept = same_start[1]
        if kept is None:
            continue
        if keep_if_better(best, group, len(kept), p0, kept) and len(kept) == walk.n and group is None:
            break
    return best
