"""Funnel figures shaped for the pages and the charts: the rows of the list, what a funnel's page says
about its definition, the chart data (Chart.js 4) and the builder's preview.

A funnel is drawn as horizontal stacked bars, one per step: the units that reached the step, and,
behind them, those lost since the previous step (so each bar is as long as the previous step's
count). ``conversion_pct`` and ``dropoff_pct`` ride along, and their text (``core.formatting.percent``) for
the labels drawn on and between the bars by the ``funnel`` drawer of ``static/funnels/funnels.js``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import gettext

from core.attributes import attribute_label
from core.charts import CHARTJS_COLORS, rgb
from core.formatting import percent
from events.filters import USER_FILTER_FIELDS
from funnels.definition import step_labels
from funnels.models import Funnel, FunnelResult, Order, Unit, Visibility
from funnels.queries import FunnelQuery
from funnels.selectors import FunnelData
from funnels.services import funnel_result_is_fresh

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
                "backgroundColor": rgb(REACHED, 0.85),
                "borderColor": rgb(REACHED),
            },
            {
                "label": gettext("Dropped off since the previous step"),
                "data": dropped,
                "backgroundColor": rgb(DROPPED, 0.16),
                "borderColor": rgb(DROPPED, 0.45),
            },
        ],
        "conversion_pct": [s.conversion_pct for s in data.steps],
        "dropoff_pct": [s.dropoff_pct for s in data.steps],
        # As the tables write them: the chart's labels and tooltips show these, not numbers of their own.
        "conversion_text": [percent(s.conversion_pct) for s in data.steps],
        "dropoff_text": [percent(s.dropoff_pct) for s in data.steps],
    }


def list_row(funnel: Funnel, result: FunnelResult | None) -> dict[str, Any]:
    """A row of the list: the funnel and what its stored result says (never computed here)."""
    data = FunnelData.from_dict(result.payload) if result is not None else None
    return {
        "funnel": funnel,
        "steps": step_labels(funnel.steps),
        "result": result,
        "fresh": funnel_result_is_fresh(funnel=funnel, result=result),
        "entered": data.entered if data else None,
        "completion_pct": data.completion_pct if data else None,
    }


def definition(funnel: Funnel) -> dict[str, Any]:
    """What a funnel's page says about its definition."""
    return {
        "funnel": funnel,
        "steps": step_labels(funnel.steps),
        "unit_label": unit_label(funnel.unit),
        "unit_display": Unit(funnel.unit).label,
        "order_display": Order(funnel.order).label if funnel.order in Order.values else funnel.order,
        "visibility_display": Visibility(funnel.visibility).label,
        "breakdown_label": attribute_label(funnel.breakdown),
        "filters": [(name, funnel.filters[name]) for name in USER_FILTER_FIELDS if (funnel.filters or {}).get(name)],
    }


def preview(request: HttpRequest, query: FunnelQuery, data: FunnelData) -> dict[str, Any]:
    """The builder's preview: the figures, the chart, and the tables as a funnel's page renders them."""
    spec = query.definition
    tables = {
        "data": data,
        "unit_label": unit_label(spec.unit),
        "breakdown_label": attribute_label(spec.breakdown),
    }
    return {
        **data.as_dict(),
        "range": query.period.as_dict(),
        "chart": funnel_chart_data(data, spec.unit),
        "html": render_to_string("funnels/_preview_tables.html", tables, request=request),
    }
