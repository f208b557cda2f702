"""Do people come back: retention, lifecycle and stickiness (docs/metrics.md#retention and after),
from the users' active days (``behaviour.selectors.activity``). Intervals are local days, ISO weeks
(Monday) or months of the workspace; a period covers the whole intervals it touches."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

from behaviour.selectors.activity import active_day_bits, first_day_offsets
from behaviour.selectors.bitmaps import Grid, column_counts, smear
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


@dataclass(frozen=True)
class RetentionGrid:
    """Per cohort (oldest first), its members and, for each, their return intervals from the cohort
    on (bit j: offset j): what ``retention`` counts and its drill-down lists."""

    cohorts: list[date]
    members: list[list[int]]  # user ids, per cohort
    returns: list[list[int]]  # the masks of those users, in the same order


def retention(query: RetentionQuery) -> list[Cohort]:
    """Cohorts oldest first. ``first_time``: a user's cohort is the interval of their first-ever start
    event; ``recurring``: every interval of the range in which they have one. Offset k counts the
    cohort's users with a return event anywhere in interval cohort + k (offset 0: the cohort's size)."""
    today, interval = query.workspace.today(), query.interval
    grid = retention_grid(query)
    result = []
    for cohort, rows in zip(grid.cohorts, grid.returns, strict=True):
        size, counts = len(rows), column_counts(rows, query.periods)
        values = [RetentionValue(0, size, pct(size, size))]
        target = cohort
        for offset in range(1, query.periods):
            target = next_bucket(target, interval)
            if target > today:
                values.append(RetentionValue(offset, None, None))
                continue
            values.append(RetentionValue(offset, counts[offset], pct(counts[offset], size)))
        result.append(Cohort(cohort, size, values))
    return result


def retention_people(query: RetentionQuery, cohort: date, offset: int) -> list[int]:
    """The users of one retention cell: the cohort's members (offset 0), or those of them with a
    return event in interval cohort + offset."""
    grid = retention_grid(query)
    k = grid.cohorts.index(cohort)
    if offset == 0:
        return list(grid.members[k])
    return [user_id for user_id, came in zip(grid.members[k], grid.returns[k], strict=True) if came >> offset & 1]


def retention_grid(query: RetentionQuery) -> RetentionGrid:
    """The cohorts of ``retention``, each with its members and their return intervals."""
    workspace, interval, filters = query.workspace, query.interval, query.filters
    today = workspace.today()
    cohorts = _buckets(query.period.start, query.period.end, interval)
    # Interval k of the grid is cohort k, and cohort + offset is interval k + offset.
    grid = Grid(cohorts[0], interval, len(cohorts) + query.periods - 1)
    last_needed = min(today, bucket_end(_shift(cohorts[-1], interval, query.periods - 1), interval))
    members: dict[int, int] = {}  # user → the cohorts they belong to, as interval bits
    if query.mode == "recurring":
        started = active_day_bits(workspace, query.start_event, cohorts[0], bucket_end(cohorts[-1], interval), filters)
        members = {user_id: grid.intervals(days) for user_id, days in started.items()}
    else:
        for user_id, offset in first_day_offsets(workspace, query.start_event, filters, cohorts[0]).items():
            k = grid.index_of(offset)
            if k is not None and k < len(cohorts):
                members[user_id] = 1 << k
    returned = active_day_bits(workspace, query.return_event, cohorts[0], last_needed, filters)
    # Per cohort, each member's return intervals from the cohort on (bit j: offset j); the counts
    # per offset are then column sums over the cohort, not a look-up per member and offset.
    window = (1 << query.periods) - 1
    later: list[list[int]] = [[] for _ in cohorts]
    who: list[list[int]] = [[] for _ in cohorts]
    for user_id, starts in members.items():
        came = grid.intervals(returned.get(user_id, 0))
        while starts:
            k = (starts & -starts).bit_length() - 1
            later[k].append(came >> k & window)
            who[k].append(user_id)
            starts &= starts - 1
    return RetentionGrid(cohorts, who, later)


@dataclass(frozen=True)
class LifecycleBucket:
    bucket: date
    new: int
    returning: int
    resurrecting: int
    dormant: int  # active in the interval before and not in this one (drawn below the axis)


LIFECYCLE_STATES = ("new", "returning", "resurrecting", "dormant")


def lifecycle(query: LifecycleQuery) -> list[LifecycleBucket]:
    """Per interval I covering the period, among users with a matching event: new (their first-ever
    in I), returning (active in I and I − 1, not new), resurrecting (active in I, not in I − 1, not
    new), dormant (active in I − 1, not in I)."""
    buckets, _users, masks = lifecycle_masks(query)
    columns = [column_counts(m, len(buckets)) for m in masks]
    return [
        LifecycleBucket(bucket, new=n, returning=r, resurrecting=s, dormant=d)
        for bucket, n, r, s, d in zip(buckets, *columns, strict=True)
    ]


def lifecycle_people(query: LifecycleQuery, bucket: date, state: str) -> list[int]:
    """The users of one lifecycle bar: those in ``state`` (``LIFECYCLE_STATES``) in the bucket; the
    dormant ones are those who went dormant in it (active in the interval before, not in it)."""
    buckets, users, masks = lifecycle_masks(query)
    j, column = buckets.index(bucket), masks[LIFECYCLE_STATES.index(state)]
    return [user_id for user_id, mask in zip(users, column, strict=True) if mask >> j & 1]


def lifecycle_masks(query: LifecycleQuery) -> tuple[list[date], list[int], list[list[int]]]:
    """The buckets, the users with a matching event, and per state of ``LIFECYCLE_STATES`` each
    user's mask over the buckets (bit j: in that state in buckets[j])."""
    workspace, interval, filters = query.workspace, query.interval, query.filters
    buckets = _buckets(query.period.start, query.period.end, interval)
    before = bucket_start(buckets[0] - timedelta(days=1), interval)
    grid = Grid(before, interval, len(buckets) + 1)  # interval 0 is the one before the period
    last = min(workspace.today(), bucket_end(buckets[-1], interval))
    firsts = first_day_offsets(workspace, query.event, filters, before)
    # Per user, four masks over the buckets (bit j: buckets[j]): I against I − 1 for every I at
    # once is the active intervals against themselves shifted by one.
    everything = (1 << len(buckets)) - 1
    new, returning, resurrecting, dormant, users = [], [], [], [], []
    for user_id, days in active_day_bits(workspace, query.event, before, last, filters).items():
        users.append(user_id)
        active = grid.intervals(days)
        now, previous = active >> 1, active & everything
        first = grid.index_of(firsts.get(user_id, -1))
        fresh = now & ((1 << first) >> 1) if first is not None else 0  # the first interval ever is I
        new.append(fresh)
        returning.append(now & previous & ~fresh)
        resurrecting.append(now & ~previous & ~fresh)
        dormant.append(previous & ~now)
    return buckets, users, [new, returning, resurrecting, dormant]


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
    period = query.period
    lead = MAU_DAYS - 1  # the days read before the period, for the MAU of its first days
    days = _stickiness_days(query)
    in_period = [bits >> lead for bits in days.values()]  # bit i: day period.start + i
    per_user = Counter(bits.bit_count() for bits in in_period)
    counts = [(k, per_user.get(k, 0)) for k in range(1, period.days + 1)]
    # A user counts in MAU(d) when any of their days d − 29 … d is set: bit d of the smeared mask.
    span = (1 << period.days) - 1
    monthly = [smear(bits, MAU_DAYS) >> lead & span for bits in days.values()]
    dau, mau = column_counts(in_period, period.days), column_counts(monthly, period.days)
    ratios = [Fraction(daily, users) for daily, users in zip(dau, mau, strict=True) if users]
    dau_mau = round(float(sum(ratios) / len(ratios) * 100), 1) if ratios else None
    return Stickiness(period.days, counts, dau_mau)


def _stickiness_days(query: StickinessQuery) -> dict[int, int]:
    """Each user's active days from MAU_DAYS − 1 days before the period to its end (bit i: day i)."""
    period, lead = query.period, MAU_DAYS - 1
    return active_day_bits(query.workspace, query.event, period.start - timedelta(days=lead), period.end, query.filters)


def stickiness_people(query: StickinessQuery, active_days: int) -> list[int]:
    """The users of one stickiness bar: exactly ``active_days`` active days in the period."""
    lead = MAU_DAYS - 1
    return [user_id for user_id, bits in _stickiness_days(query).items() if (bits >> lead).bit_count() == active_days]
