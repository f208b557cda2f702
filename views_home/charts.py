"""Chart JSON endpoints of the Home tab, one per chart (STYLE.md §8), in the django-chartjs style.

Each answers ``{"labels": [...], "datasets": [{"label", "data", "backgroundColor", "borderColor"}]}``,
which Chart.js 4 takes as its ``data`` as is. django-chartjs is used only for its view classes
(it is not an installed app: its static files are Chart.js 2 and Highcharts). What it would add for
other libraries is overridden: the ``name`` key per dataset (Highcharts), and the template context
(``view`` and the URL arguments) that ``TemplateView`` would otherwise serialise into the JSON.

Same membership scoping and the same query parameters as the page (``HomeQueryForm``); an invalid
query answers 400 with ``{"errors": {field: [message]}}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chartjs.views.lines import BaseLineChartView
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from crm_usage.api import workspaces_for
from events.models import Workspace
from views_home import selectors
from views_home.forms import HomeQueryForm
from views_home.views import WEEKLY_WEEKS

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
    workspace: Workspace
    form: HomeQueryForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.workspace = get_object_or_404(workspaces_for(request.user), slug=kwargs["slug"])
        self.form = HomeQueryForm(request.GET, workspace=self.workspace)
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
