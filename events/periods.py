"""The one date-range object every tab uses (docs/metrics.md#periods).

A ``Period`` is an inclusive range of calendar days in a workspace's time zone. It knows its UTC
bounds (for raw-event queries), the previous period of equal length, and its buckets (day, ISO week
starting Monday, month) with every bucket present so charts get a continuous axis.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext as _

# The dates a request may name. Far enough apart for any CRM's history, and far enough from
# date.min/date.max that a period and its previous period (2 × two years back) stay in the calendar.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def week_start(day: date) -> date:
    """The Monday of the ISO week holding ``day``."""
    return day - timedelta(days=day.weekday())


def bucket_start(day: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return day
    if interval is Interval.WEEK:
        return week_start(day)
    return day.replace(day=1)


def next_bucket(start: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return start + timedelta(days=1)
    if interval is Interval.WEEK:
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def bucket_end(bucket: date, interval: Interval) -> date:
    """The last day of the day, ISO week or month named ``bucket``."""
    return next_bucket(bucket, interval) - timedelta(days=1)


def local_midnight_utc(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz`` (correct across DST changes)."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    tz: zoneinfo.ZoneInfo

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError("A period cannot start after it ends.")

    @classmethod
    def ending(cls, as_of: date, days: int, tz: zoneinfo.ZoneInfo) -> Period:
        """The ``days`` days ending on ``as_of`` inclusive (docs/metrics.md#n-days-ending-on-as_of)."""
        if days < 1:
            raise ValueError("A period has at least one day.")
        return cls(start=as_of - timedelta(days=days - 1), end=as_of, tz=tz)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def calendar_month(self) -> date | None:
        """The first day of the month, if the period is exactly one calendar month; else None."""
        if self.start.day == 1 and self.end == month_end(self.start):
            return self.start
        return None

    @property
    def incomplete(self) -> bool:
        """Whether the period ends today or later in its time zone: its figures are still growing."""
        return self.end >= timezone.now().astimezone(self.tz).date()

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return Period.ending(self.start - timedelta(days=1), self.days, self.tz)

    @property
    def start_utc(self) -> datetime:
        return local_midnight_utc(self.start, self.tz)

    @property
    def end_utc(self) -> datetime:
        """Exclusive upper bound: the instant the day after ``end`` begins."""
        return local_midnight_utc(self.end + timedelta(days=1), self.tz)

    def dates(self) -> Iterator[date]:
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)

    def buckets(self, interval: Interval) -> list[date]:
        """Every bucket touching the period, oldest first; a bucket is named by its first day
        (which may lie before ``start`` for a week or month that the period enters mid-way)."""
        result = []
        current = bucket_start(self.start, interval)
        while current <= self.end:
            result.append(current)
            current = next_bucket(current, interval)
        return result

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def change_pct(current: float, previous: float) -> float | None:
    """docs/metrics.md#change_pct: round((current − previous) / previous × 100, 1); None when previous is 0."""
    if not previous:
        return None
    return round((current - previous) / previous * 100, 1)


MAX_RANGE_DAYS = 731  # two years


class RangeError(ValueError):
    """A bad date range; ``field`` names the parameter at fault (``start`` or ``end``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def period_between(start: date, end: date, tz: zoneinfo.ZoneInfo) -> Period:
    """A Period from two local dates, checked as every tab checks them (raises ``RangeError``)."""
    for field, value in (("start", start), ("end", end)):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            message = _("Must be between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": LATEST_DATE}
            raise RangeError(field, message)
    if start > end:
        raise RangeError("start", _("Must not be after end."))
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise RangeError("end", _("The range may span at most %(days)s days (2 years).") % {"days": MAX_RANGE_DAYS})
    return Period(start, end, tz)


def month_end(month: date) -> date:
    """The last day of the month that ``month`` is in."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def months_between(first: date, last: date) -> list[date]:
    """The first day of every month that first..last touches, in order."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


def month_days(month: date, first: date, last: date) -> list[date]:
    """The days of ``month`` inside first..last, in order (none if they do not meet)."""
    low, high = max(first, month.replace(day=1)), min(last, month_end(month))
    return [low + timedelta(days=n) for n in range((high - low).days + 1)]


def month_mask(month: date, first: date, last: date) -> int:
    """The days of ``month`` inside first..last as bits (bit d−1 for day d), as UserFeatureMonth
    stores them; 0 if none."""
    return sum(1 << (day.day - 1) for day in month_days(month, first, last))


@dataclass(frozen=True)
class MonthSplit:
    """How to sum a per-day figure over first..last from month totals and the fewest daily rows:
    the sum of the ``months`` totals, plus the days in ``add``, minus the days in ``subtract``."""

    months: list[date]
    add: list[tuple[date, date]]
    subtract: list[tuple[date, date]]


def _clip(first: date, last: date, low: date, high: date) -> tuple[date, date] | None:
    first, last = max(first, low), min(last, high)
    return (first, last) if first <= last else None


def _span_days(ranges: list[tuple[date, date]]) -> int:
    return sum((b - a).days + 1 for a, b in ranges)


def month_split(first: date, last: date, data_first: date, data_last: date) -> MonthSplit:
    """Split first..last for a read of month totals plus daily rows (events.selectors).

    Days outside data_first..data_last hold no rows, so they cost nothing either way. A month wholly
    inside the range is one total; a month cut by the range takes its days inside, or its total
    less its days outside, whichever reads fewer days. A 30-day period thus reads at most half a
    month of daily rows at each end, and none when it ends on the last day with data and starts on
    the 1st."""
    months: list[date] = []
    add: list[tuple[date, date]] = []
    subtract: list[tuple[date, date]] = []
    for month in months_between(first, last):
        end = month_end(month)
        inside = _clip(first, last, data_first, data_last)
        inside = inside and _clip(*inside, month, end)
        if inside is None:
            continue
        outside = [
            r
            for r in (
                _clip(month, first - timedelta(days=1), data_first, data_last),
                _clip(last + timedelta(days=1), end, data_first, data_last),
            )
            if r is not None
        ]
        if not outside:
            months.append(month)
        elif _span_days([inside]) <= _span_days(outside):
            add.append(inside)
        else:
            months.append(month)
            subtract.extend(outside)
    return MonthSplit(months, _joined(add), _joined(subtract))


def _joined(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """Ranges in order with the ones that touch merged: May 17–31 and June 1–15 read as one."""
    joined: list[tuple[date, date]] = []
    for first, last in ranges:
        if joined and joined[-1][1] + timedelta(days=1) == first:
            joined[-1] = (joined[-1][0], last)
        else:
            joined.append((first, last))
    return joined
