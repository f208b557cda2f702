"""Chart JSON endpoints of the Home, Activity, Trends and Hub tabs, one per chart (STYLE.md §8), in the django-chartjs style.

Each answers ``{"labels": [...], "datasets": [{"label", "data", "backgroundColor", "borderColor"}]}``,
which Chart.js 4 takes as its ``data`` as is. django-chartjs is used only for its view classes
(it is not an installed app: its static files are Chart.js 2 and Highcharts). What it would add for
other libraries is overridden: the ``name`` key per dataset (Highcharts), and the template context
(``view`` and the URL arguments) that ``TemplateView`` would otherwise serialise into the JSON.

Same membership scoping and the same query parameters as the page (each chart names the page's form
in ``form_class``); an invalid query answers 400 with ``{"errors": {field: [message]}}``. Every figure
comes from the page's selector; these views only lay it out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chartjs.views.lines import BaseLineChartView
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from tenancy.models import Workspace
from tenancy.scoping import workspaces_for
from views_home import selectors
from views_home.forms import ActivityQueryForm, HomeQueryForm, HubQueryForm, TrendsQueryForm, WorkspaceQueryForm
from views_home.views import (
    ACTIVITY_DEFAULT_LINES,
    WEEKLY_WEEKS,
    bucket_range_label,
    frequency_feature,
    group_label,
    measure_label,
)

# The palette of Chart.js 4's built-in Colors plugin, in its order.
CHARTJS_COLORS: tuple[tuple[int, int, int], ...] = (
    (54, 162, 235),  # blue
    (255, 99, 132),  # red
    (255, 159, 64),  # orange
    (255, 205, 86),  # yellow
    (75, 192, 192),  # green
    (153, 102, 255),  # purple
    (201, 203, 207),  # grey
)


class WorkspaceChartView(LoginRequiredMixin, BaseLineChartView):
    """A chart of one workspace the user may read, for the query of the page it sits on."""

    http_method_names = ["get", "head", "options"]
    raise_exception = False  # anonymous: redirect to the login page, like the page itself
    form_class: type[WorkspaceQueryForm] = HomeQueryForm
    workspace: Workspace
    form: Any  # an instance of ``form_class``

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.workspace = get_object_or_404(workspaces_for(request.user), slug=kwargs["slug"])
        self.form = self.form_class(request.GET, workspace=self.workspace)
        if not self.form.is_valid():
            errors = {field: list(messages) for field, messages in self.form.errors.items()}
            return JsonResponse({"errors": errors}, status=400)
        self.load()
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-cache"
        return response

    def load(self) -> None:
        """Call the selector once; ``get_labels``/``get_data`` read what it stored."""
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # Only what Chart.js reads: not TemplateView's ``view`` nor the URL kwargs.
        return {"labels": self.get_labels(), "datasets": self.get_datasets()}

    def get_colors(self) -> Iterator[tuple[int, int, int]]:
        while True:
            yield from CHARTJS_COLORS

    def get_dataset_options(self, index: int, color: tuple[int, int, int]) -> dict[str, Any]:
        red, green, blue = color
        return {"backgroundColor": f"rgba({red}, {green}, {blue}, 0.5)", "borderColor": f"rgb({red}, {green}, {blue})"}

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        for dataset in datasets:
            dataset.pop("name", None)  # Highcharts only
        return datasets


class WeeklyInteractionsChart(WorkspaceChartView):
    """Interactions per week (weeks start on Monday), the same figures as the table under the chart."""

    def load(self) -> None:
        q = self.form.cleaned_data
        self.weeks = selectors.weekly_interactions(
            workspace=self.workspace, as_of=q["as_of"], weeks=WEEKLY_WEEKS, filters=q["filters"]
        )

    def get_labels(self) -> list[str]:
        return [week.week_start.isoformat() for week in self.weeks]

    def get_providers(self) -> list[str]:
        return [gettext("Interactions")]

    def get_data(self) -> list[list[int]]:
        return [[week.interactions for week in self.weeks]]


class ActivityFeaturesChart(WorkspaceChartView):
    """Interactions per day, one line per chosen feature (default: the top five of the table).

    A feature keeps the colour of its rank in the Activity table, whichever lines are shown.
    """

    form_class = ActivityQueryForm

    def load(self) -> None:
        q = self.form.cleaned_data
        rows = selectors.activity_features(
            workspace=self.workspace,
            period=q["period"],
            filters=q["filters"],
            features=q["features"],
            crm_user=q["crm_user"],
        )
        chosen = set(q["lines"]) if q["lines"] else {row.feature for row in rows[:ACTIVITY_DEFAULT_LINES]}
        self.ranked = [(rank, row) for rank, row in enumerate(rows) if row.feature in chosen]
        self.dates = list(q["period"].dates())

    def get_labels(self) -> list[str]:
        return [day.isoformat() for day in self.dates]

    def get_colors(self) -> Iterator[tuple[int, int, int]]:
        for rank, _row in self.ranked:
            yield CHARTJS_COLORS[rank % len(CHARTJS_COLORS)]

    def get_providers(self) -> list[str]:
        return [row.feature for _rank, row in self.ranked]

    def get_data(self) -> list[list[int]]:
        return [[point.interactions for point in row.series] for _rank, row in self.ranked]


class TrendsChart(WorkspaceChartView):
    """Events (or distinct users) per bucket of the feature, one line per group."""

    form_class = TrendsQueryForm

    def load(self) -> None:
        q = self.form.cleaned_data
        self.series = selectors.trend_series(
            workspace=self.workspace,
            feature=q["feature_obj"],
            period=q["period"],
            interval=q["interval"],
            measure=q["measure"],
            action=q["action"],
            detail=q["detail"],
            group_by=q["group_by"] or None,
            filters=q["filters"],
        )
        self.buckets = q["period"].buckets(q["interval"])

    def get_labels(self) -> list[str]:
        return [bucket.isoformat() for bucket in self.buckets]

    def get_providers(self) -> list[str]:
        measure = str(measure_label(self.form.cleaned_data["measure"]))
        return [str(group_label(series.group, measure)) for series in self.series]

    def get_data(self) -> list[list[int]]:
        return [[point.value for point in series.points] for series in self.series]


class PopularityChart(WorkspaceChartView):
    """Distinct users per feature, most users first (drawn as horizontal bars)."""

    form_class = HubQueryForm

    def load(self) -> None:
        q = self.form.cleaned_data
        self.rows = selectors.feature_popularity(
            workspace=self.workspace, period=q["period"], features=q["feature_set"], filters=q["filters"]
        )

    def get_labels(self) -> list[str]:
        return [row.feature for row in self.rows]

    def get_providers(self) -> list[str]:
        return [gettext("Users")]

    def get_data(self) -> list[list[int]]:
        return [[row.users for row in self.rows]]


class FrequencyChart(WorkspaceChartView):
    """Users per bucket of their number of events on one feature (default: the most popular)."""

    form_class = HubQueryForm

    def load(self) -> None:
        q = self.form.cleaned_data
        feature = frequency_feature(self.workspace, q)
        self.buckets = (
            selectors.feature_frequency(
                workspace=self.workspace, period=q["period"], feature=feature, bounds=q["bounds"], filters=q["filters"]
            )
            if feature is not None
            else []
        )

    def get_labels(self) -> list[str]:
        return [bucket_range_label(bucket) for bucket in self.buckets]

    def get_providers(self) -> list[str]:
        return [gettext("Users")]

    def get_data(self) -> list[list[int]]:
        return [[bucket.users for bucket in self.buckets]]
