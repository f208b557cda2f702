"""The Sales tab (docs/sales.md): six dashboards from seed 003, one page each — state of the union,
activity (AMP), open pipeline, pipeline generation, forecast, clean house. Each page parses its query
once (``core.pages.tab_page``), calls its selector with it, and links the same query to its chart
JSON and its CSV exports."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from core.chrome import with_query
from core.forms import PeriodForm, QueryForm
from core.pages import TabPage, tab_page, workspace_url
from core.queries import PeriodQuery, Query
from records.models import RepDayActivity
from records.selectors import figures_pending, visible_deals
from sales import presenters, selectors
from sales.forms import AsOfForm, OpenPipelineForm
from sales.queries import (
    ActivityQuery,
    CleanHouseQuery,
    ForecastQuery,
    GenerationQuery,
    OpenPipelineQuery,
    UnionQuery,
)
from tenancy.scoping import WorkspaceScope, workspace_page

# How many rows of a long list (stuck, idle, past-due deals…) a page shows; its CSV has them all.
PAGE_ROWS = 50

PAGES = (
    (_("State of the union"), "sales-tab"),
    (_("Activity"), "sales-activity"),
    (_("Open pipeline"), "sales-open-pipeline"),
    (_("Pipeline generation"), "sales-pipeline-generation"),
    (_("Forecast"), "sales-forecast"),
    (_("Clean house"), "sales-clean-house"),
)
PERIOD_PAGES = {"sales-tab", "sales-activity", "sales-pipeline-generation", "sales-forecast"}
AHEAD_PAGES = {"sales-pipeline-generation", "sales-forecast"}  # their end may be after today
# The adoption app's page (seed 002's "what do our best sellers do differently?"), by URL name: shown
# once it exists.
ADOPTION_PAGE = "adoption-tab"


def subnav(scope: WorkspaceScope, query: Query | None, current: str) -> list[dict[str, Any]]:
    """The tab's pages; a period page's links to the other period pages keep its period."""
    keep = QueryDict(mutable=True)
    ahead = False
    if isinstance(query, PeriodQuery):
        keep.update(query.period_pick.params())
        ahead = query.period.end > scope.workspace.today()
    items = []
    for label, name in PAGES:
        carry = name in PERIOD_PAGES and (not ahead or name in AHEAD_PAGES)
        url = workspace_url(name, scope, keep if carry else None)
        items.append({"label": label, "url": url, "current": name == current})
    try:
        adoption = reverse(ADOPTION_PAGE, kwargs={"slug": scope.workspace.slug})
    except NoReverseMatch:
        pass
    else:
        items.append({"label": _("Adoption × outcome"), "url": with_query(adoption, None if ahead else keep)})
    return items


def sales_page[Q: Query](
    request: HttpRequest, scope: WorkspaceScope, name: str, query_class: type[Q], form_class: type[QueryForm]
) -> TabPage[Q]:
    page = tab_page(request, scope, "sales-tab", query_class, form_class)
    workspace = scope.workspace
    has_records = visible_deals(workspace).exists() or RepDayActivity.objects.filter(workspace=workspace).exists()
    page.context.update(
        {
            "subnav": subnav(scope, page.query, name),
            "no_deals": not has_records,
            "figures_pending": figures_pending(workspace=workspace),
            "batch_url": request.build_absolute_uri(reverse("api-records-batch", kwargs={"kind": "deals"})),
            "period_page": issubclass(query_class, PeriodQuery),
        }
    )
    if isinstance(page.query, PeriodQuery):
        page.context["period"] = page.query.period
    return page


def nothing_to_show(request: HttpRequest, page: TabPage[Any], template: str) -> HttpResponse | None:
    """The empty state (no deal, no activity yet) or the form's messages (400); None: figures to show."""
    if page.context["no_deals"]:
        return render(request, template, page.context)
    if page.query is None:
        return render(request, template, page.context, status=400)
    return None


def csv_url(name: str, scope: WorkspaceScope, query: Query, table: str | None = None) -> str:
    return workspace_url(name, scope, query.params(format="csv", table=table))


@require_safe
@workspace_page
def union_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = sales_page(request, scope, "sales-tab", UnionQuery, PeriodForm)
    template = "sales/union.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    union = selectors.state_of_the_union(query)
    page.context.update(
        {
            "previous": union.previous,
            "union": union,
            "cards": presenters.union_cards(union, presenters.money_of(scope.workspace)),
            "revenue_chart_url": workspace_url("sales-chart-revenue", scope, query.params()),
            "leaderboard_chart_url": workspace_url("sales-chart-leaderboard", scope, query.params()),
            "csv": {
                "leaderboard": csv_url("api-sales-union", scope, query, "leaderboard"),
                "top_deals": csv_url("api-sales-union", scope, query, "top_deals"),
            },
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def activity_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = sales_page(request, scope, "sales-activity", ActivityQuery, PeriodForm)
    template = "sales/activity.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    report = selectors.rep_activity(query)
    page.context.update(
        {
            "report": report,
            "pivot": presenters.activity_pivot(report),
            "has_activity": any(r.counts.total for r in report.reps),
            "chart_url": workspace_url("sales-chart-activity", scope, query.params()),
            "csv": {
                "rows": csv_url("api-sales-activity", scope, query, "rows"),
                "reps": csv_url("api-sales-activity", scope, query, "reps"),
            },
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def open_pipeline_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = sales_page(request, scope, "sales-open-pipeline", OpenPipelineQuery, OpenPipelineForm)
    template = "sales/open_pipeline.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    report = selectors.open_pipeline(query, PAGE_ROWS)
    page.context.update(
        {
            "report": report,
            "stuck_after_days": selectors.STUCK_AFTER_DAYS,
            "idle_window_days": selectors.IDLE_WINDOW_DAYS,
            "chart_url": workspace_url("sales-chart-stages", scope, query.params()),
            "csv": {
                "by_stage": csv_url("api-sales-open-pipeline", scope, query, "by_stage"),
                "stuck": csv_url("api-sales-open-pipeline", scope, query, "stuck"),
                "idle": csv_url("api-sales-open-pipeline", scope, query, "idle"),
            },
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def generation_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = sales_page(request, scope, "sales-pipeline-generation", GenerationQuery, PeriodForm)
    template = "sales/generation.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    page.context.update(
        {
            "report": selectors.pipeline_generation(query),
            "chart_url": workspace_url("sales-chart-generation", scope, query.params()),
            "csv": {
                "months": csv_url("api-sales-pipeline-generation", scope, query, "months"),
                "reps": csv_url("api-sales-pipeline-generation", scope, query, "reps"),
            },
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def forecast_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = sales_page(request, scope, "sales-forecast", ForecastQuery, PeriodForm)
    template = "sales/forecast.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    months = selectors.forecast(query)
    page.context.update(
        {
            "months": months,
            "categories": [(name, presenters.CATEGORY_LABELS[name]) for name in selectors.CATEGORIES],
            "chart_url": workspace_url("sales-chart-forecast", scope, query.params()),
            "csv": {
                "months": csv_url("api-sales-forecast", scope, query, "months"),
                "categories": csv_url("api-sales-forecast", scope, query, "categories"),
            },
        }
    )
    return render(request, template, page.context)


@require_safe
@workspace_page
def clean_house_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    page = sales_page(request, scope, "sales-clean-house", CleanHouseQuery, AsOfForm)
    template = "sales/clean_house.html"
    if (response := nothing_to_show(request, page, template)) is not None:
        return response
    query = page.query
    assert query is not None
    page.context.update(
        {
            "report": selectors.clean_house_report(query, PAGE_ROWS),
            "csv": {
                name: csv_url("api-sales-clean-house", scope, query, name)
                for name in (
                    "past_due",
                    "missing_amount",
                    "missing_close_date",
                    "ownerless_accounts",
                    "duplicate_accounts",
                )
            },  # fmt: skip
        }
    )
    return render(request, template, page.context)
