"""The flow every tab page shares: parse the request into the insight's query once, or show the
query's messages in the form (400); the empty state of a workspace without events; the period
presets as links.

A page view is then: ``page = tab_page(request, scope, "home-tab", HomeQuery, HomeForm)``; return
``page.nothing_to_show(request, template)`` if there is one (the empty state, or the form with its
messages and a 400); else call the selectors with ``page.query`` and render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse

from core.chrome import page_chrome, with_query
from core.forms import PeriodForm, QueryForm
from core.queries import PRESET_PARAMS, PeriodQuery, Preset, Query, QueryInvalid
from events.selectors import workspace_data_state
from tenancy.scoping import WorkspaceScope


@dataclass
class TabPage[Q: Query]:
    """A tab's request, parsed: the query (None when not valid), the form that shows it, and the
    context every tab template reads (tab bar, switcher, period presets)."""

    query: Q | None
    form: QueryForm
    has_events: bool
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return 200 if self.query is not None else 400

    def nothing_to_show(self, request: HttpRequest, template: str) -> HttpResponse | None:
        """The page when there are no figures to compute: the empty state of a workspace without
        events (how to send some), or the form with its messages (400). None when there are figures."""
        if not self.has_events:
            self.show_empty_state(request)
            return render(request, template, self.context)
        if self.query is None:
            return render(request, template, self.context, status=400)
        return None

    def show_empty_state(self, request: HttpRequest) -> None:
        """The context of the empty state (how to send the first events)."""
        self.context["no_events"] = True
        self.context["batch_url"] = request.build_absolute_uri(reverse("api-events-batch"))


def tab_page[Q: Query](
    request: HttpRequest,
    scope: WorkspaceScope,
    active: str,
    query_class: type[Q],
    form_class: type[QueryForm] = PeriodForm,
    data: QueryDict | None = None,
    context: dict[str, Any] | None = None,
) -> TabPage[Q]:
    """Parse ``data`` (default: the request's query string) into ``query_class`` for a page
    (``context`` for the Params: see ``Query.parse``)."""
    data = request.GET if data is None else data
    workspace = scope.workspace
    query: Q | None
    try:
        parsed = query_class.parse(data, workspace=workspace, viewer=request.user, **(context or {}))
    except QueryInvalid as exc:
        query, form = None, form_class(data, workspace=workspace, errors=exc.errors, viewer=request.user)
    else:
        query, form = parsed, form_class(form_data(parsed), workspace=workspace, viewer=request.user)
    state = workspace_data_state(workspace=workspace)
    context = {
        **page_chrome(request, workspace, active=active),
        "form": form,
        "query": query,
        "rollups_pending": state.rollups_pending,
        "period_presets": period_presets(request, query, data, workspace.today()),
    }
    return TabPage(query, form, state.has_events, context)


def form_data(query: Query) -> QueryDict:
    """What a form shows for a valid query: its parameters, with the period as From–To."""
    if isinstance(query, PeriodQuery):
        return query.params(start=query.period.start, end=query.period.end)
    return query.params()


def period_presets(request: HttpRequest, query: Query | None, data: QueryDict, today: Any) -> dict[str, Any]:
    """The presets as links that keep the rest of the query, and the name of the period in force."""
    base = query.params() if query is not None else data.copy()
    for name in PRESET_PARAMS:
        base.pop(name, None)
    current = None
    if isinstance(query, PeriodQuery):
        current = query.period_pick.preset if query.period_pick.anchor is None else None
        current = current or query.period_pick.matching_preset(today)
    links = []
    for preset in Preset:
        params = base.copy()
        params["period"] = preset.slug
        links.append({"label": preset.label, "url": with_query(request.path, params), "current": preset is current})
    return {"links": links, "current": current, "period": query.period if isinstance(query, PeriodQuery) else None}


def workspace_url(name: str, scope: WorkspaceScope, query: QueryDict | None = None, **kwargs: Any) -> str:
    """A URL of the workspace (page, chart JSON or API endpoint) with a query."""
    return with_query(reverse(name, kwargs={"slug": scope.workspace.slug, **kwargs}), query)
