"""Writes of the dashboards area (a board's tiles, its share links) and reading one tile: a tile's
answer is the answer of its GET endpoint, asked internally as the viewer through the real URL routes,
so a tile can never differ from the tab it was pinned from."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from dashboards.models import Dashboard, ShareLink, Tile
from tenancy.models import AuditEntry, Workspace
from tenancy.services import audit_record, audit_saved_config, field_values

_factory = APIRequestFactory()
_page_factory = RequestFactory()


def endpoint_answer(workspace: Workspace, viewer: Any, endpoint: str, params: dict[str, Any]) -> tuple[int, Any]:
    """``GET /api/v1/workspaces/<slug>/<endpoint>?<params>`` answered as ``viewer``: (status, JSON body).

    ``params`` values may be lists (a repeated parameter). An endpoint outside the workspace API is a
    404, as it would be over HTTP."""
    path = f"/api/v1/workspaces/{workspace.slug}/{endpoint.strip('/')}"
    try:
        match = resolve(path)
    except Resolver404:
        return 404, {"detail": "Not found."}
    request = _factory.get(path, params, HTTP_ACCEPT="application/json")
    force_authenticate(request, user=viewer)
    response = match.func(request, *match.args, **match.kwargs)
    return response.status_code, getattr(response, "data", None)


# --- which endpoints a tile may show ----------------------------------------------------------------------

# The GET insight endpoints of the workspace API a tile may show, by URL name: never a saved
# configuration's CRUD, a board, a share link or anything that writes.
TILE_ENDPOINTS = frozenset(
    {
        "api-home-summary",
        "api-home-weekly",
        "api-home-calendar",
        "api-home-top-users",
        "api-activity-features",
        "api-trends",
        "api-hub-popularity",
        "api-hub-frequency",
        "api-funnel-results",
        "api-behaviour-heatmap",
        "api-behaviour-failures",
        "api-behaviour-retention",
        "api-behaviour-lifecycle",
        "api-behaviour-stickiness",
        "api-behaviour-anomalies",
        "api-behaviour-paths",
        "api-behaviour-data-quality",
        "api-accounts-overview",
        "api-accounts",
        "api-accounts-suggested-segments",
        "api-sales-union",
        "api-sales-activity",
        "api-sales-open-pipeline",
        "api-sales-pipeline-generation",
        "api-sales-forecast",
        "api-sales-clean-house",
        "api-sales-adoption-outcome",
        "api-perception-summary",
        "api-perception-trend",
        "api-perception-breakdown",
        "api-perception-accounts",
        "api-perception-voice",
        "api-perception-keywords",
    }
)


def endpoint_name(workspace: Workspace, endpoint: str) -> str | None:
    """The URL name ``endpoint`` (a path under the workspace API) resolves to, as the board will ask it
    (no surrounding slashes; a name-less alias is looked up with its trailing slash), or None."""
    path = f"/api/v1/workspaces/{workspace.slug}/{endpoint.strip('/')}"
    for candidate in (path, path + "/"):
        try:
            name = resolve(candidate).url_name
        except Resolver404:
            continue
        if name:
            return name
    return None


def tile_endpoint_allowed(workspace: Workspace, endpoint: str) -> bool:
    return "?" not in endpoint and "#" not in endpoint and endpoint_name(workspace, endpoint) in TILE_ENDPOINTS


# --- a board's tiles ---------------------------------------------------------------------------------------

MAX_TILES = 24
TILE_FIELDS = ("title", "endpoint", "query", "x", "y", "w", "h")


def tiles_replace(dashboard: Dashboard, tiles: list[dict[str, Any]]) -> None:
    """Make the board's tiles exactly ``tiles`` (validated values): one given with the id of a tile of
    this board keeps that id (a reorder keeps the tiles), any other is new, the rest are deleted."""
    with transaction.atomic():
        existing = {t.pk: t for t in dashboard.tiles.select_for_update()}
        kept = set()
        for values in tiles:
            tile = existing.get(values.get("id") or 0)
            if tile is None or tile.pk in kept:
                tile = Tile(dashboard=dashboard)
            elif tile.endpoint != values["endpoint"]:
                tile.chart = ""  # the chart pinned belongs to the endpoint it was pinned with
            for field in TILE_FIELDS:
                setattr(tile, field, values[field])
            tile.save()
            kept.add(tile.pk)
        dashboard.tiles.exclude(pk__in=kept).delete()


# --- share links -------------------------------------------------------------------------------------------

MAX_SHARE_DAYS = 365


class ShareLinkGone(Exception):
    """The link existed but has expired (the share endpoints answer 410)."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_link_create(*, dashboard: Dashboard, actor: Any, expires_at: datetime) -> tuple[ShareLink, str]:
    """A new link to the board, audited; the token is returned to be shown once (only its digest is kept)."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = ShareLink.objects.create(
            dashboard=dashboard, token_digest=token_digest(token), created_by=actor, expires_at=expires_at
        )
        audit_record(
            workspace=dashboard.workspace,
            actor=actor,
            action=AuditEntry.Action.CREATED,
            target=link,
            changes={"dashboard": dashboard.pk, "expires_at": expires_at.isoformat()},
        )
    return link, token


def share_link_revoke(*, link: ShareLink, actor: Any) -> ShareLink:
    """Revoke the link (once: revoking again changes nothing and records nothing)."""
    if link.revoked_at is None:
        with transaction.atomic():
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            audit_record(
                workspace=link.dashboard.workspace,
                actor=actor,
                action=AuditEntry.Action.UPDATED,
                target=link,
                changes={"revoked_at": [None, link.revoked_at.isoformat()]},
            )
    return link


def share_link_open(token: str) -> ShareLink:
    """The live link of ``token``; ``ShareLink.DoesNotExist`` for an unknown or revoked one,
    ``ShareLinkGone`` for an expired one."""
    link = ShareLink.objects.select_related("dashboard__workspace", "dashboard__owner").get(
        token_digest=token_digest(token), revoked_at__isnull=True
    )
    if link.expires_at <= timezone.now():
        raise ShareLinkGone
    return link


def share_expiry_limit() -> datetime:
    return timezone.now() + timedelta(days=MAX_SHARE_DAYS)


# --- pinning a tab's chart, and drawing a tile as its tab does ---------------------------------------------


@dataclass(frozen=True)
class ChartSpec:
    """A tab's chart as a tile: ``api`` is the URL name of the API endpoint answering the same figures
    for the same query and ``endpoint`` its path, which may name the chart URL's arguments
    (``funnels/{pk}/results``); ``type`` and ``labels`` are how ``chart_box`` draws it (``labels``
    ``interval:week``: the query's ``interval``, by default week); ``defaults`` are the parameters the
    chart assumes that the endpoint does not (its default period); ``views``: the drawing of each
    ``view`` parameter the chart answers (a funnel's steps, time to convert, conversion over time);
    ``saved``: the saved configuration the chart is of (``funnels/{pk}``), which the user pinning it
    must see."""

    api: str
    endpoint: str
    type: str
    labels: str
    defaults: tuple[tuple[str, str], ...] = ()
    views: tuple[tuple[str, str, str], ...] = ()
    saved: str = ""

    def drawing(self, query: dict[str, Any]) -> tuple[str, str]:
        """(chart type, label format) of this chart for ``query``."""
        kind, labels = self.type, self.labels
        for view, view_kind, view_labels in self.views:
            if query.get("view") == view:
                kind, labels = view_kind, view_labels
        if labels.startswith("interval:"):
            interval = query.get("interval")
            labels = interval if interval in ("day", "week", "month") else labels.partition(":")[2]
        return kind, labels


# A tab's chart (its chart JSON URL name) → the tile it becomes. The first chart of an endpoint is the
# one a board draws for a tile given through the API (``ENDPOINT_CHARTS``).
CHART_ENDPOINTS: dict[str, ChartSpec] = {
    "home-chart-weekly-interactions": ChartSpec("api-home-weekly", "home/weekly-interactions", "bar", "week"),
    "activity-chart-features": ChartSpec("api-activity-features", "activity/features", "line", "day"),
    # A user's page: that user's interactions per day, which activity/features answers per feature
    # (over the user page's default period, 30 days, not the Activity tab's 60).
    "users-chart-daily-activity": ChartSpec(
        "api-activity-features", "activity/features", "bar", "day", defaults=(("days", "30"),)
    ),
    "trends-chart": ChartSpec("api-trends", "trends", "line", "interval:day"),
    "hub-chart-popularity": ChartSpec("api-hub-popularity", "hub/popularity", "hbar", "text"),
    "hub-chart-frequency": ChartSpec("api-hub-frequency", "hub/frequency", "bar", "text"),
    "funnels-chart": ChartSpec(
        "api-funnel-results",
        "funnels/{pk}/results",
        "funnel",
        "text",
        views=(("time_to_convert", "bar", "text"), ("trends", "line", "interval:week")),
        saved="funnels/{pk}",
    ),
    "behaviour-chart-failure-rate": ChartSpec("api-behaviour-failures", "behaviour/failures", "hbar", "text"),
    "behaviour-chart-retention": ChartSpec("api-behaviour-retention", "behaviour/retention", "line", "text"),
    "behaviour-chart-stickiness": ChartSpec("api-behaviour-stickiness", "behaviour/stickiness", "bar", "text"),
    "behaviour-chart-lifecycle": ChartSpec(
        "api-behaviour-lifecycle", "behaviour/lifecycle", "stacked", "interval:week"
    ),
    "behaviour-chart-heatmap": ChartSpec("api-behaviour-heatmap", "behaviour/heatmap", "matrix", "text"),
    "behaviour-chart-failure-heatmap": ChartSpec("api-behaviour-heatmap", "behaviour/heatmap", "matrix", "text"),
    "behaviour-chart-anomaly": ChartSpec("api-behaviour-anomalies", "behaviour/anomalies", "anomaly", "day"),
    "behaviour-chart-paths": ChartSpec("api-behaviour-paths", "behaviour/paths", "sankey", "text"),
    "perception-chart-trend": ChartSpec("api-perception-trend", "perception/trend", "line", "month"),
    "perception-chart-sentiment": ChartSpec("api-perception-voice", "perception/voice", "perception-doughnut", "text"),
    "perception-chart-intents": ChartSpec("api-perception-voice", "perception/voice", "hbar", "text"),
    "perception-chart-competitors": ChartSpec(
        "api-perception-voice", "perception/voice", "perception-doughnut", "text"
    ),
    "perception-chart-keywords": ChartSpec("api-perception-voice", "perception/voice", "perception-wordcloud", "text"),
    "sales-chart-revenue": ChartSpec("api-sales-union", "sales/state-of-the-union", "line", "day"),
    "sales-chart-leaderboard": ChartSpec("api-sales-union", "sales/state-of-the-union", "hbar", "text"),
    "sales-chart-activity": ChartSpec("api-sales-activity", "sales/activity", "sales-stacked", "week"),
    "sales-chart-stages": ChartSpec("api-sales-open-pipeline", "sales/open-pipeline", "bar", "text"),
    "sales-chart-generation": ChartSpec(
        "api-sales-pipeline-generation", "sales/pipeline-generation", "sales-mixed", "month"
    ),
    "sales-chart-forecast": ChartSpec("api-sales-forecast", "sales/forecast", "sales-stacked", "month"),
    "adoption-chart-scatter": ChartSpec("api-sales-adoption-outcome", "sales/adoption-outcome", "scatter", "text"),
    "accounts-chart-revenue": ChartSpec("api-accounts-overview", "accounts/overview", "bar", "month"),
    "accounts-chart-acquisition": ChartSpec("api-accounts-overview", "accounts/overview", "line", "month"),
    "accounts-chart-industries": ChartSpec("api-accounts-overview", "accounts/overview", "hbar", "text"),
    "accounts-chart-bands": ChartSpec("api-accounts-overview", "accounts/overview", "bar", "text"),
    "accounts-chart-top-products": ChartSpec("api-accounts-overview", "accounts/overview", "hbar", "text"),
    "accounts-chart-rising-products": ChartSpec("api-accounts-overview", "accounts/overview", "hbar", "text"),
}
# The API endpoint (URL name) → the chart a board draws a tile of it with when none was pinned.
ENDPOINT_CHARTS: dict[str, str] = {}
for _name, _spec in CHART_ENDPOINTS.items():
    ENDPOINT_CHARTS.setdefault(_spec.api, _name)

# Chart URL parameters that are not the figures' query: a download, the people behind a point.
_NOT_PINNED = frozenset({"format", "people", "people_group"})


def pinned_tile(workspace: Workspace, viewer: Any, chart_url: str) -> dict[str, Any] | None:
    """The tile a tab's chart becomes: its API endpoint, its query (the chart URL's parameters) and
    the chart, or None when the URL is not a pinnable chart of this workspace (or of a saved
    configuration ``viewer`` does not see)."""
    path, _, query_string = chart_url.partition("?")
    try:
        match = resolve(path)
    except Resolver404:
        return None
    spec = CHART_ENDPOINTS.get(match.url_name or "")
    if spec is None or match.kwargs.get("slug") != workspace.slug:
        return None
    params = QueryDict(query_string)
    query = {k: (v if len(v) > 1 else v[0]) for k, v in params.lists() if k not in _NOT_PINNED}
    if "start" not in query:
        query = {**dict(spec.defaults), **query}
    arguments = {k: v for k, v in match.kwargs.items() if k != "slug"}
    endpoint = spec.endpoint.format(**arguments)
    if endpoint_name(workspace, endpoint) != spec.api:
        return None
    if spec.saved and endpoint_answer(workspace, viewer, spec.saved.format(**arguments), {})[0] != 200:
        return None
    return {"endpoint": endpoint, "query": query, "chart": match.url_name}


def tile_chart(workspace: Workspace, tile: Tile, query: dict[str, Any]) -> tuple[str, dict[str, Any], str, str] | None:
    """How a board draws ``tile`` as its tab does: (chart URL name, its URL arguments, chart type, label
    format), or None for a tile shown as its endpoint's table. The chart is the one pinned (if it still
    answers the tile's endpoint), else the endpoint's usual one."""
    path = f"/api/v1/workspaces/{workspace.slug}/{tile.endpoint.strip('/')}"
    try:
        match = resolve(path)
    except Resolver404:
        return None
    spec = CHART_ENDPOINTS.get(tile.chart)
    name = tile.chart if spec is not None and spec.api == match.url_name else ENDPOINT_CHARTS.get(match.url_name or "")
    if name is None:
        return None
    spec = CHART_ENDPOINTS[name]
    kwargs = {"slug": workspace.slug}
    if "{pk}" in spec.endpoint:
        kwargs["pk"] = match.kwargs["pk"]
        if not str(kwargs["pk"]).isdigit():
            return None
    kind, labels = spec.drawing(query)
    return name, kwargs, kind, labels


def chart_answer(
    workspace: Workspace, viewer: Any, chart_name: str, params: dict[str, Any], kwargs: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """The tab's chart JSON (``chart_name``, with its URL ``kwargs``) for ``params``, asked as ``viewer``
    (a share page draws a tile as its tab does without the visitor being logged in): (status, JSON
    body or None)."""
    path = reverse(chart_name, kwargs=kwargs or {"slug": workspace.slug})
    request = _page_factory.get(path, params, HTTP_ACCEPT="application/json")
    request.user = viewer
    match = resolve(path)
    response = match.func(request, *match.args, **match.kwargs)
    try:
        return response.status_code, json.loads(response.content)
    except ValueError:
        return response.status_code, None


def dashboard_create(*, workspace: Workspace, owner: Any, values: dict[str, Any]) -> Dashboard:
    dashboard = Dashboard.objects.create(workspace=workspace, owner=owner, **values)
    audit_saved_config(actor=owner, instance=dashboard, before=None)
    return dashboard


def dashboard_update(*, dashboard: Dashboard, actor: Any, values: dict[str, Any]) -> Dashboard:
    before = field_values(dashboard)
    for key, value in values.items():
        setattr(dashboard, key, value)
    dashboard.save()
    audit_saved_config(actor=actor, instance=dashboard, before=before)
    return dashboard
