"""Bit arithmetic for the cohort figures (``behaviour.selectors.cohorts``): each user's activity is one
integer, bit i for the i-th day (or interval) of a range, and a figure is counted with a few
whole-integer operations per user and C-level passes over all users, never by walking each user's
days. So a request costs users × (a few big-integer operations), whatever the number of events or
of active days behind them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from events.periods import Interval, next_bucket

# _BIT[i] maps a byte to its bit i (0 or 1), for bytes.translate: counting one bit position over
# every user is then a slice, a translate and a count, all in C.
_BIT = [bytes((b >> i) & 1 for b in range(256)) for i in range(8)]


def column_counts(masks: Iterable[int], width: int) -> list[int]:
    """For k < width, how many of ``masks`` have bit k set (every mask ≥ 0 and < 2**width).

    The masks are laid out as little-endian byte strings side by side; every mask's byte j is then a
    strided slice, and count k is the number of ones in that slice translated to bit k % 8 of each
    byte. The Python-level work is per bit position, not per user."""
    if width <= 0:
        return []
    size = (width + 7) // 8
    data = b"".join([mask.to_bytes(size, "little") for mask in masks])
    columns = [data[j::size] for j in range(size)]
    return [columns[k >> 3].translate(_BIT[k & 7]).count(1) for k in range(width)]


def smear(bits: int, window: int) -> int:
    """Bit i set if any of bits i − window + 1 … i is: whether a window of ``window`` days ending on
    day i holds an active day, for every i at once (doubling shifts: log2(window) operations)."""
    covered = 1
    while covered * 2 <= window:
        bits |= bits << covered
        covered *= 2
    if covered < window:  # the last step overlaps the covered stretch: still an OR of the window
        bits |= bits << (window - covered)
    return bits


def _every_seventh(bits: int) -> int:
    """Bits 0, 7, 14, … of ``bits`` packed together (bit k of the result is bit 7k): read from the
    binary text with a strided slice, which is C-level whatever the length."""
    text = format(bits, "b")[::-1]  # least significant bit first
    return int(text[::7][::-1], 2)


@dataclass(frozen=True)
class Grid:
    """``count`` consecutive intervals from ``start`` (the first day of a day, ISO week or month).
    Day masks have bit i for day start + i; interval masks bit k for interval k."""

    start: date
    interval: Interval
    count: int
    # The day offset of each interval's first day, then that of the day after the last interval.
    edges: list[int] = field(init=False, repr=False)
    # Per interval, the mask of its days (months only: weeks and days need none).
    _month_masks: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        edges, bucket = [0], self.start
        for _ in range(self.count):
            bucket = next_bucket(bucket, self.interval)
            edges.append((bucket - self.start).days)
        object.__setattr__(self, "edges", edges)
        months = [((1 << (b - a)) - 1) << a for a, b in pairwise(edges)] if self.interval is Interval.MONTH else []
        object.__setattr__(self, "_month_masks", months)

    @property
    def days(self) -> int:
        return self.edges[-1]

    def index_of(self, offset: int) -> int | None:
        """The interval holding day start + offset; None outside the grid."""
        if not 0 <= offset < self.days:
            return None
        return bisect_right(self.edges, offset) - 1

    def intervals(self, days: int) -> int:
        """The intervals with a set bit in the day mask ``days`` (which has none beyond the grid)."""
        if not days or self.interval is Interval.DAY:
            return days
        if self.interval is Interval.WEEK:
            # Bit 7k of the OR of each bit with the six after it: any day of week k (start is a Monday).
            days |= days >> 1
            days |= days >> 2
            days |= days >> 3
            return _every_seventh(days)
        # Months differ in length, and a request covers few (at most 25 cohorts + 35 offsets).
        return sum(1 << k for k, mask in enumerate(self._month_masks) if days & mask)
