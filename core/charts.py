"""Chart JSON endpoints, one per chart, in the style of django-chartjs.

Each answers ``{"labels": [...], "datasets": [{"label", "data", "backgroundColor", "borderColor"}]}``,
which Chart.js 4 takes as its ``data`` as is. django-chartjs is used only for its view classes (it is
not an installed app: its static files are Chart.js 2 and Highcharts); what it adds for other
libraries is overridden (the ``name`` key per dataset; the template context that ``TemplateView``
would serialise into the JSON).

A chart parses the same query object as the page it sits on (``query_class``), so an invalid query
answers 400 with ``{"errors": {field: [message]}}``, the page's messages; every figure comes from the
page's selector, and these views only lay it out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chartjs.views.lines import BaseLineChartView
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.queries import Query, QueryInvalid
from tenancy.scoping import WorkspaceScope, scope_for

# The palette of Chart.js 4's built-in Colors plugin, in its order; the tables' swatches
# (``.swatch--N`` in app.css) use the same.
CHARTJS_COLORS: tuple[tuple[int, int, int], ...] = (
    (54, 162, 235),  # blue
    (255, 99, 132),  # red
    (255, 159, 64),  # orange
    (255, 205, 86),  # yellow
    (75, 192, 192),  # green
    (153, 102, 255),  # purple
    (201, 203, 207),  # grey
)
PALETTE_SIZE = len(CHARTJS_COLORS)

# Twenty colours for charts with many series (Trends grouped by an attribute): Chart.js's seven, then
# thirteen picked one by one, each the farthest in CIELAB (ΔE 1976) from those before it, out of two
# well-known sets of distinct colours (Tableau 20 and Sasha Trubetskoy's), leaving out the very light
# ones: no two are closer than Chart.js's own blue and grey are (ΔE 25; tests/views_home/test_palette.py).
SERIES_COLORS: tuple[tuple[int, int, int], ...] = (
    *CHARTJS_COLORS,
    (44, 160, 44),  # green
    (128, 0, 0),  # maroon
    (0, 0, 117),  # navy
    (140, 86, 75),  # brown
    (128, 128, 0),  # olive
    (240, 50, 230),  # magenta
    (148, 103, 189),  # violet
    (220, 190, 255),  # lavender
    (152, 223, 138),  # light green
    (127, 127, 127),  # dark grey
    (214, 39, 40),  # crimson
    (154, 99, 36),  # ochre
    (227, 119, 194),  # pink
)


NOT_SET_COLOR = CHARTJS_COLORS[6]  # grey: users without a value ("(not set)"), in no other group


def group_colors(values: list[str]) -> dict[str, tuple[int, int, int]]:
    """A colour per value of an attribute, the same in every chart: the value's place among all the
    attribute's values in the workspace (sorted), so that "CN" keeps its colour whichever groups a
    period shows. "" (not set) is grey, a colour no value gets; past nineteen values the colours repeat."""
    palette = [color for color in SERIES_COLORS if color != NOT_SET_COLOR]
    colors = {value: palette[index % len(palette)] for index, value in enumerate(sorted(set(values) - {""}))}
    return {**colors, "": NOT_SET_COLOR}


def rgb(color: tuple[int, int, int], alpha: float | None = None) -> str:
    red, green, blue = color
    return f"rgba({red}, {green}, {blue}, {alpha})" if alpha is not None else f"rgb({red}, {green}, {blue})"


class WorkspaceChartView(LoginRequiredMixin, BaseLineChartView):
    """A chart of one workspace the user may read, for the query of the page it sits on."""

    http_method_names = ["get", "head", "options"]
    raise_exception = False  # anonymous: redirect to the login page, like the page itself
    query_class: type[Query]
    scope: WorkspaceScope
    query: Any  # an instance of ``query_class``

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.scope = scope_for(request.user, kwargs["slug"])
        try:
            self.query = self.query_class.parse(
                request.GET, workspace=self.scope.workspace, viewer=request.user, **self.parse_context()
            )
        except QueryInvalid as exc:
            return JsonResponse({"errors": exc.errors}, status=400)
        self.load()
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-cache"
        return response

    def parse_context(self) -> dict[str, Any]:
        """What the query is parsed against besides the workspace (see ``Query.parse``)."""
        return {}

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
        return {"backgroundColor": rgb(color, 0.5), "borderColor": rgb(color)}

    def get_datasets(self) -> list[dict[str, Any]]:
        datasets = super().get_datasets()
        for dataset in datasets:
            dataset.pop("name", None)  # Highcharts only
        return datasets
