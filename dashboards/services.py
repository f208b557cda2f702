"""Writes of the dashboards area (a board's tiles, its share links) and reading one tile: a tile's
answer is the answer of its GET endpoint, asked internally as the viewer through the real URL routes,
so a tile can never differ from the tab it was pinned from."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from dashboards.models import Dashboard, ShareLink, Tile
from tenancy.models import AuditEntry, Workspace
from tenancy.services import audit_record

_factory = APIRequestFactory()


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
