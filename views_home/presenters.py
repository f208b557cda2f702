"""How the Home, Activity, Trends and Hub pages show a selector's figures: cards with arrows and
tones, week rows, the Monday-aligned heat calendar, bucket labels. Shapes only; no figure is
computed here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.attributes import attribute_value_label
from events.periods import Interval, Period, bucket_end, week_start
from views_home import selectors
from views_home.selectors.trends import Measure

HEAT_LEVELS = 4

METRICS: tuple[tuple[str, Promise, Promise, bool], ...] = (
    # (selector field, label, explanation, a rise is good news)
    ("interactions", _("Interactions"), _("Events in the period; every action counts."), True),
    ("features_used", _("Features used"), _("Distinct features with at least one event."), True),
    ("attendance_days", _("Attendance (user-days)"), _("Active days summed over all users."), True),
    ("active_users", _("Active users"), _("Users with at least one event."), True),
    ("inactive_users", _("Inactive users"), _("Users not deactivated, with no event in the period."), False),
)


@dataclass(frozen=True)
class MetricCard:
    key: str
    label: Promise
    help: Promise
    value: int
    previous: int
    change_pct: float | None
    direction: str  # "up", "down", "flat" or "" when there is no change to show
    tone: str  # "good", "bad" or "neutral": the colour of the change
    comparable: bool = True  # False: the previous period starts before the first event
    so_far: bool = False  # the period ends today: the value is still growing
    people_url: str = ""  # a count of users: the drill-down page of those users

    @property
    def abs_change_pct(self) -> float | None:
        return None if self.change_pct is None else abs(self.change_pct)


@dataclass(frozen=True)
class WeekRow:
    week_start: date
    first: date  # the first day counted: the Monday, or the period's first day
    week_end: date  # the last day counted: the Sunday, or the period's last day
    interactions: int
    partial: bool  # cut by the end of the period


@dataclass(frozen=True)
class CalendarCell:
    date: date
    active_users: int
    level: int  # 0 (none) … HEAT_LEVELS (the busiest day shown)


@dataclass(frozen=True)
class CalendarRow:
    week_start: date
    cells: list[CalendarCell | None]  # Monday … Sunday; None outside the range shown


def metric_cards(summary: selectors.HomeSummary) -> list[MetricCard]:
    cards = []
    so_far = summary.period.incomplete
    for key, label, help_text, rise_is_good in METRICS:
        metric: selectors.Metric = getattr(summary, key)
        change = metric.change_pct
        if change is None or not summary.comparable:
            direction, tone = "", "neutral"
        elif change == 0:
            direction, tone = "flat", "neutral"
        else:
            direction = "up" if change > 0 else "down"
            tone = "good" if (change > 0) == rise_is_good else "bad"
        cards.append(
            MetricCard(
                key,
                label,
                help_text,
                metric.value,
                metric.previous,
                change,
                direction,
                tone,
                summary.comparable,
                so_far,
            )
        )
    return cards


def week_rows(weeks: list[selectors.WeekCount], period: Period) -> list[WeekRow]:
    rows = []
    for week in weeks:
        end = week.week_start + timedelta(days=6)
        first = max(week.week_start, period.start)
        rows.append(WeekRow(week.week_start, first, min(end, period.end), week.interactions, partial=end > period.end))
    return rows


def heat_level(value: int, busiest: int) -> int:
    if value <= 0 or busiest <= 0:
        return 0
    return min(HEAT_LEVELS, math.ceil(value * HEAT_LEVELS / busiest))


def calendar_rows(days: list[selectors.DayCount]) -> list[CalendarRow]:
    """Lay the selector's days out Monday to Sunday; days outside its range are empty cells."""
    if not days:
        return []
    by_date = {day.date: day.active_users for day in days}
    busiest = max(by_date.values())
    rows = []
    monday, last = week_start(days[0].date), days[-1].date
    while monday <= last:
        cells: list[CalendarCell | None] = []
        for offset in range(7):
            day = monday + timedelta(days=offset)
            if day in by_date:
                cells.append(CalendarCell(day, by_date[day], heat_level(by_date[day], busiest)))
            else:
                cells.append(None)
        rows.append(CalendarRow(monday, cells))
        monday += timedelta(days=7)
    return rows


def measure_label(measure: Measure) -> Promise:
    return _("Distinct users") if measure is Measure.USERS else _("Events")


def group_label(group: str | None, default: str | Promise, attribute: str = "") -> str | Promise:
    """A series' name: the group's value (a country by its name), "(not set)" for users without one,
    ``default`` ungrouped."""
    if group is None:
        return default
    return attribute_value_label(attribute, group) if group else _("(not set)")


def bucket_range_label(bucket: selectors.FrequencyBucket) -> str:
    """1–10, 11–100, 101+ (a bucket of one number is that number)."""
    if bucket.max is None:
        return f"{bucket.min}+"
    if bucket.max == bucket.min:
        return str(bucket.min)
    return f"{bucket.min}–{bucket.max}"


def bucket_label(bucket: date, interval: Interval) -> str:
    if interval is Interval.MONTH:
        return date_format(bucket, str(_("F Y")))
    if interval is Interval.WEEK:
        return str(_("Week of %(day)s") % {"day": date_format(bucket, str(_("M j, Y")))})
    return date_format(bucket, str(_("D, M j, Y")))


@dataclass(frozen=True)
class BucketRow:
    bucket: date
    label: str
    partial: bool  # the bucket begins before the range or ends after it
    values: list[int]


def bucket_rows(series: list[selectors.TrendSeries], period: Period, interval: Interval) -> list[BucketRow]:
    """The trend table: buckets × series."""
    rows = []
    for index, bucket in enumerate(period.buckets(interval)):
        partial = bucket < period.start or bucket_end(bucket, interval) > period.end
        rows.append(BucketRow(bucket, bucket_label(bucket, interval), partial, [s.points[index].value for s in series]))
    return rows
