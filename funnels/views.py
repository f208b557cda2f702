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

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.chrome import page_chrome
from core.pages import tab_page, workspace_url
from core.queries import QueryInvalid
from events.selectors import workspace_data_state
from funnels import presenters, services
from funnels.forms import FunnelForm, errors_by_name
from funnels.models import MAX_STEPS, MIN_STEPS, Funnel, FunnelResult
from funnels.queries import (
    FunnelQuery,
    FunnelResultsQuery,
    builder_payload,
    preview_payload,
    saved_funnel_values,
)
from funnels.selectors import funnel_compute
from tenancy.scoping import WorkspaceScope, workspace_page

TAB = "funnels-tab"


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
    if "add_step" in data or "remove_step" in data:
        # Without JavaScript the step buttons submit the form: re-render it, save nothing.
        form = FunnelForm(data, workspace=scope.workspace)
        if "add_step" in data:
            form.add_step()
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
    """A funnel page's figures, chart and links for its query."""
    results = services.funnel_results(query)
    pk = query.funnel.pk
    return {
        "data": results.data,
        "period": results.period,
        "stored": results.stored,
        "cached": results.cached,
        "chart_json": json.dumps(presenters.funnel_chart_data(results.data, query.funnel.unit)),
        # The CSV asks the API for the same figures: the saved range as is, another one explicitly.
        "csv_url": workspace_url("api-funnel-results", scope, query.params(format="csv"), pk=pk),
        "refresh_url": workspace_url("funnels-refresh", scope, pk=pk),
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
