"""Do people come back: retention, lifecycle and stickiness (docs/metrics.md#retention and after),
from the users' active days (``behaviour.selectors.activity``). Intervals are local days, ISO weeks
(Monday) or months of the workspace; a period covers the whole intervals it touches."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

from behaviour.selectors.activity import active_days, first_days
from behaviour.selectors.failures import pct
from events.periods import Interval, bucket_end, bucket_start, next_bucket

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from behaviour.queries import LifecycleQuery, RetentionQuery, StickinessQuery


def _buckets(first: date, last: date, interval: Interval) -> list[date]:
    """The intervals touching first..last, each named by its first day."""
    result, current = [], bucket_start(first, interval)
    while current <= last:
        result.append(current)
        current = next_bucket(current, interval)
    return result


def _shift(bucket: date, interval: Interval, k: int) -> date:
    for _ in range(k):
        bucket = next_bucket(bucket, interval)
    return bucket


@dataclass(frozen=True)
class RetentionValue:
    offset: int
    users: int | None  # None: the interval starts after today
    pct: float | None


@dataclass(frozen=True)
class Cohort:
    start: date
    size: int
    values: list[RetentionValue]


def retention(query: RetentionQuery) -> list[Cohort]:
    """Cohorts oldest first. ``first_time``: a user's cohort is the interval of their first-ever start
    event; ``recurring``: every interval of the range in which they have one. Offset k counts the
    cohort's users with a return event anywhere in interval cohort + k (offset 0: the cohort's size)."""
    workspace, interval, filters = query.workspace, query.interval, query.filters
    today = workspace.today()
    cohorts = _buckets(query.period.start, query.period.end, interval)
    last_needed = min(today, bucket_end(_shift(cohorts[-1], interval, query.periods - 1), interval))
    members: dict[date, set[int]] = {c: set() for c in cohorts}
    if query.mode == "recurring":
        started = active_days(workspace, query.start_event, cohorts[0], bucket_end(cohorts[-1], interval), filters)
        for user_id, days in started.items():
            for day in days:
                members[bucket_start(day, interval)].add(user_id)
    else:
        for user_id, day in first_days(workspace, query.start_event, filters).items():
            cohort = bucket_start(day, interval)
            if cohort in members:
                members[cohort].add(user_id)
    returned: dict[int, set[date]] = {}
    for user_id, days in active_days(workspace, query.return_event, cohorts[0], last_needed, filters).items():
        returned[user_id] = {bucket_start(day, interval) for day in days}
    result = []
    for cohort in cohorts:
        users, size = members[cohort], len(members[cohort])
        values = [RetentionValue(0, size, pct(size, size))]
        target = cohort
        for offset in range(1, query.periods):
            target = next_bucket(target, interval)
            if target > today:
                values.append(RetentionValue(offset, None, None))
                continue
            came_back = sum(1 for user_id in users if target in returned.get(user_id, ()))
            values.append(RetentionValue(offset, came_back, pct(came_back, size)))
        result.append(Cohort(cohort, size, values))
    return result


@dataclass(frozen=True)
class LifecycleBucket:
    bucket: date
    new: int
    returning: int
    resurrecting: int
    dormant: int  # active in the interval before and not in this one (drawn below the axis)


def lifecycle(query: LifecycleQuery) -> list[LifecycleBucket]:
    """Per interval I covering the period, among users with a matching event: new (their first-ever
    in I), returning (active in I and I − 1, not new), resurrecting (active in I, not in I − 1, not
    new), dormant (active in I − 1, not in I)."""
    workspace, interval, filters = query.workspace, query.interval, query.filters
    buckets = _buckets(query.period.start, query.period.end, interval)
    before = bucket_start(buckets[0] - timedelta(days=1), interval)
    last = min(workspace.today(), bucket_end(buckets[-1], interval))
    active: dict[date, set[int]] = {b: set() for b in [before, *buckets]}
    for user_id, days in active_days(workspace, query.event, before, last, filters).items():
        for day in days:
            active[bucket_start(day, interval)].add(user_id)
    firsts = {
        user_id: bucket_start(day, interval) for user_id, day in first_days(workspace, query.event, filters).items()
    }
    result, previous = [], active[before]
    for bucket in buckets:
        now = active[bucket]
        new = {user_id for user_id in now if firsts.get(user_id) == bucket}
        result.append(
            LifecycleBucket(
                bucket,
                new=len(new),
                returning=len((now & previous) - new),
                resurrecting=len(now - previous - new),
                dormant=len(previous - now),
            )
        )
        previous = now
    return result


@dataclass(frozen=True)
class Stickiness:
    days: int
    counts: list[tuple[int, int]]  # (k active days, users with exactly k), k = 1 … days
    dau_mau: float | None


MAU_DAYS = 30


def stickiness(query: StickinessQuery) -> Stickiness:
    """Users by their number of active days in the period, and DAU/MAU: the mean over the period's
    days d of DAU(d) / MAU(d) × 100, MAU(d) being the users active in the 30 days ending d (which may
    reach before the period); days with no MAU are left out."""
    workspace, period, filters = query.workspace, query.period, query.filters
    window_start = period.start - timedelta(days=MAU_DAYS - 1)
    days = active_days(workspace, query.event, window_start, period.end, filters)
    per_user = Counter(sum(1 for day in user_days if day >= period.start) for user_days in days.values())
    counts = [(k, per_user.get(k, 0)) for k in range(1, period.days + 1)]
    on_day: dict[date, set[int]] = {}
    for user_id, user_days in days.items():
        for day in user_days:
            on_day.setdefault(day, set()).add(user_id)
    # MAU by a sliding window: how many of the window's days each user was active on.
    in_window: Counter[int] = Counter()
    day, ratios = window_start, []
    while day <= period.end:
        in_window.update(on_day.get(day, ()))
        leaving = day - timedelta(days=MAU_DAYS)
        in_window.subtract(on_day.get(leaving, ()))
        in_window += Counter()  # drop users whose count fell to zero
        if day >= period.start and in_window:
            ratios.append(Fraction(len(on_day.get(day, ())), len(in_window)))
        day += timedelta(days=1)
    dau_mau = round(float(sum(ratios) / len(ratios) * 100), 1) if ratios else None
    return Stickiness(period.days, counts, dau_mau)
