"""Celery tasks of the events area: thin wrappers that take ids and call the rollup services.

A full rebuild is spread over the workers as a chord: one task per chunk of days
(``events/refresh_plan.py`` plans them; each chunk locks only its own days), then one callback that
deletes the dirty marks read at the start (by token) and announces the change (``events.signals``). A chord needs
a result backend (``CELERY_RESULT_BACKEND``, by default the broker's Redis); without one the chunks
run one after the other in the task itself. In eager mode (no broker) the chord runs in-process.

A dirty refresh stays one task: it is small (the days a batch touched), it clears its marks as it
ends, and the sweep may enqueue it again at any time — a fanned-out refresh still running would be
fanned out again by every sweep until its callback cleared the marks.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from celery import Task, chord, shared_task
from celery.backends.base import DisabledBackend
from django.db import OperationalError, transaction

from events.models import DirtyDay
from events.refresh_plan import marks_from_json, marks_to_json, rebuild_prepare
from events.rollups import (
    marks_clear,
    rollup_tables_vacuum,
    rollups_rebuild,
    rollups_rebuild_days,
    rollups_refresh_dirty,
)
from events.signals import rollups_refreshed
from tenancy.models import Workspace

logger = logging.getLogger(__name__)

# A refresh is idempotent (recompute-and-replace), so retrying after a lost connection or a lock
# timeout is always safe.
RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


def _can_fan_out(task: Task) -> bool:
    """A chord works eagerly, or through a broker with a result backend (it counts the pieces)."""
    return bool(task.app.conf.task_always_eager) or not isinstance(task.app.backend, DisabledBackend)


def _announce_rollups_refreshed(workspace_id: int, days: list[str] | None = None, everything: bool = False) -> None:
    """Tell whoever derives from the rollups (saved funnels, saved filter sets) that they changed,
    once the transaction commits: ``events.signals.rollups_refreshed``."""
    transaction.on_commit(
        lambda: rollups_refreshed.send(sender=Workspace, workspace_id=workspace_id, days=days, everything=everything)
    )


def rebuild_rollups_on_commit(sender: Any, *, workspace_id: int, **kwargs: Any) -> None:
    """Receiver of ``tenancy.signals.day_boundaries_changed``: rebuild every rollup of the workspace."""
    transaction.on_commit(lambda: rebuild_rollups_task.delay(workspace_id))


@shared_task(**RETRY)
def refresh_rollups_task(workspace_id: int) -> int:
    """Recompute the dirty days of a workspace (and their neighbours' sessions)."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:  # deleted since the task was queued
        return 0
    days = rollups_refresh_dirty(workspace=workspace)
    if days:
        _announce_rollups_refreshed(workspace_id, [d.isoformat() for d in days])
    return len(days)


@shared_task
def sweep_dirty_days_task() -> int:
    """Enqueue a refresh for every workspace that still has dirty days (lost enqueues, outages)."""
    workspace_ids = list(DirtyDay.objects.values_list("workspace_id", flat=True).distinct())
    for workspace_id in workspace_ids:
        refresh_rollups_task.delay(workspace_id)
    return len(workspace_ids)


# The result is stored when a result backend is configured: it names the callback's task, whose
# result says when the whole rebuild is done (``bench/celery_rebuild.py`` waits on it).
@shared_task(bind=True, ignore_result=False, **RETRY)
def rebuild_rollups_task(self: Task, workspace_id: int) -> dict[str, Any]:
    """Recompute every rollup of a workspace (after its time zone or session timeout changed, or on
    demand): drop the days outside the events' span, then one task per chunk of days, spread over
    the workers, and a callback that clears the dirty marks and refreshes the funnels."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return {"days": 0, "chunks": 0, "finish_task_id": None}
    plan = rebuild_prepare(workspace=workspace)
    if plan is None:  # no events: clear every rollup and mark
        rollups_rebuild(workspace=workspace)
        _announce_rollups_refreshed(workspace_id, everything=True)
        return {"days": 0, "chunks": 0, "finish_task_id": None}
    marks = marks_to_json(plan.marks)
    if _can_fan_out(self):
        header = [
            rebuild_rollup_chunk_task.si(workspace_id, first.isoformat(), last.isoformat())
            for first, last in plan.chunks
        ]
        result = chord(header)(finish_rebuild_task.si(workspace_id, marks, plan.day_count))
        return {"days": plan.day_count, "chunks": len(plan.chunks), "finish_task_id": result.id}
    logger.info("rebuild of workspace %s: no result backend, so its %s chunks run here", workspace_id, len(plan.chunks))
    for first, last in plan.chunks:
        rollups_rebuild_days(workspace=workspace, first=first, last=last)
    finish_rebuild_task(workspace_id, marks, plan.day_count)
    return {"days": plan.day_count, "chunks": len(plan.chunks), "finish_task_id": None}


# A chord counts its pieces through their stored results: this one must keep its result.
@shared_task(ignore_result=False, **RETRY)
def rebuild_rollup_chunk_task(workspace_id: int, first: str, last: str) -> int:
    """One chunk of a full rebuild: every rollup of the local days first..last (ISO dates)."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    rollups_rebuild_days(workspace=workspace, first=start, last=end)
    return (end - start).days + 1


@shared_task(ignore_result=False, **RETRY)
def finish_rebuild_task(workspace_id: int, marks: list[list[str]], days: int) -> int:
    """After every chunk of a full rebuild: delete the marks read at the start (by token); new day
    boundaries or sessions without new events make every cached funnel result stale."""
    marks_clear(workspace_id=workspace_id, marks=marks_from_json(marks))
    rollup_tables_vacuum()
    _announce_rollups_refreshed(workspace_id, everything=True)
    return days


@shared_task
def apply_retention_task() -> int:
    """Every few hours: drop the event partitions no workspace keeps, then delete the raw events
    past each workspace's retention (rollups are kept). Returns the events removed."""
    from events.partitions import event_partitions_drop_expired
    from events.privacy import raw_events_apply_retention

    dropped = sum(event_partitions_drop_expired().values())
    return dropped + sum(
        raw_events_apply_retention(workspace=w, drop_partitions=False)
        for w in Workspace.objects.filter(raw_event_retention_days__isnull=False)
    )


@shared_task
def maintain_event_partitions_task() -> int:
    """Every few hours: this and next month's event partitions, and partitions for any rows that
    went to the DEFAULT one. Returns how many partitions were created."""
    from events.partitions import event_partitions_maintain

    return len(event_partitions_maintain())
