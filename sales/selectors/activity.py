"""2. Activity management (AMP, seed 003): each rep's completed calls, emails, meetings and messages per
ISO week, and meetings per deal won — how many conversations a deal takes.

Read from ``RepDayActivity`` (per local day and owner, a column per kind; completed, undeleted activities only)
and ``DealDayFigures`` (deals won per close day and owner). Only the days inside start–end count,
also in a week the range enters mid-way."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from django.db.models import DateField, Sum
from django.db.models.functions import Cast, TruncWeek

from events.periods import Interval, week_start
from records.figures import ratio
from records.models import Activity, Deal, DealDayFigures, RepDayActivity
from sales.selectors.common import rep_list

if TYPE_CHECKING:
    from sales.queries import ActivityQuery

# The kinds the dashboard counts, in its columns' order (tasks are not conversations).
KINDS = (Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.MEETING, Activity.Kind.MESSAGE)


# Named tuples rather than dataclasses: 2,000 reps over a month are 10,000 rows, and a tuple is built
# several times faster.
class Counts(NamedTuple):
    calls: int = 0
    emails: int = 0
    meetings: int = 0
    messages: int = 0

    @property
    def total(self) -> int:
        return self.calls + self.emails + self.meetings + self.messages


class WeekRow(NamedTuple):
    week_start: date
    rep: str
    counts: Counts


class RepActivity(NamedTuple):
    rep: str
    rep_name: str
    counts: Counts
    won_deals: int
    meetings_per_won_deal: float | None


@dataclass(frozen=True)
class ActivityReport:
    weeks: list[date]
    rows: list[WeekRow]  # every rep × week, by week then rep
    reps: list[RepActivity]  # by rep


# RepDayActivity's column of each, in the same order.
COLUMNS = tuple(RepDayActivity.KIND_COLUMNS[kind] for kind in KINDS)
NONE = Counts()


def rep_activity(query: ActivityQuery) -> ActivityReport:
    workspace, period = query.workspace, query.period
    weeks = period.buckets(Interval.WEEK)
    per_week: dict[tuple[date, int], Counts] = {}
    per_rep: dict[int, list[int]] = defaultdict(lambda: [0] * len(COLUMNS))
    rows = (
        RepDayActivity.objects.filter(workspace=workspace, day__gte=period.start, day__lte=period.end)
        # Cast: a plain date from the database, without the per-row conversions of a truncated date.
        .values("owner_id", week=Cast(TruncWeek("day", output_field=DateField()), DateField()))
        .annotate(**{column: Sum(column) for column in COLUMNS})
        .values_list("week", "owner_id", *COLUMNS)
        .order_by()
    )
    for week, owner_id, *by_kind in rows:
        if not isinstance(week, date):  # SQLite: text
            week = week_start(date.fromisoformat(str(week)[:10]))
        per_week[(week, owner_id)] = Counts(*by_kind)
        sums = per_rep[owner_id]
        for n, count in enumerate(by_kind):
            sums[n] += count
    won = dict(
        DealDayFigures.objects.filter(
            workspace=workspace, day__gte=period.start, day__lte=period.end, state=Deal.State.WON, owner__isnull=False
        )
        .values("owner_id")
        .annotate(deals=Sum("deals"))
        .values_list("owner_id", "deals")
        .order_by()
    )
    reps = rep_list(workspace)
    week_rows = [WeekRow(week, rep.external_id, per_week.get((week, rep.id), NONE)) for week in weeks for rep in reps]
    rep_rows = []
    for rep in reps:
        counts = Counts(*per_rep[rep.id]) if rep.id in per_rep else NONE
        won_deals = won.get(rep.id, 0)
        rep_rows.append(RepActivity(rep.external_id, rep.name, counts, won_deals, ratio(counts.meetings, won_deals)))
    return ActivityReport(weeks, week_rows, rep_rows)
