"""Pages of the Funnels tab (docs/metrics.md#funnels): the list of funnels, the builder, a funnel's
results.

Every page is one workspace's (``@workspace_page``) and finds a funnel through its scope: another
member's private funnel is a 404; only admins and analysts build funnels, only the owner or an admin
edits or deletes one (403). A funnel's page parses its ``FunnelResultsQuery`` as every tab does
(``core.pages.tab_page``: the one period picker and the user filters); its figures come from
``funnels.services``: the stored result over the saved range, computed on demand for another. The
builder's live preview posts the form to ``preview.json`` and gets the API's messages by field, or
the results with their tables rendered here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.chrome import page_chrome
from core.pages import tab_page, workspace_url
from core.people import drilldown_url
from core.queries import QueryInvalid
from events.filters import MAX_STATIC_USERS
from events.selectors import workspace_data_state
from funnels import presenters, services
from funnels.definition import step_labels
from funnels.forms import FunnelForm, errors_by_name
from funnels.models import MAX_STEPS, MIN_STEPS, Funnel, FunnelResult, Order, Unit
from funnels.queries import (
    FunnelQuery,
    FunnelResultsQuery,
    builder_payload,
    preview_payload,
    saved_funnel_values,
)
from funnels.selectors import funnel_compute
from funnels.selectors import funnel_people as funnel_people_of
from tenancy.scoping import WorkspaceScope, workspace_page

TAB = "funnels-tab"
PEOPLE_PAGE_SIZE = 50


@require_safe
@workspace_page
def funnels_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The list: my funnels and those shared with the workspace, with their last results."""
    visible = list(scope.saved(Funnel).select_related("workspace").order_by("name", "id"))
    results = {r.funnel_id: r for r in FunnelResult.objects.filter(funnel__in=[f.pk for f in visible])}
    rows = [presenters.list_row(f, results.get(f.pk)) for f in visible]
    context = {
        **page_chrome(request, scope.workspace, active=TAB),
        "mine": [r for r in rows if r["funnel"].owner_id == request.user.pk],
        "shared": [r for r in rows if r["funnel"].owner_id != request.user.pk],
        "can_create": scope.can_create_saved,
        "new_url": workspace_url("funnels-new", scope),
        "has_events": workspace_data_state(workspace=scope.workspace).has_events,
        "batch_url": request.build_absolute_uri(reverse("api-events-batch")),
        "api_url": workspace_url("api-funnels", scope),
    }
    return render(request, "funnels/list.html", context)


def _builder(request: HttpRequest, scope: WorkspaceScope, funnel: Funnel | None) -> HttpResponse:
    if request.method != "POST":
        return _render_builder(
            request, scope, funnel, FunnelForm(FunnelForm.data_of(funnel), workspace=scope.workspace)
        )
    data = request.POST
    if "add_step" in data or "remove_step" in data or "add_exclusion" in data:
        # Without JavaScript the step buttons submit the form: re-render it, save nothing.
        form = FunnelForm(data, workspace=scope.workspace)
        if "add_step" in data:
            form.add_step()
        elif "add_exclusion" in data:
            form.add_exclusion()
        elif data["remove_step"].isdigit():
            form.remove_step(int(data["remove_step"]))
        return _render_builder(request, scope, funnel, form)
    try:
        values = saved_funnel_values(builder_payload(data), workspace=scope.workspace, instance=funnel)
    except QueryInvalid as exc:
        form = FunnelForm(data, workspace=scope.workspace, errors=exc.detail)
        return _render_builder(request, scope, funnel, form, status=400)
    if funnel is None:
        funnel = services.funnel_create(workspace=scope.workspace, owner=request.user, data=values)
        messages.success(request, _("Funnel “%(name)s” saved.") % {"name": funnel.name})
    else:
        funnel = services.funnel_update(funnel=funnel, data=values, actor=request.user)
        messages.success(request, _("Funnel “%(name)s” updated.") % {"name": funnel.name})
    return redirect("funnels-detail", slug=scope.workspace.slug, pk=funnel.pk)


def _render_builder(
    request: HttpRequest, scope: WorkspaceScope, funnel: Funnel | None, form: FunnelForm, status: int = 200
) -> HttpResponse:
    context = {
        **page_chrome(request, scope.workspace, active=TAB),
        "form": form,
        "funnel": funnel,
        "min_steps": MIN_STEPS,
        "max_steps": MAX_STEPS,
        "list_url": workspace_url(TAB, scope),
        "preview_url": workspace_url("funnels-preview", scope),
        "catalog_url": workspace_url("api-features", scope),
        "has_events": workspace_data_state(workspace=scope.workspace).has_events,
    }
    return render(request, "funnels/builder.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def funnel_new(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    if not scope.can_create_saved:
        raise PermissionDenied(_("Viewers cannot build funnels; ask a workspace admin for the analyst role."))
    return _builder(request, scope, None)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def funnel_edit(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    funnel = scope.get_saved(Funnel, pk)
    if not scope.can_edit_saved(funnel):
        raise PermissionDenied(_("Only the owner of this funnel or a workspace admin can change it."))
    return _builder(request, scope, funnel)


@require_POST
@workspace_page
def funnel_preview(request: HttpRequest, scope: WorkspaceScope) -> JsonResponse:
    """Live validation and preview of the builder: the API's messages by field name, or the results
    of the definition over the range the saved funnel would use (computed now, not stored)."""
    try:
        query = FunnelQuery.parse(preview_payload(request.POST), workspace=scope.workspace)
    except QueryInvalid as exc:
        return JsonResponse({"errors": errors_by_name(exc.detail)}, status=400)
    return JsonResponse(presenters.preview(request, query, funnel_compute(query)))


@require_safe
@workspace_page
def funnel_detail(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    funnel = scope.get_saved(Funnel, pk)
    page = tab_page(request, scope, TAB, FunnelResultsQuery, context={"funnel": funnel})
    page.context.update(
        {
            **presenters.definition(funnel),
            "can_edit": scope.can_edit_saved(funnel),
            "list_url": workspace_url(TAB, scope),
        }
    )
    if not page.has_events:  # nothing to count: how to send events (a bad query's messages come first)
        page.show_empty_state(request)
    elif page.query is not None:
        page.context.update(_results(scope, page.query))
    return render(request, "funnels/detail.html", page.context, status=page.status)


def _results(scope: WorkspaceScope, query: FunnelResultsQuery) -> dict[str, object]:
    """A funnel page's figures, charts and links for its query: the steps, the time to convert and
    conversion over time (each from the stored result when it holds them), and where the people at
    each step are listed."""
    results = services.funnel_results(query, views=services.PAGE_VIEWS)
    convert, trends = results.time_to_convert, results.trends
    pk = query.funnel.pk
    n = len(query.funnel.steps)
    any_order = query.funnel.order == Order.ANY
    first, last = query.computation().convert_steps

    def api(view: str, **extra: object) -> str:
        return workspace_url("api-funnel-results", scope, query.params(view=view, format="csv", **extra), pk=pk)

    def chart(view: str) -> str:
        return workspace_url("funnels-chart", scope, query.params(view=view), pk=pk)

    def people(step: int, status: str) -> str:
        return workspace_url("funnels-people", scope, query.params(people=f"{step}:{status}"), pk=pk)

    return {
        "data": results.data,
        "period": results.period,
        "stored": results.stored,
        "cached": results.cached,
        "chart_json": json.dumps(presenters.funnel_chart_data(results.data, query.funnel.unit, any_order)),
        # The CSV asks the API for the same figures: the saved range as is, another one explicitly.
        "csv_url": workspace_url("api-funnel-results", scope, query.params(format="csv"), pk=pk),
        "refresh_url": workspace_url("funnels-refresh", scope, pk=pk),
        "convert": convert,
        "convert_rows": [(presenters.bin_label(b.from_seconds, b.to_seconds), b.units) for b in convert.bins]
        if convert
        else [],
        "convert_steps": (first, last),
        "convert_chart_url": chart("time_to_convert"),
        "convert_csv_url": api("time_to_convert"),
        "trends": trends,
        "trends_chart_url": chart("trends"),
        "trends_csv_url": api("trends"),
        "step_numbers": list(range(1, n + 1)),
        # The step table's rows, with where the people who reached or dropped at each step are listed.
        "step_rows": [
            SimpleNamespace(
                **{**asdict(s), "label": presenters.step_label(s.label, s.step, n, any_order)},
                reached_url=people(s.step, "reached"),
                dropped_url=people(s.step, "dropped") if s.step > 1 else "",
            )
            for s in results.data.steps
        ],
        "view_params": [(k, v) for k, v in query.params().lists() if k not in ("from_step", "to_step", "interval")],
        # A user funnel's bar opens its users on the drill-down page (docs/drilldown.md).
        "people_base": drilldown_url(scope.workspace.slug, "funnels/results", query.params(), funnel=str(pk))
        if query.funnel.unit == Unit.USER
        else "",
    }


@require_safe
@workspace_page
def funnel_people(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """The units that reached, or dropped at, one step (``people=k:reached|dropped``): a page of
    them, the CSV of all, and (user funnels) saving them as a filter set."""
    funnel = scope.get_saved(Funnel, pk)
    page = tab_page(request, scope, TAB, FunnelResultsQuery, context={"funnel": funnel})
    page.context.update({**presenters.definition(funnel), "list_url": workspace_url(TAB, scope)})
    query = page.query
    if query is not None and query.people is None:  # no step named: the funnel's page lists them
        return redirect(workspace_url("funnels-detail", scope, query.params(), pk=pk))
    if (empty := page.nothing_to_show(request, "funnels/people.html")) is not None:
        return empty
    assert query is not None and query.people is not None
    page.context.update(_people(scope, query, request.GET.get("page")))
    return render(request, "funnels/people.html", page.context)


def _people(scope: WorkspaceScope, query: FunnelResultsQuery, page_number: str | None) -> dict[str, object]:
    """A people-at-a-step page's rows, links and the "save as a filter set" form."""
    assert query.people is not None
    funnel, pk = query.funnel, query.funnel.pk
    people = funnel_people_of(query.computation())
    shown = Paginator(people, PEOPLE_PAGE_SIZE).get_page(page_number)  # a bad number: the first or last page
    step, status = query.people.step, query.people.status
    label = step_labels(funnel.steps)[step - 1]
    user_funnel = funnel.unit == Unit.USER
    rows = [
        {
            "person": person,
            "url": workspace_url("users-detail", scope, external_id=person.unit) if user_funnel else "",
        }
        for person in shown
    ]
    status_text = _("dropped") if status == "dropped" else _("reached")
    return {
        "rows": rows,
        "page_obj": shown,
        "count": len(people),
        "heading": presenters.people_heading(step, status, label, len(people), funnel.unit),
        "user_funnel": user_funnel,
        "detail_url": workspace_url("funnels-detail", scope, query.params(people=None), pk=pk),
        "csv_url": workspace_url("api-funnel-results", scope, query.params(format="csv"), pk=pk),
        "previous_url": "?" + query.params(page=shown.previous_page_number()).urlencode()
        if shown.has_previous()
        else "",
        "next_url": "?" + query.params(page=shown.next_page_number()).urlencode() if shown.has_next() else "",
        "can_save": user_funnel and scope.can_create_saved and 0 < len(people) <= MAX_STATIC_USERS,
        "too_many_to_save": user_funnel and len(people) > MAX_STATIC_USERS,
        "max_static": MAX_STATIC_USERS,
        "save_url": workspace_url("users-filter-set-from-users", scope),
        "external_ids": "\n".join(p.unit for p in people) if user_funnel else "",
        "default_name": _("%(funnel)s — step %(step)d, %(status)s")
        % {"funnel": funnel.name, "step": step, "status": status_text},
        "period_days": query.period.days,
        "period_end": query.period.end.isoformat(),
        "here": workspace_url("funnels-people", scope, query.params(), pk=pk),
        "status": status,
        "step": step,
    }


@require_POST
@workspace_page
def funnel_refresh(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """Recompute the saved funnel's results now (any member who sees it may ask)."""
    funnel = scope.get_saved(Funnel, pk)
    result = services.funnel_results_refresh(funnel=funnel)
    messages.success(request, _("Results recomputed in %(ms)s ms.") % {"ms": result.duration_ms})
    return redirect("funnels-detail", slug=scope.workspace.slug, pk=pk)


@require_POST
@workspace_page
def funnel_delete(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    funnel = scope.get_saved(Funnel, pk)
    if not scope.can_edit_saved(funnel):
        raise PermissionDenied(_("Only the owner of this funnel or a workspace admin can delete it."))
    name = funnel.name
    services.funnel_delete(funnel=funnel, actor=request.user)
    messages.success(request, _("Funnel “%(name)s” deleted.") % {"name": name})
    return redirect(TAB, slug=scope.workspace.slug)
