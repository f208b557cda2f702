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
from django.utils.translation import gettext, ngettext

from core.attributes import attribute_label
from core.charts import CHARTJS_COLORS, rgb
from core.formatting import percent
from events.filters import USER_FILTER_FIELDS
from funnels.definition import step_labels
from funnels.models import Funnel, FunnelResult, Order, Unit, Visibility
from funnels.queries import FunnelQuery
from funnels.selectors import FunnelData, FunnelTrends, TimeToConvert
from funnels.services import funnel_result_is_fresh

REACHED = CHARTJS_COLORS[0]
DROPPED = CHARTJS_COLORS[1]


def unit_label(unit: str) -> str:
    return gettext("Records") if unit == Unit.RECORD else gettext("Users")


def step_label(label: str, step: int, n: int, any_order: bool) -> str:
    """A step's row label: in an any-order funnel row k counts units that did any k of the steps."""
    if not any_order:
        return label
    return ngettext("Any %(k)d of the %(n)d steps", "Any %(k)d of the %(n)d steps", step) % {"k": step, "n": n}


def funnel_chart_data(data: FunnelData, unit: str, any_order: bool = False) -> dict[str, Any]:
    counts = [s.count for s in data.steps]
    dropped = [0] + [max(counts[k - 1] - counts[k], 0) for k in range(1, len(counts))]
    n = len(data.steps)
    return {
        "labels": [step_label(s.label, s.step, n, any_order) for s in data.steps],
        "datasets": [
            {
                "label": gettext("%(unit)s reaching the step") % {"unit": unit_label(unit)},
                "data": counts,
                "backgroundColor": rgb(REACHED, 0.85),
                "borderColor": rgb(REACHED),
                "people": [f"{s.step}:reached" for s in data.steps],  # a bar opens its users
            },
            {
                "label": gettext("Dropped off since the previous step"),
                "data": dropped,
                "backgroundColor": rgb(DROPPED, 0.16),
                "borderColor": rgb(DROPPED, 0.45),
                "people": [f"{s.step}:dropped" if s.step > 1 else None for s in data.steps],
            },
        ],
        "conversion_pct": [s.conversion_pct for s in data.steps],
        "dropoff_pct": [s.dropoff_pct for s in data.steps],
        # As the tables write them: the chart's labels and tooltips show these, not numbers of their own.
        "conversion_text": [percent(s.conversion_pct) for s in data.steps],
        "dropoff_text": [percent(s.dropoff_pct) for s in data.steps],
    }


def span_text(seconds: int) -> str:
    """A bin edge in its largest whole unit (every edge is one: 5 min, 3 h, 7 d)."""
    for size, text in ((86_400, gettext("%(n)d d")), (3_600, gettext("%(n)d h")), (60, gettext("%(n)d min"))):
        if seconds >= size and seconds % size == 0:
            return text % {"n": seconds // size}
    return gettext("%(n)d s") % {"n": seconds}


def bin_label(from_seconds: int, to_seconds: int) -> str:
    return f"{span_text(from_seconds)} – {span_text(to_seconds)}"


def convert_chart_data(ttc: TimeToConvert, unit: str) -> dict[str, Any]:
    """The time-to-convert histogram: units per bin, labelled by its span."""
    return {
        "labels": [bin_label(b.from_seconds, b.to_seconds) for b in ttc.bins],
        "datasets": [
            {
                "label": gettext("%(unit)s converting in this time") % {"unit": unit_label(unit)},
                "data": [b.units for b in ttc.bins],
                "backgroundColor": rgb(REACHED, 0.8),
                "borderColor": rgb(REACHED),
            }
        ],
    }


def trends_chart_data(trends: FunnelTrends) -> dict[str, Any]:
    """Conversion over time: the completion rate per interval of attempt start."""
    return {
        "labels": [b.bucket.isoformat() for b in trends.buckets],
        "datasets": [
            {
                "label": gettext("Completed the funnel (%)"),
                "data": [b.conversion_pct for b in trends.buckets],
                "borderColor": rgb(REACHED),
                "backgroundColor": rgb(REACHED, 0.15),
            }
        ],
    }


def people_heading(step: int, status: str, label: str, count: int, unit: str) -> str:
    """What a people-at-a-step page lists, in words."""
    if status == "dropped":
        return ngettext(
            "%(n)d %(unit)s reached step %(prev)d and stopped before step %(step)d (%(label)s)",
            "%(n)d %(unit)s reached step %(prev)d and stopped before step %(step)d (%(label)s)",
            count,
        ) % {"n": count, "unit": unit_label(unit).lower(), "prev": step - 1, "step": step, "label": label}
    return ngettext(
        "%(n)d %(unit)s reached step %(step)d (%(label)s)",
        "%(n)d %(unit)s reached step %(step)d (%(label)s)",
        count,
    ) % {"n": count, "unit": unit_label(unit).lower(), "step": step, "label": label}


def exclusion_lines(funnel: Funnel) -> list[str]:
    """A funnel's exclusion steps in words."""
    lines = []
    for exclusion in funnel.exclusions or []:
        target = " · ".join(
            p for p in (exclusion.get("feature"), exclusion.get("action"), exclusion.get("detail")) if p
        )
        a, b = exclusion.get("between", [1, 2])
        lines.append(
            gettext("Not %(target)s between steps %(a)d and %(b)d") % {"target": target, "a": int(a), "b": int(b)}
        )
    return lines


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
        "exclusions": exclusion_lines(funnel),
        "any_order": funnel.order == Order.ANY,
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
        "chart": funnel_chart_data(data, spec.unit, spec.order == Order.ANY),
        "html": render_to_string("funnels/_preview_tables.html", tables, request=request),
    }
