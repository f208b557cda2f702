"""2. Activity management (AMP, seed 003): each rep's completed calls, emails, meetings and messages per
ISO week, and meetings per deal won — how many conversations a deal takes.

Read from ``RepDayActivity`` (per local day, owner and kind; completed, undeleted activities only)
and ``DealDayFigures`` (deals won per close day and owner). Only the days inside start–end count,
also in a week the range enters mid-way."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import DateField, Sum
from django.db.models.functions import TruncWeek

from events.periods import Interval, week_start
from records.figures import ratio
from records.models import Activity, Deal, DealDayFigures, RepDayActivity
from sales.selectors.common import rep_list

if TYPE_CHECKING:
    from sales.queries import ActivityQuery

# The kinds the dashboard counts, in its columns' order (tasks are not conversations).
KINDS = (Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.MEETING, Activity.Kind.MESSAGE)


@dataclass(frozen=True)
class Counts:
    calls: int = 0
    emails: int = 0
    meetings: int = 0
    messages: int = 0

    @property
    def total(self) -> int:
        return self.calls + self.emails + self.meetings + self.messages


@dataclass(frozen=True)
class WeekRow:
    week_start: date
    rep: str
    counts: Counts


@dataclass(frozen=True)
class RepActivity:
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


def _counts(by_kind: dict[str, int]) -> Counts:
    return Counts(*(by_kind.get(kind, 0) for kind in KINDS))


def rep_activity(query: ActivityQuery) -> ActivityReport:
    workspace, period = query.workspace, query.period
    weeks = period.buckets(Interval.WEEK)
    per_week: dict[tuple[date, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_rep: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        RepDayActivity.objects.filter(workspace=workspace, day__gte=period.start, day__lte=period.end, kind__in=KINDS)
        .values("owner_id", "kind", week=TruncWeek("day", output_field=DateField()))
        .annotate(activities=Sum("activities"))
        .values_list("week", "owner_id", "kind", "activities")
        .order_by()
    )
    for week, owner_id, kind, activities in rows:
        week = week_start(week if isinstance(week, date) else date.fromisoformat(str(week)[:10]))
        per_week[(week, owner_id)][kind] += activities
        per_rep[owner_id][kind] += activities
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
    week_rows = [
        WeekRow(week, rep.external_id, _counts(per_week.get((week, rep.id), {}))) for week in weeks for rep in reps
    ]
    rep_rows = []
    for rep in reps:
        counts = _counts(per_rep.get(rep.id, {}))
        won_deals = won.get(rep.id, 0)
        rep_rows.append(RepActivity(rep.external_id, rep.name, counts, won_deals, ratio(counts.meetings, won_deals)))
    return ActivityReport(weeks, week_rows, rep_rows)
