"""Celery tasks of the Funnels area: thin wrappers that take ids and call ``funnels.services``.

Both are safe to retry and to run twice: a result is recomputed from the events and replaced.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from funnels.models import Funnel
from funnels.services import funnel_results_refresh, funnels_mark_stale, funnels_refresh_stale
from tenancy.models import Workspace

logger = logging.getLogger(__name__)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def refresh_funnel_results_task(funnel_id: int) -> bool:
    """Compute and cache the results of one saved funnel over its default range."""
    funnel = Funnel.objects.select_related("workspace").filter(pk=funnel_id).first()
    if funnel is None:  # deleted since the task was queued
        return False
    funnel_results_refresh(funnel=funnel)
    return True


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def refresh_stale_funnels_task(workspace_id: int, days: list[str] | None = None, everything: bool = False) -> int:
    """After the rollups of a workspace were refreshed: recompute, once each, the cached funnel results
    that events on those local days (ISO dates) can change. Without ``days``, the results for which
    an event was received after they were computed; with ``everything`` (after a full rebuild, e.g. a
    new time zone), all of them. At most ``PRECOMPUTE_LIMIT`` are recomputed (the most recently
    changed funnels); the others stay stale and compute on their next view. Returns how many were
    recomputed."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    return funnels_refresh_stale(
        workspace=workspace, days=_dates(days), everything=everything, limit=settings.PRECOMPUTE_LIMIT
    )


def _dates(days: list[str] | None) -> list[date] | None:
    return [date.fromisoformat(day) for day in days] if days is not None else None


# --- receivers (connected in ``funnels.apps``) ----------------------------------------------------------


def refresh_saved_funnel(sender: Any, *, funnel_id: int, **kwargs: Any) -> None:
    """``funnels.signals.funnel_saved``: compute the new definition's results in the background."""
    try:
        refresh_funnel_results_task.delay(funnel_id)
    except Exception:  # noqa: BLE001 - a broker outage must not fail the save; results compute on demand
        logger.warning("Could not enqueue the results of funnel %s; they compute on demand.", funnel_id)


def refresh_stale_funnels(
    sender: Any, *, workspace_id: int, days: list[str] | None = None, everything: bool = False, **kwargs: Any
) -> None:
    """``events.signals.rollups_refreshed``: the saved funnels whose range holds these days recompute
    once (debounced by the stale flag), by a worker (``PRECOMPUTE_AFTER_REFRESH``). Without one
    the results are only marked stale here (cheap), and compute on their next view."""
    if settings.PRECOMPUTE_AFTER_REFRESH:
        refresh_stale_funnels_task.delay(workspace_id, None if everything else days, everything)
        return
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is not None:
        funnels_mark_stale(workspace=workspace, days=_dates(days), everything=everything)
