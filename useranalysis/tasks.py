"""Celery tasks of the User analysis area: thin wrappers that take ids and call
``useranalysis.services``."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from tenancy.models import Workspace
from useranalysis.services import filter_sets_warm


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def warm_filter_sets_task(workspace_id: int) -> int:
    """After the rollups of a workspace changed: compute and cache the saved filter sets' results
    over their default period ending today (at most ``PRECOMPUTE_LIMIT``, the most recently changed),
    so their first view after a refresh is a cache read. Safe to run twice (the second finds them
    cached)."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:  # deleted since the task was queued
        return 0
    return filter_sets_warm(workspace=workspace, limit=settings.PRECOMPUTE_LIMIT)


def warm_filter_sets(sender: Any, *, workspace_id: int, **kwargs: Any) -> None:
    """Receiver of ``events.signals.rollups_refreshed`` (connected in ``useranalysis.apps``): saved
    filter sets are computed ahead for the new rollups, by a worker (``PRECOMPUTE_AFTER_REFRESH``).
    Their cache is keyed by the rollups' version, so without it they compute on their first view."""
    if settings.PRECOMPUTE_AFTER_REFRESH:
        warm_filter_sets_task.delay(workspace_id)
