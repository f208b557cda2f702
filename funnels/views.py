"""Pages of the Funnels tab (DESIGN.md §4): the list of funnels, the builder, a funnel's results.

Scoping as everywhere: the workspace comes from ``crm_usage.api.workspaces_for`` (404 otherwise) and
a funnel from ``funnels.selectors.funnels_visible_to`` (another member's private funnel: 404). Only
admins and analysts build funnels; only the owner or an admin edits or deletes one (403). Every figure
comes from ``funnels.selectors`` through ``funnels.services``: the saved funnel's cached result for
its default range, computed on demand for another range; the builder's live preview posts the form to
``preview.json`` and gets the API's messages by field, or the results.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.chrome import page_chrome, with_query
from events.filters import USER_FILTER_FIELDS
from events.selectors import workspace_data_state
from funnels import services
from funnels.charts import funnel_chart_data, unit_label
from funnels.forms import BREAKDOWN_LABELS, FunnelForm, FunnelRangeForm
from funnels.models import MAX_STEPS, MIN_STEPS, Funnel, FunnelResult, Order, Unit, Visibility
from funnels.selectors import (
    FunnelData,
    FunnelSpec,
    Step,
    funnel_can_create,
    funnel_can_edit,
    funnel_compute,
    funnel_result_is_fresh,
    funnels_visible_to,
    step_labels,
)
from tenancy.models import Workspace
from tenancy.scoping import role_of as workspace_role
from tenancy.scoping import workspaces_for

TAB = "funnels-tab"


def _workspace(request: HttpRequest, slug: str) -> Workspace:
    return get_object_or_404(workspaces_for(request.user), slug=slug)


def _funnel(request: HttpRequest, workspace: Workspace, pk: int) -> Funnel:
    return get_object_or_404(funnels_visible_to(workspace=workspace, user=request.user), pk=pk)


def _plain(validated: dict[str, Any]) -> dict[str, Any]:
    data = dict(validated)
    data["steps"] = [
        {"feature": s["feature"], "action": s["action"], "detail": s.get("detail") or ""} for s in data["steps"]
    ]
    data["filters"] = {k: list(v) for k, v in (data.get("filters") or {}).items()}
    return data


def _summary(funnel: Funnel, result: FunnelResult | None) -> dict[str, Any]:
    """A row of the list: the funnel and what its stored result says (never computed here)."""
    fresh = funnel_result_is_fresh(funnel=funnel, result=result)
    data = FunnelData.from_dict(result.payload) if result is not None else None
    return {
        "funnel": funnel,
        "steps": step_labels(funnel.steps),
        "result": result,
        "fresh": fresh,
        "entered": data.entered if data else None,
        "completion_pct": data.completion_pct if data else None,
    }


@require_safe
@login_required
def funnels_tab(request: HttpRequest, slug: str) -> HttpResponse:
    """The list: my funnels and those shared with the workspace, with their last results."""
    workspace = _workspace(request, slug)
    role = workspace_role(request.user, workspace)
    visible = list(funnels_visible_to(workspace=workspace, user=request.user).order_by("name", "id"))
    results = {r.funnel_id: r for r in FunnelResult.objects.filter(funnel__in=[f.pk for f in visible])}
    rows = [_summary(f, results.get(f.pk)) for f in visible]
    context = {
        **page_chrome(request, workspace, active=TAB),
        "mine": [r for r in rows if r["funnel"].owner_id == request.user.pk],
        "shared": [r for r in rows if r["funnel"].owner_id != request.user.pk],
        "can_create": funnel_can_create(role=role),
        "new_url": reverse("funnels-new", kwargs={"slug": slug}),
        "has_events": workspace_data_state(workspace=workspace).has_events,
        "batch_url": request.build_absolute_uri(reverse("api-events-batch")),
        "api_url": reverse("api-funnels", kwargs={"slug": slug}),
    }
    return render(request, "funnels/list.html", context)


def _builder(request: HttpRequest, workspace: Workspace, funnel: Funnel | None) -> HttpResponse:
    context_extra = {"request": request}
    if request.method == "POST":
        form = FunnelForm(request.POST, workspace=workspace, instance=funnel, context=context_extra)
        if "add_step" in request.POST or "remove_step" in request.POST:
            # Without JavaScript the step buttons submit the form: re-render it, save nothing.
            if "add_step" in request.POST:
                form.add_step()
            else:
                index = request.POST.get("remove_step", "")
                if index.isdigit():
                    form.remove_step(int(index))
            return _render_builder(request, workspace, funnel, form)
        if form.is_valid() and form.validated is not None:
            data = _plain(form.validated)
            if funnel is None:
                funnel = services.funnel_create(workspace=workspace, owner=request.user, data=data)
                messages.success(request, _("Funnel “%(name)s” saved.") % {"name": funnel.name})
            else:
                funnel = services.funnel_update(funnel=funnel, data=data, actor=request.user)
                messages.success(request, _("Funnel “%(name)s” updated.") % {"name": funnel.name})
            return redirect("funnels-detail", slug=workspace.slug, pk=funnel.pk)
        return _render_builder(request, workspace, funnel, form, status=400)
    form = FunnelForm(workspace=workspace, instance=funnel, context=context_extra)
    return _render_builder(request, workspace, funnel, form)


def _render_builder(
    request: HttpRequest, workspace: Workspace, funnel: Funnel | None, form: FunnelForm, status: int = 200
) -> HttpResponse:
    slug = workspace.slug
    context = {
        **page_chrome(request, workspace, active=TAB),
        "form": form,
        "funnel": funnel,
        "min_steps": MIN_STEPS,
        "max_steps": MAX_STEPS,
        "list_url": reverse(TAB, kwargs={"slug": slug}),
        "preview_url": reverse("funnels-preview", kwargs={"slug": slug}),
        "catalog_url": reverse("api-features", kwargs={"slug": slug}),
        "query_api_url": reverse("api-funnels-query", kwargs={"slug": slug}),
        "has_events": workspace_data_state(workspace=workspace).has_events,
    }
    return render(request, "funnels/builder.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def funnel_new(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    if not funnel_can_create(role=workspace_role(request.user, workspace)):
        raise PermissionDenied(_("Viewers cannot build funnels; ask a workspace admin for the analyst role."))
    return _builder(request, workspace, None)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def funnel_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = _workspace(request, slug)
    funnel = _funnel(request, workspace, pk)
    if not funnel_can_edit(funnel=funnel, user=request.user, role=workspace_role(request.user, workspace)):
        raise PermissionDenied(_("Only the owner of this funnel or a workspace admin can change it."))
    return _builder(request, workspace, funnel)


@require_POST
@login_required
def funnel_preview(request: HttpRequest, slug: str) -> JsonResponse:
    """Live validation and preview of the builder: the API's messages by field name, or the results
    of the definition over the range the saved funnel would use (computed now, not stored)."""
    workspace = _workspace(request, slug)
    form = FunnelForm(request.POST, workspace=workspace, context={"request": request})
    query, errors = form.preview_query()
    if query is None:
        return JsonResponse({"errors": errors}, status=400)
    spec = FunnelSpec(
        steps=tuple(Step(s["feature"], s["action"], s.get("detail") or "") for s in query["steps"]),
        unit=query["unit"],
        window_days=query["window_days"],
        order=query["order"],
        breakdown=query["breakdown"],
    )
    period = query["period"]
    data = funnel_compute(workspace=workspace, spec=spec, period=period, filters=query.get("filters") or None)
    return JsonResponse(
        {
            **data.as_dict(),
            "range": period.as_dict(),
            "unit": spec.unit,
            "unit_label": unit_label(spec.unit),
            "breakdown_label": str(BREAKDOWN_LABELS.get(spec.breakdown, spec.breakdown)),
            "chart": funnel_chart_data(data, spec.unit),
        }
    )


@require_safe
@login_required
def funnel_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = _workspace(request, slug)
    funnel = _funnel(request, workspace, pk)
    role = workspace_role(request.user, workspace)
    form = FunnelRangeForm(request.GET, funnel=funnel)
    context: dict[str, Any] = {
        **page_chrome(request, workspace, active=TAB),
        "funnel": funnel,
        "form": form,
        "steps": step_labels(funnel.steps),
        "can_edit": funnel_can_edit(funnel=funnel, user=request.user, role=role),
        "list_url": reverse(TAB, kwargs={"slug": slug}),
        "unit_label": unit_label(funnel.unit),
        "unit_display": Unit(funnel.unit).label,
        "order_display": Order(funnel.order).label if funnel.order in Order.values else funnel.order,
        "visibility_display": Visibility(funnel.visibility).label,
        "breakdown_label": BREAKDOWN_LABELS.get(funnel.breakdown, funnel.breakdown),
        "filters": [(name, funnel.filters[name]) for name in USER_FILTER_FIELDS if (funnel.filters or {}).get(name)],
    }
    if not form.is_valid():
        return render(request, "funnels/detail.html", context, status=400)
    q = form.cleaned_data
    custom = form.is_custom
    if custom:
        period = q["period"] or funnel.default_period()
        data = services.funnel_period_results(funnel=funnel, period=period, filters=q["filters"] or None)
        stored, cached = None, False
    else:
        data, stored, cached = services.funnel_saved_results(funnel=funnel)
        period = funnel.default_period()
    # The CSV link asks the API for the same figures: the saved range as is, another one explicitly.
    api_query = QueryDict(mutable=True)
    if custom:
        api_query["start"], api_query["end"] = period.start.isoformat(), period.end.isoformat()
        for name in USER_FILTER_FIELDS:
            api_query.setlist(name, form.query_data.getlist(name))
    api_query["format"] = "csv"
    context.update(
        {
            "data": data,
            "period": period,
            "stored": stored,
            "cached": cached,
            "chart_json": json.dumps(funnel_chart_data(data, funnel.unit)),
            "chart_url": with_query(reverse("funnels-chart", kwargs={"slug": slug, "pk": pk}), request.GET),
            "csv_url": with_query(reverse("api-funnel-results", kwargs={"slug": slug, "pk": pk}), api_query),
            "refresh_url": reverse("funnels-refresh", kwargs={"slug": slug, "pk": pk}),
            "has_events": workspace_data_state(workspace=workspace).has_events,
        }
    )
    return render(request, "funnels/detail.html", context)


@require_POST
@login_required
def funnel_refresh(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Recompute the saved funnel's results now (any member who sees it may ask)."""
    workspace = _workspace(request, slug)
    funnel = _funnel(request, workspace, pk)
    result = services.funnel_results_refresh(funnel=funnel)
    messages.success(request, _("Results recomputed in %(ms)s ms.") % {"ms": result.duration_ms})
    return redirect("funnels-detail", slug=slug, pk=pk)


@require_POST
@login_required
def funnel_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    workspace = _workspace(request, slug)
    funnel = _funnel(request, workspace, pk)
    if not funnel_can_edit(funnel=funnel, user=request.user, role=workspace_role(request.user, workspace)):
        raise PermissionDenied(_("Only the owner of this funnel or a workspace admin can delete it."))
    name = funnel.name
    services.funnel_delete(funnel=funnel, actor=request.user)
    messages.success(request, _("Funnel “%(name)s” deleted.") % {"name": name})
    return redirect(TAB, slug=slug)
