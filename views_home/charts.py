"""Chart JSON of the Home, Activity, Trends and Hub tabs, one endpoint per chart (``core.charts``):
the query of the page the chart sits on, the page's selector, laid out for Chart.js."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext

from core.attributes import attribute_values
from core.charts import CHARTJS_COLORS, SERIES_COLORS, WorkspaceChartView, group_colors, rgb
from events.periods import Period
from views_home import presenters, selectors
from views_home.queries import ActivityPageQuery, HubQuery, TrendsQuery, WeeksChartQuery
from views_home.views import ACTIVITY_DEFAULT_LINES, frequency_feature

PREVIOUS_COLOR = CHARTJS_COLORS[6]  # grey: the previous period's line, when it is one line


def previous_period_dataset(
    previous: Period,
    values: list[int],
    length: int,
    *,
    name: str = "",
    color: tuple[int, int, int] = PREVIOUS_COLOR,
    over_bars: bool = False,
) -> dict[str, Any]:
    """The "Compare with: the previous period" line of a time chart (Home, Activity, Trends): the
    previous period's figures laid over this period's buckets one by one, dashed. ``values`` are its
    buckets oldest first; they are cut or padded with zeros to this period's ``length`` (a week or month
    bucket cut by a period's start counts only its days inside, as this period's do). ``name`` names the
    series it shadows when there are several; ``over_bars`` draws it as a line on a bar chart."""
    dates = {
        "start": date_format(previous.start, "MONTH_DAY_FORMAT"),
        "end": date_format(previous.end, "MONTH_DAY_FORMAT"),
    }
    if name:
        label = gettext("%(name)s, previous period (%(start)s – %(end)s)") % {"name": name, **dates}
    else:
        label = gettext("Previous period (%(start)s – %(end)s)") % dates
    dataset: dict[str, Any] = {
        "label": label,
        "data": (values + [0] * length)[:length],
        "backgroundColor": rgb(color, 0.5),
        "borderColor": rgb(color),
        "borderDash": [6, 4],
    }
    if over_bars:
        dataset["type"] = "line"  # Chart.js draws one dataset of a bar chart as a line
    return dataset


class WeeklyInteractionsChart(WorkspaceChartView):
    """Interactions per week (weeks start on Monday), the same figures as the table under the chart.
    A week the period cuts is drawn paler: it holds only the period's days."""

    query_class = WeeksChartQuery

    def load(self) -> None:
        self.weeks = selectors.weekly_interactions(self.query)
        self.counted = selectors.weeks_period(self.query)
        # Compared: the days before, as many as counted, in their own Monday weeks.
        self.previous: list[int] | None = None
        if self.query.compare == "previous":
            before = replace(self.query, period=self.counted.previous(), weeks=None)
            self.previous = [week.interactions for week in selectors.weekly_interactions(before)]

    def get_labels(self) -> list[str]:
        return [week.week_start.isoformat() for week in self.weeks]

    def get_providers(self) -> list[str]:
        return [gettext("Interactions")]

    def get_data(self) -> list[list[int]]:
        return [[week.interactions for week in self.weeks]]

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        color, period = CHARTJS_COLORS[0], self.counted
        cut = [w.week_start < period.start or w.week_start.toordinal() + 6 > period.end.toordinal() for w in self.weeks]
        if any(cut):
            datasets[0]["backgroundColor"] = [rgb(color, 0.2 if partial else 0.5) for partial in cut]
        if self.previous is not None:
            datasets.append(previous_period_dataset(period.previous(), self.previous, len(self.weeks), over_bars=True))
        return datasets


class ActivityFeaturesChart(WorkspaceChartView):
    """Interactions per day, one line per chosen feature (default: the top five of the table).

    A feature keeps the colour of its rank in the Activity table, whichever lines are shown.
    """

    query_class = ActivityPageQuery

    def load(self) -> None:
        rows = selectors.activity_features(self.query)
        lines = self.query.line_features
        chosen = {f.key for f in lines} if lines else {row.feature for row in rows[:ACTIVITY_DEFAULT_LINES]}
        self.ranked = [(rank, row) for rank, row in enumerate(rows) if row.feature in chosen]
        self.dates = list(self.query.period.dates())
        # Compared: each line's previous period, day by day (a feature unused then is all zeros).
        self.previous: dict[str, list[int]] | None = None
        if self.query.compare == "previous":
            before = replace(self.query, period=self.query.period.previous())
            self.previous = {
                row.feature: [day.interactions for day in row.series] for row in selectors.activity_features(before)
            }

    def get_labels(self) -> list[str]:
        return [day.isoformat() for day in self.dates]

    def get_colors(self) -> Iterator[tuple[int, int, int]]:
        for rank, _row in self.ranked:
            yield CHARTJS_COLORS[rank % len(CHARTJS_COLORS)]

    def get_providers(self) -> list[str]:
        return [row.feature for _rank, row in self.ranked]

    def get_data(self) -> list[list[int]]:
        return [[point.interactions for point in row.series] for _rank, row in self.ranked]

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        if self.previous is not None:
            previous, length = self.query.period.previous(), len(self.dates)
            for (_rank, row), color in zip(self.ranked, self.get_colors(), strict=False):
                values = self.previous.get(row.feature, [])
                datasets.append(previous_period_dataset(previous, values, length, name=row.feature, color=color))
        return datasets


class TrendsChart(WorkspaceChartView):
    """Events (or distinct users) per bucket of the feature, one line per group."""

    query_class = TrendsQuery

    def load(self) -> None:
        self.series = selectors.trend_series(self.query)
        self.buckets = self.query.period.buckets(self.query.interval)
        group_by = self.query.group_by
        self.colors = group_colors(attribute_values(self.query.workspace, group_by)) if group_by else {}
        # The previous period of as many days, its buckets laid over this period's one by one (a week
        # or month bucket cut by the period's start counts only its days inside, as this period's do).
        self.previous: list[int] | None = None
        if self.query.compare == "previous" and not group_by:
            before = replace(self.query, period=self.query.period.previous())
            self.previous = [point.value for series in selectors.trend_series(before) for point in series.points]

    def get_colors(self) -> Iterator[tuple[int, int, int]]:
        for index, series in enumerate(self.series):
            if series.group is None:  # not grouped: one line
                yield CHARTJS_COLORS[index % len(CHARTJS_COLORS)]
            else:  # a value that appeared since the list was read: the last colour of the palette
                yield self.colors.get(series.group, SERIES_COLORS[-1])

    def get_labels(self) -> list[str]:
        return [bucket.isoformat() for bucket in self.buckets]

    def get_providers(self) -> list[str]:
        measure = str(presenters.measure_label(self.query.measure))
        return [str(presenters.group_label(series.group, measure, self.query.group_by)) for series in self.series]

    def get_data(self) -> list[list[int]]:
        return [[point.value for point in series.points] for series in self.series]

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        if self.previous is not None:
            datasets.append(previous_period_dataset(self.query.period.previous(), self.previous, len(self.buckets)))
        return datasets


class PopularityChart(WorkspaceChartView):
    """Distinct users per feature, most users first (drawn as horizontal bars)."""

    query_class = HubQuery

    def load(self) -> None:
        self.rows = selectors.feature_popularity(self.query.popularity())

    def get_labels(self) -> list[str]:
        return [row.feature for row in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("Users")]

    def get_data(self) -> list[list[int]]:
        return [[row.users for row in self.rows]]


class FrequencyChart(WorkspaceChartView):
    """Users per bucket of their number of events on one feature (default: the most popular)."""

    query_class = HubQuery

    def load(self) -> None:
        feature = frequency_feature(self.query)
        self.buckets = selectors.feature_frequency(self.query.frequency(feature)) if feature is not None else []

    def get_labels(self) -> list[str]:
        return [presenters.bucket_range_label(bucket) for bucket in self.buckets]

    def get_providers(self) -> list[str]:
        return [gettext("Users")]

    def get_data(self) -> list[list[int]]:
        return [[bucket.users for bucket in self.buckets]]
