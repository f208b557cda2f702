"""Reads of the dashboards area: a board's answer (``dashboard_data``) and the annotations drawn on a
time axis (``annotations_json``, which the tabs' time-axis endpoints call in one line)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from core.queries import PRESET_PARAMS, PeriodQuery, QueryInvalid
from dashboards.models import Annotation, Dashboard, Tile
from dashboards.services import endpoint_answer
from tenancy.models import Workspace

# A time axis shows at most this many notes: the list stays bounded however many were written.
MAX_ANNOTATIONS = 500
# Parameters a tile never passes on: a board reads JSON, never a CSV download.
DROPPED_PARAMS = ("format",)


def annotation_json(annotation: Annotation) -> dict[str, Any]:
    return {
        "id": annotation.pk,
        "date": annotation.date.isoformat(),
        "end_date": annotation.end_date.isoformat() if annotation.end_date else None,
        "text": annotation.text,
        "dashboard": annotation.dashboard_id,
        "author": annotation.author.get_username() if annotation.author else None,
    }


def overlapping(queryset: QuerySet[Annotation], start: date, end: date) -> QuerySet[Annotation]:
    """The annotations whose day or range [date, end_date] meets [start, end]."""
    ends_after = Q(end_date__isnull=True, date__gte=start) | Q(end_date__gte=start)
    return queryset.filter(ends_after, date__lte=end)


def annotations_json(
    workspace: Workspace, start: date, end: date, dashboard: Dashboard | None = None
) -> list[dict[str, Any]]:
    """The workspace-wide annotations overlapping [start, end] (and, given a board, its own too), by date."""
    scope = Q(dashboard__isnull=True) | (Q(dashboard=dashboard) if dashboard is not None else Q(pk__in=[]))
    rows = overlapping(Annotation.objects.filter(scope, workspace=workspace), start, end)
    return [annotation_json(a) for a in rows.select_related("author").order_by("date", "id")[:MAX_ANNOTATIONS]]


def tile_query(dashboard: Dashboard, tile: Tile) -> dict[str, Any]:
    """The tile's query with the board's period (``as_of`` = end, ``days`` = its length, replacing the
    tile's own period parameters) and the board's user filters (each attribute replacing the tile's)."""
    query = {k: v for k, v in (tile.query or {}).items() if k not in DROPPED_PARAMS}
    if dashboard.period_start and dashboard.period_end:
        for key in PRESET_PARAMS:
            query.pop(key, None)
        query["as_of"] = dashboard.period_end.isoformat()
        query["days"] = str((dashboard.period_end - dashboard.period_start).days + 1)
    for attr, values in (dashboard.filters or {}).items():
        if values:
            query[attr] = list(values)
    return query


def _tiles_range(dashboard: Dashboard, queries: list[dict[str, Any]]) -> tuple[date, date] | None:
    """The days the board shows: its period, or else the span of its tiles' periods."""
    if dashboard.period_start and dashboard.period_end:
        return dashboard.period_start, dashboard.period_end
    periods = []
    for query in queries:
        try:
            periods.append(PeriodQuery.parse(query, workspace=dashboard.workspace).period)
        except QueryInvalid:  # the tile answers its own 400; it adds no days
            continue
    if not periods:
        return None
    return min(p.start for p in periods), max(p.end for p in periods)


def dashboard_data(dashboard: Dashboard, viewer: Any) -> dict[str, Any]:
    """The board's answer (``…/dashboards/<id>/data``): each tile's query and its endpoint's answer asked
    as ``viewer`` (an error keeps its status and body: the board still loads), and the annotations
    overlapping the board's days, its own and the workspace's."""
    tiles = []
    for tile in dashboard.tiles.all():
        query = tile_query(dashboard, tile)
        status, data = endpoint_answer(dashboard.workspace, viewer, tile.endpoint, query)
        tiles.append({"id": tile.pk, "query": query, "status": status, "data": data})
    days = _tiles_range(dashboard, [t["query"] for t in tiles])
    annotations = annotations_json(dashboard.workspace, *days, dashboard=dashboard) if days else []
    return {"tiles": tiles, "annotations": annotations}
