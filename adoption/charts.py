"""Chart JSON of the Adoption × outcome page (``core.charts``): every rep as a point, the usage figure
the page chose across, revenue up; the rep asked for (``rep``) drawn larger, in another colour.

Drawn by the one loader (``static/js/charts.js``) as a Chart.js scatter: ``labels`` hold one text per
point (the rep and their figure), which the tooltip shows as its title above the revenue."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from adoption import selectors
from adoption.queries import FIGURE_LABELS, AdoptionPageQuery
from core.charts import CHARTJS_COLORS, WorkspaceChartView, rgb

REP_COLOR, HIGHLIGHT_COLOR = CHARTJS_COLORS[0], CHARTJS_COLORS[1]


class AdoptionScatterChart(WorkspaceChartView):
    """``{"labels": [text per rep], "datasets": [{"label": "Revenue", "data": [{"x", "y"}], …}]}``,
    x = the figure, y = revenue in currency units; no dataset when there is no rep."""

    query_class = AdoptionPageQuery
    query: AdoptionPageQuery

    def load(self) -> None:
        self.reps = selectors.adoption_outcome(self.query).reps

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        if not self.reps:
            return {"labels": [], "datasets": []}
        figure = self.query.figure
        label = str(FIGURE_LABELS[figure])
        chosen = self.query.rep.pk if self.query.rep else None
        highlighted = [r.id == chosen for r in self.reps]
        labels = [f"{f'{r.name} ({r.rep})' if r.name else r.rep} · {label}: {getattr(r, figure)}" for r in self.reps]
        dataset = {
            "label": gettext("Revenue"),
            "data": [{"x": getattr(r, figure), "y": r.revenue_cents / 100} for r in self.reps],
            "backgroundColor": [rgb(HIGHLIGHT_COLOR if h else REP_COLOR, 0.7) for h in highlighted],
            "borderColor": [rgb(HIGHLIGHT_COLOR if h else REP_COLOR) for h in highlighted],
            "pointRadius": [8 if h else 5 for h in highlighted],
            "pointHoverRadius": [10 if h else 7 for h in highlighted],
        }
        return {"labels": labels, "datasets": [dataset], "x_label": label, "y_label": gettext("Revenue")}
