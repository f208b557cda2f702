"""Celery tasks of the events area: thin wrappers that take ids and call the rollup services."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError, transaction

from events.models import DirtyDay, Workspace
from events.rollups import rollups_rebuild, rollups_refresh_dirty


# A refresh is idempotent (recompute-and-replace), so retrying after a lost connection or a lock
# timeout is always safe.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=8)
def refresh_rollups_task(workspace_id: int) -> int:
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:  # deleted since the task was queued
        return 0
    days = rollups_refresh_dirty(workspace=workspace)
    if days:
        # Saved funnels whose range holds these days recompute once (debounced by the stale flag).
        from funnels.tasks import refresh_stale_funnels_task

        day_list = [d.isoformat() for d in days]
        transaction.on_commit(lambda: refresh_stale_funnels_task.delay(workspace_id, day_list))
    return len(days)


@shared_task
def sweep_dirty_days_task() -> int:
    """Enqueue a refresh for every workspace that still has dirty days (lost enqueues, outages)."""
    workspace_ids = list(DirtyDay.objects.values_list("workspace_id", flat=True).distinct())
    for workspace_id in workspace_ids:
        refresh_rollups_task.delay(workspace_id)
    return len(workspace_ids)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def rebuild_rollups_task(workspace_id: int) -> int:
    """Recompute every rollup of a workspace (after its time zone or session timeout changed)."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    days = rollups_rebuild(workspace=workspace)
    # New day boundaries or sessions without new events: every cached funnel result is stale.
    from funnels.tasks import refresh_stale_funnels_task

    transaction.on_commit(lambda: refresh_stale_funnels_task.delay(workspace_id, everything=True))
    return days


@shared_task
def apply_retention_task() -> int:
    """Daily: delete raw events past each workspace's retention (rollups are kept)."""
    from events.privacy import raw_events_apply_retention

    return sum(
        raw_events_apply_retention(workspace=w)
        for w in Workspace.objects.filter(raw_event_retention_days__isnull=False)
    )
