"""Pages of the Dashboards tab (the list, a board) and the share page, which needs no login.

A board page lays its tiles out and lets the browser load each in parallel: a tile whose endpoint has
a chart is that tab's chart (its chart JSON with the tile's query, drawn by static/js/charts.js), any
other is its endpoint's answer as a table (static/js/dashboards.js). The share page is computed here,
as the board's owner, so the visitor's browser asks the server nothing else."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.chrome import page_chrome, with_query
from dashboards import presenters, services
from dashboards.forms import BoardSettingsForm, DashboardForm, ShareLinkForm
from dashboards.models import Dashboard, ShareLink, Tile
from dashboards.selectors import annotations_json, tile_query
from tenancy.scoping import WorkspaceScope, workspace_page

TAB = "dashboards-tab"

# The scripts a chart type needs beyond charts.js: the vendored Chart.js plugin and the tab's own
# drawer (static/<tab>/<tab>.js registers it with CrmCharts.drawer), loaded as the tab loads them.
_MATRIX = "vendor/chartjs-chart-matrix-3.1.0/chartjs-chart-matrix.min.js"
_SANKEY = "vendor/chartjs-chart-sankey-0.19.1/chartjs-chart-sankey.min.js"
_WORDCLOUD = "vendor/chartjs-chart-wordcloud-4.4.5/chartjs-chart-wordcloud.min.js"
DRAWER_SCRIPTS: dict[str, tuple[str, ...]] = {
    "matrix": (_MATRIX, "behaviour/behaviour.js"),
    "sankey": (_SANKEY, "behaviour/behaviour.js"),
    "stacked": ("behaviour/behaviour.js",),
    "anomaly": ("behaviour/behaviour.js",),
    "sales-stacked": ("sales/sales.js",),
    "sales-mixed": ("sales/sales.js",),
    "perception-doughnut": ("perception/perception.js",),
    "perception-wordcloud": (_WORDCLOUD, "perception/perception.js"),
    "funnel": ("funnels/funnels.js",),
}


def drawer_scripts(types: list[str]) -> list[str]:
    """The static scripts the chart ``types`` of a board need, plugins first, each once."""
    scripts = [script for kind in types for script in DRAWER_SCRIPTS.get(kind, ())]
    unique = list(dict.fromkeys(scripts))
    return [s for s in unique if s.startswith("vendor/")] + [s for s in unique if not s.startswith("vendor/")]


def _querydict(query: dict[str, Any]) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, value in query.items():
        params.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return params


def _tile_view(dashboard: Dashboard, tile: Tile, viewer: Any) -> dict[str, Any]:
    """What the page needs to load a tile: its chart's URL (and how it draws) or its endpoint's URL."""
    raw_query = tile_query(dashboard, tile)
    query = _querydict(raw_query)
    slug = dashboard.workspace.slug
    chart = services.tile_chart(dashboard.workspace, tile, raw_query)
    view: dict[str, Any] = {
        "tile": tile,
        "api_url": with_query(f"/api/v1/workspaces/{slug}/{tile.endpoint}", query),
        "subtitle": presenters.tile_subtitle(dashboard.workspace, tile.endpoint, raw_query),
    }
    if chart:
        name, kwargs, kind, labels = chart
        chart_url = with_query(reverse(name, kwargs=kwargs), query)
        # The chart's name in the id: a drawer may tell two charts of one type apart by it (the
        # failure-rate heatmap).
        view.update(chart_url=chart_url, chart_id=f"tile-chart-{tile.pk}-{name}", type=kind, labels=labels)
    else:
        view.update(cards=_summary_cards(dashboard, tile, viewer, raw_query))
    return view


def _summary_cards(
    board: Dashboard, tile: Tile, viewer: Any, query: dict[str, Any]
) -> list[presenters.MetricCard] | None:
    """A summary tile's metric cards, computed here (as ``viewer``) so that they read as the tab's;
    None for any other tile (a table the browser loads) and for an error (the tile says so)."""
    url_name = presenters.endpoint_url_name(board.workspace, tile.endpoint)
    if url_name not in presenters.SUMMARY_ENDPOINTS:
        return None
    status, data = services.endpoint_answer(board.workspace, viewer, tile.endpoint, query)
    today = board.workspace.today()
    return presenters.summary_cards(url_name, data if status == 200 else None, f"tile-{tile.pk}", today) or []


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def dashboards_tab(request: HttpRequest, scope: WorkspaceScope) -> HttpResponse:
    """The boards the user can see, and a form to create one (admins and analysts)."""
    form = DashboardForm(request.POST or None)
    if request.method == "POST":
        if not scope.can_create_saved:
            raise Http404  # the form is not shown to viewers
        if form.is_valid():
            board = services.dashboard_create(workspace=scope.workspace, owner=request.user, values=form.cleaned_data)
            return redirect("dashboard-page", slug=scope.workspace.slug, pk=board.pk)
    boards = list(scope.saved(Dashboard).prefetch_related("tiles"))
    context = {
        **page_chrome(request, scope.workspace, active=TAB),
        "mine": [b for b in boards if b.owner_id == request.user.pk],
        "shared": [b for b in boards if b.owner_id != request.user.pk],
        "form": form,
        "can_create": scope.can_create_saved,
    }
    return render(request, "dashboards/list.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@workspace_page
def dashboard_page(request: HttpRequest, scope: WorkspaceScope, pk: int) -> HttpResponse:
    """A board: its tiles in a grid, its period and filters, and (owner or admin) its share links."""
    board = scope.get_saved(Dashboard, pk)
    can_edit = scope.can_edit_saved(board)
    settings_form = BoardSettingsForm(initial=BoardSettingsForm.initial_of(board))
    share_form = ShareLinkForm()
    if request.method == "POST":
        if not can_edit:
            return HttpResponse(status=403)
        action = request.POST.get("action")
        if action == "settings":
            settings_form = BoardSettingsForm(request.POST)
            if settings_form.is_valid():
                data = settings_form.cleaned_data
                values = {"period_start": data["start"], "period_end": data["end"], "filters": data["filters"]}
                services.dashboard_update(dashboard=board, actor=request.user, values=values)
                return redirect(request.path)
        elif action == "share":
            share_form = ShareLinkForm(request.POST)
            if share_form.is_valid():
                _link, token = services.share_link_create(
                    dashboard=board, actor=request.user, expires_at=share_form.expires_at()
                )
                url = request.build_absolute_uri(reverse("share-page", kwargs={"token": token}))
                messages.success(request, _("Share link created (shown only now): %(url)s") % {"url": url})
                return redirect(request.path)
        elif action == "revoke":
            revoked = board.share_links.filter(pk=request.POST.get("link") or 0).first()
            if revoked is None:
                raise Http404
            services.share_link_revoke(link=revoked, actor=request.user)
            messages.info(request, _("The share link was revoked."))
            return redirect(request.path)
        else:
            return HttpResponse(status=400)
    tiles = [_tile_view(board, tile, request.user) for tile in board.tiles.all()]
    context = {
        **page_chrome(request, scope.workspace, active=TAB),
        "board": board,
        "tiles": tiles,
        "drawer_scripts": drawer_scripts([t["type"] for t in tiles if t.get("type")]),
        "can_edit": can_edit,
        "table_labels": presenters.table_labels(),
        "settings_form": settings_form,
        "share_form": share_form,
        "share_links": list(board.share_links.all()) if can_edit else [],
        "api_url": reverse("api-dashboard-detail", kwargs={"slug": scope.workspace.slug, "pk": board.pk}),
        "annotations_url": reverse("api-annotation-list", kwargs={"slug": scope.workspace.slug}),
        "can_annotate": scope.can_create_saved,
    }
    failed = settings_form.errors or share_form.errors
    return render(request, "dashboards/board.html", context, status=400 if failed else 200)


@require_POST
@workspace_page
def pin_chart(request: HttpRequest, scope: WorkspaceScope) -> JsonResponse:
    """Add a tab's chart (its chart JSON URL, with the page's query) to a board the user may change, or
    to a new one: ``{"url": the board's page}``; 400 ``{"errors": {field: [message]}}`` otherwise."""
    tile = services.pinned_tile(scope.workspace, request.user, request.POST.get("chart_url", ""))
    if tile is None:
        return JsonResponse({"errors": {"chart_url": [_("This chart cannot be pinned.")]}}, status=400)
    title = (request.POST.get("title") or "").strip()[:200] or tile["endpoint"]
    board_id = request.POST.get("dashboard", "")
    if board_id == "new":
        form = DashboardForm({"name": request.POST.get("name", ""), "description": "", "visibility": "private"})
        if not scope.can_create_saved:
            return JsonResponse({"errors": {"dashboard": [_("Only admins and analysts create boards.")]}}, status=403)
        if not form.is_valid():
            return JsonResponse({"errors": {"name": form.errors.get("name", [])}}, status=400)
        board = services.dashboard_create(workspace=scope.workspace, owner=request.user, values=form.cleaned_data)
    else:
        found = scope.saved(Dashboard).filter(pk=board_id).first() if board_id.isdigit() else None
        if found is None or not scope.can_edit_saved(found):
            return JsonResponse({"errors": {"dashboard": [_("Choose a board you can change.")]}}, status=400)
        board = found
    if board.tiles.count() >= services.MAX_TILES:
        message = _("A board holds at most %(n)s tiles.") % {"n": services.MAX_TILES}
        return JsonResponse({"errors": {"dashboard": [message]}}, status=400)
    last = board.tiles.order_by("-y").first()
    Tile.objects.create(dashboard=board, title=title, y=last.y + 1 if last else 0, **tile)
    return JsonResponse({"url": reverse("dashboard-page", kwargs={"slug": scope.workspace.slug, "pk": board.pk})})


def _shared_tile(board: Dashboard, tile: Tile) -> dict[str, Any]:
    """A tile of a shared board, computed as the owner: its chart's JSON, or its endpoint's answer."""
    query = tile_query(board, tile)
    chart = services.tile_chart(board.workspace, tile, query)
    view: dict[str, Any] = {
        "id": tile.pk,
        "title": tile.title,
        "w": tile.w,
        "h": tile.h,
        "subtitle": presenters.tile_subtitle(board.workspace, tile.endpoint, query),
    }
    if chart:
        name, kwargs, kind, labels = chart
        status, data = services.chart_answer(board.workspace, board.owner, name, query, kwargs)
        view.update(
            type=kind, labels=labels, chart=data if status == 200 else None, chart_id=f"tile-chart-{tile.pk}-{name}"
        )
    else:
        cards = _summary_cards(board, tile, board.owner, query)
        if cards is not None:
            view.update(cards=cards)
        else:
            status, data = services.endpoint_answer(board.workspace, board.owner, tile.endpoint, query)
            view.update(table=data if status == 200 else None)
    return view


@require_safe
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """A board, read-only, for whoever has a live link: no login, no navigation, nothing else."""
    try:
        link = services.share_link_open(token)
    except ShareLink.DoesNotExist:
        raise Http404 from None
    except services.ShareLinkGone:
        return render(request, "dashboards/share_gone.html", status=410)
    board = link.dashboard
    tiles = [_shared_tile(board, tile) for tile in board.tiles.all()]
    annotations = dashboard_data_annotations(board, tiles)
    # The cards are drawn by the template; the browser gets the rest (charts, tables).
    drawn = [{k: v for k, v in tile.items() if k != "cards"} for tile in tiles]
    context = {
        "board": board,
        "tiles": tiles,
        "table_labels": presenters.table_labels(),
        "drawer_scripts": drawer_scripts([t["type"] for t in tiles if t.get("type")]),
        "payload": json.loads(json.dumps({"tiles": drawn, "annotations": annotations}, default=str)),
        "expires_at": link.expires_at,
    }
    response = render(request, "dashboards/share.html", context)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


def dashboard_data_annotations(board: Dashboard, tiles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The notes a shared board shows: over its period, or else over the dates its charts show."""
    if board.period_start and board.period_end:
        return annotations_json(board.workspace, board.period_start, board.period_end, dashboard=board)
    dates = sorted(
        label
        for tile in tiles
        for label in ((tile.get("chart") or {}).get("labels") or [])
        if isinstance(label, str) and len(label) == 10 and label[4] == "-"
    )
    if not dates:
        return []
    return annotations_json(
        board.workspace, date.fromisoformat(dates[0]), date.fromisoformat(dates[-1]), dashboard=board
    )
