"""Where operations fail or slow down, and when (docs/metrics.md#failures-and-speed).

Unfiltered, every figure reads the behaviour grains (``events.rollups_outcomes``): 24 rows a day
for the heatmap of the whole workspace, features × actions × 24 for one feature, and features ×
actions × days for the failures, with durations from their histograms (within 5 %). The grains
have no user, so with user filters the figures are counted from the filtered users' raw events
(through the ``(crm_user, occurred_at)`` index), and the durations are then exact.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.db.models import QuerySet, Sum

from core.queries import UserFilters
from events.durations import histogram_merge, histogram_quantile, nearest_rank
from events.filters import crm_user_condition
from events.models import Event, FeatureActionDay, FeatureActionHour, Outcome, WorkspaceHour
from events.periods import Period
from tenancy.models import Workspace

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from behaviour.queries import FailuresQuery, HeatmapQuery


def pct(part: int, whole: int) -> float | None:
    """part / whole × 100 rounded to 1 decimal; None when whole is 0."""
    return round(part / whole * 100, 1) if whole else None


@dataclass(frozen=True)
class HeatmapCell:
    weekday: int  # ISO: Monday = 1
    hour: int  # local, 0–23
    events: int
    outcomes: int  # events whose outcome is known
    failures: int

    @property
    def failure_rate_pct(self) -> float | None:
        return pct(self.failures, self.outcomes)


def hour_heatmap(query: HeatmapQuery) -> list[HeatmapCell]:
    """Events, known outcomes and failures per local weekday and hour over the period: all 168
    cells, Monday 0:00 first. The repeated hour of a DST fall-back counts in its hour."""
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for day, hour, events, outcomes, failures in _hour_rows(query):
        cell = sums[(day.isoweekday(), hour)]
        cell[0] += events
        cell[1] += outcomes
        cell[2] += failures
    return [
        HeatmapCell(weekday, hour, *sums.get((weekday, hour), (0, 0, 0)))
        for weekday in range(1, 8)
        for hour in range(24)
    ]


def _hour_rows(query: HeatmapQuery) -> Iterable[tuple]:
    """(day, hour, events, outcomes, failures) rows of the period, from the coarsest grain that answers."""
    workspace, period = query.workspace, query.period
    if query.filters:
        return _event_hours(query)
    days = (period.start, period.end)
    if query.feature is None:
        return WorkspaceHour.objects.filter(workspace=workspace, day__range=days).values_list(
            "day", "hour", "events", "outcomes", "failures"
        )
    rows = FeatureActionHour.objects.filter(workspace=workspace, day__range=days, feature=query.feature)
    if query.action:
        rows = rows.filter(action=query.action)
    return (
        rows.values_list("day", "hour")
        .annotate(Sum("events"), Sum("outcomes"), Sum("failures"))
        .values_list("day", "hour", "events__sum", "outcomes__sum", "failures__sum")
        .order_by()
    )


def _event_hours(query: HeatmapQuery) -> Iterable[tuple]:
    tz = query.workspace.tzinfo
    events = _filtered_events(query.workspace, query.period, query.filters)
    if query.feature is not None:
        events = events.filter(feature=query.feature)
        if query.action:
            events = events.filter(action=query.action)
    for occurred_at, outcome in events.values_list("occurred_at", "outcome").iterator(chunk_size=5000):
        local = occurred_at.astimezone(tz)
        yield local.date(), local.hour, 1, int(outcome != ""), int(outcome == Outcome.FAILURE)


def _filtered_events(workspace: Workspace, period: Period, filters: UserFilters) -> QuerySet[Event]:
    """The raw events of the period of the users that pass the filters."""
    events = Event.objects.filter(
        workspace=workspace, occurred_at__gte=period.start_utc, occurred_at__lt=period.end_utc
    )
    condition = crm_user_condition(workspace, filters)
    return events.filter(condition) if condition is not None else events


@dataclass(frozen=True)
class FeatureFailures:
    feature: str
    action: str
    events: int
    known_outcome: int
    failures: int
    median_duration_ms: int | None
    p90_duration_ms: int | None

    @property
    def failure_rate_pct(self) -> float | None:
        return pct(self.failures, self.known_outcome)


@dataclass(frozen=True)
class FailureReport:
    features: list[FeatureFailures]
    durations: Literal["exact", "histogram"]


def failures_by_feature(query: FailuresQuery) -> FailureReport:
    """Per feature and action with events in the period: events, events with a known outcome,
    failures, and the nearest-rank median and 90th percentile of the durations. Most failures
    first, then feature and action."""
    if query.filters:
        rows, durations = _event_failures(query), "exact"
    else:
        rows, durations = _rollup_failures(query), "histogram"
    rows.sort(key=lambda r: (-r.failures, r.feature, r.action))
    return FailureReport(rows, durations)  # type: ignore[arg-type]


def _rollup_failures(query: FailuresQuery) -> list[FeatureFailures]:
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    histograms: dict[tuple[str, str], list[dict[str, int]]] = defaultdict(list)
    rows = FeatureActionDay.objects.filter(
        workspace=query.workspace, day__range=(query.period.start, query.period.end)
    ).values_list("feature__key", "action", "events", "outcomes", "failures", "duration_buckets")
    for feature, action, events, outcomes, failures, buckets in rows:
        total = totals[(feature, action)]
        total[0] += events
        total[1] += outcomes
        total[2] += failures
        if buckets:
            histograms[(feature, action)].append(buckets)
    result = []
    for (feature, action), (events, outcomes, failures) in totals.items():
        merged = histogram_merge(histograms.get((feature, action), ()))
        median, p90 = histogram_quantile(merged, 0.5), histogram_quantile(merged, 0.9)
        result.append(FeatureFailures(feature, action, events, outcomes, failures, median, p90))
    return result


def _event_failures(query: FailuresQuery) -> list[FeatureFailures]:
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    durations: dict[tuple[str, str], list[int]] = defaultdict(list)
    events = _filtered_events(query.workspace, query.period, query.filters)
    rows = events.values_list("feature__key", "action", "outcome", "duration_ms")
    for feature, action, outcome, duration in rows.iterator(chunk_size=5000):
        counts[(feature, action)][outcome] += 1
        if duration is not None:
            durations[(feature, action)].append(duration)
    result = []
    for (feature, action), by_outcome in counts.items():
        ordered = sorted(durations.get((feature, action), ()))
        median, p90 = _exact_quantile(ordered, 0.5), _exact_quantile(ordered, 0.9)
        known = by_outcome[Outcome.SUCCESS] + by_outcome[Outcome.FAILURE]
        result.append(
            FeatureFailures(feature, action, by_outcome.total(), known, by_outcome[Outcome.FAILURE], median, p90)
        )
    return result


def _exact_quantile(ordered: list[int], q: float) -> int | None:
    return ordered[nearest_rank(len(ordered), q) - 1] if ordered else None
