"""What is abnormal: the days on which a feature (or the whole workspace) broke from its own recent
baseline (docs/metrics.md#anomalies), by a robust z-score against the 28 days before.

Daily values come from the rollups: ``FeatureDay`` / ``WorkspaceDay`` for events and users,
``FeatureActionDay`` / ``WorkspaceHour`` for failures; with user filters, the filtered users'
``UserFeatureDayTotal`` rows (events, users) and raw events (failures)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Sum

from events.filters import crm_user_condition
from events.models import (
    Event,
    FeatureActionDay,
    FeatureDay,
    Outcome,
    UserFeatureDayTotal,
    WorkspaceDay,
    WorkspaceHour,
)
from events.periods import Period, local_midnight_utc
from events.selectors import first_active_day

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from behaviour.queries import AnomaliesQuery

BASELINE_DAYS = 28
MIN_BASELINE_DAYS = 7
THRESHOLD = 3.5
TOTAL = "*"  # the workspace total, as the ``feature`` parameter names it


@dataclass(frozen=True)
class Judgement:
    day: date
    value: int
    median: float
    z: float | None  # None when the baseline does not vary at all
    anomaly: bool

    @property
    def direction(self) -> str:
        return "spike" if self.value > self.median else "drop"


def judge(value: int, baseline: list[int]) -> tuple[float, float | None, bool]:
    """(median, z, anomaly) of a day's value against its baseline: z = 0.6745 (x − med) / MAD; when
    the MAD is 0, (x − med) / (1.253314 × the mean absolute deviation); when that is 0 too, no z,
    and the day is an anomaly when it differs from the median at all."""
    med = statistics.median(baseline)
    deviations = [abs(v - med) for v in baseline]
    mad = statistics.median(deviations)
    if mad:
        z = 0.6745 * (value - med) / mad
    else:
        mean_deviation = statistics.fmean(deviations)
        if not mean_deviation:
            return med, None, value != med
        z = (value - med) / (1.253314 * mean_deviation)
    return med, z, abs(z) > THRESHOLD


def judge_series(values: dict[date, int], period: Period, first_day: date | None) -> list[Judgement]:
    """Each day of the period against the 28 days before it (days before ``first_day`` left out,
    missing days 0); days with fewer than 7 baseline days are not judged."""
    judged = []
    for day in period.dates():
        baseline = [
            values.get(day - timedelta(days=n), 0)
            for n in range(1, BASELINE_DAYS + 1)
            if first_day is not None and day - timedelta(days=n) >= first_day
        ]
        if len(baseline) < MIN_BASELINE_DAYS:
            continue
        value = values.get(day, 0)
        med, z, anomaly = judge(value, baseline)
        judged.append(Judgement(day, value, med, z, anomaly))
    return judged


@dataclass(frozen=True)
class Anomaly:
    date: date
    feature: str | None  # None: the workspace total
    value: int
    median: float
    z: float | None
    direction: str


def daily_values(query: AnomaliesQuery, first: date, last: date) -> dict[str | None, dict[date, int]]:
    """The metric per feature key (None: the workspace total) and day, first..last."""
    workspace, metric, filters = query.workspace, query.metric, query.filters
    per: dict[str | None, dict[date, int]] = defaultdict(dict)
    days = (first, last)
    condition = crm_user_condition(workspace, filters)
    total = query.feature == TOTAL
    feature_filter = {} if total or query.feature is None else {"feature": query.feature}
    if condition is not None:
        if metric == "failures":
            events = Event.objects.filter(
                workspace=workspace, outcome=Outcome.FAILURE, occurred_at__gte=local_midnight_utc(first, workspace.tzinfo),
                occurred_at__lt=local_midnight_utc(last + timedelta(days=1), workspace.tzinfo), **feature_filter,
            ).filter(condition)  # fmt: skip
            tz = workspace.tzinfo
            for key, moment in events.values_list("feature__key", "occurred_at").iterator(chunk_size=5000):
                day = moment.astimezone(tz).date()
                name = None if total else key
                per[name][day] = per[name].get(day, 0) + 1
            return per
        totals = UserFeatureDayTotal.objects.filter(workspace=workspace, day__range=days, **feature_filter)
        group = ("day",) if total else ("feature__key", "day")
        measure = Sum("events") if metric == "events" else Count("crm_user", distinct=True)
        for row in totals.filter(condition).values(*group).annotate(n=measure).order_by():
            per[None if total else row["feature__key"]][row["day"]] = row["n"]
        return per
    if total:
        if metric == "failures":
            hours = WorkspaceHour.objects.filter(workspace=workspace, day__range=days).values("day")
            for row in hours.annotate(n=Sum("failures")).order_by():
                per[None][row["day"]] = row["n"]
        else:
            for day, n in WorkspaceDay.objects.filter(workspace=workspace, day__range=days).values_list("day", metric):
                per[None][day] = n
        return per
    if metric == "failures":
        failures = FeatureActionDay.objects.filter(workspace=workspace, day__range=days, **feature_filter)
        for row in failures.values("feature__key", "day").annotate(n=Sum("failures")).order_by():
            per[row["feature__key"]][row["day"]] = row["n"]
        return per
    feature_days = FeatureDay.objects.filter(workspace=workspace, day__range=days, **feature_filter)
    for key, day, n in feature_days.values_list("feature__key", "day", metric):
        per[key][day] = n
    return per


def anomalies(query: AnomaliesQuery) -> list[Anomaly]:
    """The anomalous days of the period: by date, then |z| descending (a day without a z last)."""
    first = query.period.start - timedelta(days=BASELINE_DAYS)
    first_day = first_active_day(workspace=query.workspace)
    found = []
    for feature, values in daily_values(query, first, query.period.end).items():
        for j in judge_series(values, query.period, first_day):
            if j.anomaly:
                z = round(j.z, 2) if j.z is not None else None
                found.append(Anomaly(j.day, feature, j.value, j.median, z, j.direction))
    found.sort(key=lambda a: (a.date, -(abs(a.z) if a.z is not None else -1), a.feature or ""))
    return found


@dataclass(frozen=True)
class SeriesDay:
    day: date
    value: int
    median: float | None  # None: not judged (fewer than 7 baseline days)
    anomaly: bool


def anomaly_series(query: AnomaliesQuery) -> list[SeriesDay]:
    """One series (the query's feature, or the workspace total when it names none) over the period:
    each day's value, its baseline median and whether it is an anomaly (the chart's lines)."""
    if query.feature is None:
        query = replace(query, feature=TOTAL)
    first = query.period.start - timedelta(days=BASELINE_DAYS)
    series = next(iter(daily_values(query, first, query.period.end).values()), {})
    judged = {j.day: j for j in judge_series(series, query.period, first_active_day(workspace=query.workspace))}
    return [
        SeriesDay(day, series.get(day, 0), judged[day].median if day in judged else None,
                  day in judged and judged[day].anomaly)
        for day in query.period.dates()
    ]  # fmt: skip
