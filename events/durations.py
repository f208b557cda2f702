"""Duration histograms: how ``FeatureActionDay`` keeps the durations of a day's events, and how a
period's median and 90th percentile come back out of them.

Bucket i (from 1) holds the durations from ``LOWS[i - 1]`` to ``LOWS[i] - 1`` ms and is read back as
``VALUES[i - 1]``, a whole number of milliseconds within 5 % of every duration in the bucket; so a
percentile read from a histogram is within 5 % of the exact one (docs/metrics.md). The buckets are
as wide as that allows (integer arithmetic, no rounding): one per millisecond below 20 ms, then
about 10 % wide, 180 of them up to a day. ``bisect_right(LOWS, d)`` numbers the bucket of d in
Python, ``width_bucket(duration_ms, LOWS)`` in PostgreSQL: the same integer comparisons.

Percentiles are nearest-rank (DESIGN.md section 5): the value at rank ⌈q·n⌉ of the sorted durations.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Mapping

from events.models import MAX_DURATION_MS


def _buckets() -> tuple[list[int], list[int]]:
    lows: list[int] = []
    values: list[int] = []
    low = 0
    while low <= MAX_DURATION_MS:
        value = low * 105 // 100  # at most 5 % above the bucket's lowest duration
        high = value * 100 // 95  # and at most 5 % below its highest
        lows.append(low)
        values.append(min(value, MAX_DURATION_MS))
        low = high + 1
    return lows, values


LOWS, VALUES = _buckets()


def bucket_of(duration_ms: int) -> int:
    return bisect.bisect_right(LOWS, duration_ms)


def bucket_value(bucket: int) -> int:
    """The duration a bucket stands for."""
    return VALUES[bucket - 1]


def histogram(durations: Iterable[int]) -> dict[str, int]:
    """The histogram of some durations, as ``FeatureActionDay.duration_buckets`` stores it."""
    return {str(bucket): n for bucket, n in sorted(Counter(map(bucket_of, durations)).items())}


def histogram_merge(histograms: Iterable[Mapping[str, int]]) -> Counter[int]:
    total: Counter[int] = Counter()
    for buckets in histograms:
        for bucket, n in buckets.items():
            total[int(bucket)] += n
    return total


def nearest_rank(count: int, q: float) -> int:
    """The rank (from 1) of the q-quantile among ``count`` sorted values: ⌈q·count⌉, at least 1."""
    return max(1, math.ceil(q * count - 1e-9))


def histogram_quantile(buckets: Mapping[int, int], q: float) -> int | None:
    """The nearest-rank q-quantile of the durations a merged histogram holds (None when empty)."""
    count = sum(buckets.values())
    if not count:
        return None
    rank = nearest_rank(count, q)
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    raise AssertionError("unreachable: the ranks add up to the count")
