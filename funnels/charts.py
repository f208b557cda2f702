"""Chart JSON of the Funnels tab (STYLE.md §8), in the shape Chart.js 4 takes as its ``data``.

A funnel is drawn as horizontal stacked bars, one per step: the units that reached the step, and,
behind them, those lost since the previous step (so each bar is as long as the previous step's
count). ``conversion_pct`` and ``dropoff_pct`` ride along for the labels drawn on and between the
bars by ``static/funnels/funnels.js``. The saved funnel's chart endpoint answers for the same query as
its page; the builder's preview gets the same structure from ``funnel_chart_data``.
"""

from __future__ import annotations

from typing import Any

from chartjs.views.lines import BaseLineChartView
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext

from core.charts import CHARTJS_COLORS
from funnels import services
from funnels.forms import FunnelRangeForm
from funnels.models import Funnel, Unit
from funnels.selectors import FunnelData, funnels_visible_to
from tenancy.scoping import workspaces_for

REACHED = CHARTJS_COLORS[0]
DROPPED = CHARTJS_COLORS[1]


def unit_label(unit: str) -> str:
    return gettext("Records") if unit == Unit.RECORD else gettext("Users")


def funnel_chart_data(data: FunnelData, unit: str) -> dict[str, Any]:
    counts = [s.count for s in data.steps]
    dropped = [0] + [max(counts[k - 1] - counts[k], 0) for k in range(1, len(counts))]
    return {
        "labels": [s.label for s in data.steps],
        "datasets": [
            {
                "label": gettext("%(unit)s reaching the step") % {"unit": unit_label(unit)},
                "data": counts,
                "backgroundColor": "rgba({}, {}, {}, 0.85)".format(*REACHED),
                "borderColor": "rgb({}, {}, {})".format(*REACHED),
            },
            {
                "label": gettext("Dropped off since the previous step"),
                "data": dropped,
                "backgroundColor": "rgba({}, {}, {}, 0.16)".format(*DROPPED),
                "borderColor": "rgba({}, {}, {}, 0.45)".format(*DROPPED),
            },
        ],
        "conversion_pct": [s.conversion_pct for s in data.steps],
        "dropoff_pct": [s.dropoff_pct for s in data.steps],
    }


class FunnelChartView(LoginRequiredMixin, BaseLineChartView):
    """The chart of one saved funnel the user sees, for the range and filters of its page."""

    http_method_names = ["get", "head", "options"]
    raise_exception = False  # anonymous: redirect to the login page, like the page itself

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        workspace = get_object_or_404(workspaces_for(request.user), slug=kwargs["slug"])
        self.funnel: Funnel = get_object_or_404(
            funnels_visible_to(workspace=workspace, user=request.user), pk=kwargs["pk"]
        )
        form = FunnelRangeForm(request.GET, funnel=self.funnel)
        if not form.is_valid():
            errors = {field: list(messages) for field, messages in form.errors.items()}
            return JsonResponse({"errors": errors}, status=400)
        q = form.cleaned_data
        if form.is_custom:
            period = q["period"] or self.funnel.default_period()
            self.data = services.funnel_period_results(funnel=self.funnel, period=period, filters=q["filters"] or None)
        else:
            self.data = services.funnel_saved_results(funnel=self.funnel)[0]
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-cache"
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return funnel_chart_data(self.data, self.funnel.unit)
