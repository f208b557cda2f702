"""Celery tasks of the records area: thin wrappers around ``records.aggregates``."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import OperationalError, transaction

from records.aggregates import figures_rebuild, figures_refresh_dirty, local_dates_recompute
from records.labelling import feedback_label_pending, workspaces_with_unlabelled_feedback
from records.models import RecordsDirty
from tenancy.models import Workspace

# Recompute-and-replace: a retry after a lost connection or a lock timeout is always safe.
RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(**RETRY)
def refresh_record_figures_task(workspace_id: int) -> int:
    """Recompute the aggregates a batch marked dirty."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    return 0 if workspace is None else figures_refresh_dirty(workspace=workspace)


@shared_task
def sweep_records_dirty_task() -> int:
    """Enqueue a refresh for every workspace that still has marks (lost enqueues, outages)."""
    workspace_ids = list(RecordsDirty.objects.values_list("workspace_id", flat=True).distinct())
    for workspace_id in workspace_ids:
        refresh_record_figures_task.delay(workspace_id)
    return len(workspace_ids)


@shared_task(**RETRY)
def label_feedback_task(workspace_id: int) -> int:
    """Label the workspace's feedback that waits for its labels (new, changed, or a new vocabulary)."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    labelled = feedback_label_pending(workspace=workspace)
    figures_refresh_dirty(workspace=workspace)  # the accounts' latest sentiment and trend
    return labelled


@shared_task
def sweep_unlabelled_feedback_task() -> int:
    """Enqueue labelling for every workspace with feedback still waiting (lost enqueues, outages)."""
    workspace_ids = workspaces_with_unlabelled_feedback()
    for workspace_id in workspace_ids:
        label_feedback_task.delay(workspace_id)
    return len(workspace_ids)


@shared_task(**RETRY)
def rebuild_record_figures_task(workspace_id: int) -> None:
    """After the workspace's time zone changed: the records' local dates again, then every aggregate."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is not None:
        local_dates_recompute(workspace=workspace)
        figures_rebuild(workspace=workspace)


def rebuild_on_day_boundaries(sender: Any, *, workspace_id: int, **kwargs: Any) -> None:
    """Receiver of ``tenancy.signals.day_boundaries_changed``."""
    transaction.on_commit(lambda: rebuild_record_figures_task.delay(workspace_id))
