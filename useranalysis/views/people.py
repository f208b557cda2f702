"""The drill-down page (docs/drilldown.md): the users behind one figure of a chart or a table of any
tab, ``/w/<slug>/people/?source=<endpoint>&<the figure's query>&people=<selector>``, as the users
table (sorted, paginated), its CSV (the API's ``people=`` answer) and "Save as filter set".

Which users, and what the figure is called, is the source's to say (``core.people.SOURCES``, which
the tabs register): this page imports no other tab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_safe

from core.chrome import with_query
from core.pages import workspace_url
from core.people import (
    SOURCES,
    NotAFigure,
    TableParams,
    can_defer,
    people_rows,
    sort_rows,
    user_rows_complete,
)
from core.queries import QueryInvalid
from events.filters import MAX_STATIC_USERS
from tenancy.scoping import WorkspaceScope, workspace_page
from useranalysis import presenters
from useranalysis.queries import TableQuery
from useranalysis.views.common import PERIOD_AND_FILTERS, chrome, only

# What the page adds to the figure's own query: not passed on to it.
PAGE_PARAMS = ("source", "ordering", "page", "page_size")


@dataclass(frozen=True, kw_only=True)
class PeopleTableQuery(TableQuery):
    """The page's table: the figure's query (``figure``: its parameters, the selector included)
    rides along in every link of the table."""

    figure: dict[str, list[str]] = field(default_factory=dict)

    def encode(self) -> dict[str, Any]:
        table = super().encode()
        return {**self.figure, **{k: table[k] for k in ("ordering", "page", "page_size")}}


def figure_params(source: str, query: Any, data: QueryDict) -> QueryDict:
    """The figure's canonical parameters (its query's), with the selector and the source."""
    params = query.params()
    for name in ("people", "people_group", "funnel"):
        if name in data:
            params[name] = data[name]
    params["source"] = source
    return params


@require_safe
@workspace_page
def people_page(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    name = request.GET.get("source", "")
    source = SOURCES.get(name)
    if source is None:
        raise Http404("No such figure.")
    keep = only(request.GET, PERIOD_AND_FILTERS)
    context: dict[str, Any] = chrome(request, scope, keep)
    template = "useranalysis/people.html"
    figure = {key: values for key, values in request.GET.lists() if key not in PAGE_PARAMS}
    table = TableParams(data=request.GET)
    try:
        query = source.parse(scope, request.user, _as_querydict(figure))
        if not table.is_valid():
            raise QueryInvalid(table.errors)
        ids = source.people(query)
    except QueryInvalid as exc:
        context["errors"] = exc.errors
        return render(request, template, context, status=400)
    except NotAFigure as exc:
        context["errors"] = {"people": [str(exc)]}
        return render(request, template, context, status=400)
    ordering, page, page_size = (table.validated_data[k] for k in ("ordering", "page", "page_size"))
    params = figure_params(name, query, request.GET)
    defer = can_defer(ordering)
    rows = sort_rows(people_rows(query, ids, defer=defer), ordering)
    shown = PeopleTableQuery(
        workspace=scope.workspace,
        filters={},  # the figure's own filters are in ``figure``
        period=query.period,
        period_pick=query.period_pick,
        ordering=ordering,
        page=page,
        page_size=page_size,
        figure={key: params.getlist(key) for key in params},
    )
    title = source.title(query)
    api = f"/api/v1/workspaces/{scope.workspace.slug}/{_api_path(name, query)}"
    context.update(
        {
            "title": title,
            "count": len(rows),
            "period": query.period,
            "table": presenters.user_table(
                rows,
                presenters.TableLinks(request.path, shown, "people-table"),
                detail=keep,
                caption=title,
                complete=(lambda page_rows: user_rows_complete(query, page_rows)) if defer else None,
            ),
            "csv_url": with_query(api, csv_params(params, ordering)),
            "can_save": scope.can_create_saved and 0 < len(rows) <= MAX_STATIC_USERS,
            "too_many_to_save": len(rows) > MAX_STATIC_USERS,
            "save_url": workspace_url("users-filter-set-from-users", scope),
            "external_ids": "\n".join(r.external_id for r in rows),
            "default_name": title,
            "period_end": query.period.end.isoformat(),
            "period_days": query.period.days,
            "here": request.get_full_path(),
            "max_static": MAX_STATIC_USERS,
        }
    )
    return render(request, template, context)


def _as_querydict(values: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, items in values.items():
        data.setlist(key, items)
    return data


def csv_params(params: QueryDict, ordering: str) -> QueryDict:
    """The figure's API query for every row as CSV, in the table's order."""
    result = params.copy()
    result.pop("source", None)
    result["format"], result["ordering"] = "csv", ordering
    return result


def _api_path(name: str, query: Any) -> str:
    """The endpoint of the figure under the workspace's API (a saved funnel's results by its id)."""
    funnel = getattr(query, "funnel", None)
    return f"funnels/{funnel.pk}/results" if name == "funnels/results" and funnel is not None else name
