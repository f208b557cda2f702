"""The Adoption × outcome page (``/w/<slug>/sales/adoption/``, URL name ``adoption-tab``), in the Sales
tab: the reps table (usage beside results), the scatter chart of a usage figure against revenue, the
Spearman table read in words, the features that set the top-quartile reps apart. It parses its query
once (``core.pages.tab_page``), calls the one selector with it, and links the same query to the chart
JSON and the CSV export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from adoption import presenters, selectors
from adoption.forms import AdoptionForm
from adoption.queries import FIGURE_LABELS, USAGE_FIGURES, AdoptionPageQuery
from core.chrome import with_query
from core.pages import TabPage, tab_page, workspace_url
from records.figures import money
from records.selectors import figures_pending
from tenancy.scoping import WorkspaceScope, workspace_page

TEMPLATE = "adoption/adoption.html"

# The Sales tab's pages, by URL name (tabs never import each other), so that this page sits among them
# with the same links; the period pages keep this page's period. A page not built is left out.
SALES_PAGES = (
    (_("State of the union"), "sales-tab", True),
    (_("Activity"), "sales-activity", True),
    (_("Open pipeline"), "sales-open-pipeline", False),
    (_("Pipeline generation"), "sales-pipeline-generation", True),
    (_("Forecast"), "sales-forecast", True),
    (_("Clean house"), "sales-clean-house", False),
)


@dataclass(frozen=True)
class RepLine:
    row: selectors.RepOutcome
    revenue: str  # the amount as the reader's language writes it
    usage_url: str  # the rep's page in User analysis, same period and filters
    top: bool
    bottom: bool
    highlighted: bool


@require_safe
@workspace_page
def adoption_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page: TabPage[AdoptionPageQuery] = tab_page(request, scope, "sales-tab", AdoptionPageQuery, AdoptionForm)
    workspace, query = scope.workspace, page.query
    page.context["subnav"] = subnav(request, scope, query)
    no_deals = not selectors.has_deals(workspace=workspace)
    if not page.has_events or no_deals:
        # The empty states: how to send usage events and deals (both when neither has come yet).
        if not page.has_events:
            page.show_empty_state(request)
        page.context["no_deals"] = no_deals
        return render(request, TEMPLATE, page.context)
    if query is None:
        return render(request, TEMPLATE, page.context, status=400)

    outcome = selectors.adoption_outcome(query)
    top, bottom = {r.id for r in outcome.top_quartile}, {r.id for r in outcome.bottom_quartile}
    chosen = query.rep.pk if query.rep else None
    language = get_language() or "en"
    keep = query.outcome().params()  # the period and the user filters, for links to a rep's page
    lines = [
        RepLine(
            row=r,
            revenue=money(r.revenue_cents, workspace, language),
            usage_url=workspace_url("users-detail", scope, keep, external_id=r.rep),
            top=r.id in top,
            bottom=r.id in bottom,
            highlighted=r.id == chosen,
        )
        for r in outcome.reps
    ]
    page.context.update(
        {
            "period": query.period,
            "records_pending": figures_pending(workspace=workspace),
            "lines": lines,
            "rep_count": len(lines),
            "has_results": any(r.revenue_cents or r.deals_won or r.activities for r in outcome.reps),
            "has_usage": any(r.interactions for r in outcome.reps),
            "highlighted": next((line for line in lines if line.highlighted), None),
            "asked_rep": query.rep,
            "readings": [
                presenters.reading(name, FIGURE_LABELS[name], outcome.spearman[name]) for name in USAGE_FIGURES
            ],
            "top_count": len(outcome.top_quartile),
            "bottom_count": len(outcome.bottom_quartile),
            "features": outcome.features,
            "figure_label": FIGURE_LABELS[query.figure],
            "chart_url": workspace_url("adoption-chart-scatter", scope, query.params()),
            "csv_url": workspace_url("api-sales-adoption-outcome", scope, query.outcome().params(format="csv")),
            "figure_links": [
                {
                    "label": FIGURE_LABELS[name],
                    "url": with_query(request.path, query.params(figure=name)) + "#scatter",
                    "current": name == query.figure,
                }
                for name in USAGE_FIGURES
            ],
        }
    )
    return render(request, TEMPLATE, page.context)


def subnav(request: HttpRequest, scope: WorkspaceScope, query: AdoptionPageQuery | None) -> list[dict[str, Any]]:
    """The Sales tab's pages and this one (current)."""
    keep = QueryDict(mutable=True)
    if query is not None:
        keep.update(query.period_pick.params())
    items = []
    for label, name, carry in SALES_PAGES:
        try:
            url = reverse(name, kwargs={"slug": scope.workspace.slug})
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": with_query(url, keep if carry else None), "current": False})
    if items:
        items.append({"label": _("Adoption × outcome"), "url": request.path, "current": True})
    return items
