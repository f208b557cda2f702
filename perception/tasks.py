"""Celery tasks of the Perception area: thin wrappers around ``perception.services``."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

from perception.selectors.cached import METRIC_KINDS, VOICE_KINDS
from perception.services import default_views_warm
from tenancy.models import Workspace

logger = logging.getLogger(__name__)

# Seconds a queued warm-up stands for the writes after it (an import writes in hundreds of chunks): one
# queued per workspace at a time; the next write after it started queues the next.
PENDING_SECONDS = 600


def _pending_key(workspace_id: int) -> str:
    return f"perception-warm-pending:{workspace_id}"


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def warm_default_views_task(workspace_id: int) -> bool:
    """After the workspace's records changed: compute its Perception tab's default views into the cache.
    Safe to run twice (the second finds them cached)."""
    cache.delete(_pending_key(workspace_id))  # first: a write from now on queues another
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:  # deleted since the task was queued
        return False
    default_views_warm(workspace=workspace)
    return True


def warm_after_records_change(sender: Any, *, workspace_id: int, kinds: frozenset[str], **kwargs: Any) -> None:
    """Receiver of ``records.versions.records_version_renewed`` (connected in ``perception.apps``): after
    a write to the kinds of records the tab reads, a worker computes the default views ahead
    (``PRECOMPUTE_AFTER_REFRESH``). Without one (in-process tasks) the write's request must not pay for
    it: the views compute on their first view."""
    if not settings.PRECOMPUTE_AFTER_REFRESH or not kinds & {*METRIC_KINDS, *VOICE_KINDS}:
        return
    if not cache.add(_pending_key(workspace_id), 1, PENDING_SECONDS):
        return
    try:
        warm_default_views_task.delay(workspace_id)
    except Exception:  # noqa: BLE001 - a broker outage must not fail the write; views compute on demand
        cache.delete(_pending_key(workspace_id))
        logger.warning("Could not enqueue the Perception warm-up of workspace %s.", workspace_id)
