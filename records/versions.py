"""Answers over the CRM's records kept in the cache until the records change (docs/records.md#cached-answers).

Every transaction that writes records (a batch or an import chunk, an admin's edit, the local dates
recomputed after a time-zone change) gives the workspace a new ``records_version`` (``records_changed``),
as the rollups' refresh renews ``rollups_version``. An answer is cached under the version it was read
with (``cached_answer``): the next identical read between two writes costs one cache read, and an answer
cached before a write is never served after it, since the write renewed the version. The version is
renewed inside the writing transaction, as its last statement: a reader sees the new version only with
the new records. A workspace whose records were never written has no version: nothing is cached.

What an answer depends on beyond the records (the period, the filters) is the key's business: callers
name every part. Answers that depend on the aggregates too (a segment's accounts) are not cached here.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal

from tenancy.models import Workspace

CACHE_SECONDS = 24 * 3600

# Sent after a transaction that renewed a workspace's records version commits, with ``workspace_id``.
# Areas caching answers over the records (the Perception tab) listen and compute their default views
# ahead; the records area does not need to know them.
records_version_renewed = Signal()


def records_changed(workspace_id: int) -> None:
    """A new records version for the workspace (call inside the transaction that wrote, at its end);
    ``records_version_renewed`` is sent once it commits."""
    Workspace.objects.filter(pk=workspace_id).update(records_version=uuid.uuid4())
    transaction.on_commit(lambda: records_version_renewed.send(sender=None, workspace_id=workspace_id))


def records_version(workspace: Workspace) -> uuid.UUID | None:
    return Workspace.objects.filter(pk=workspace.pk).values_list("records_version", flat=True).first()


def cached_answer[T](workspace: Workspace, name: str, parts: Iterable[Any], compute: Callable[[], T]) -> T:
    """``compute()``, or its answer cached for ``name`` and ``parts`` (everything the answer depends on
    besides the workspace's records) since the records last changed."""
    version = records_version(workspace)
    if version is None:
        return compute()
    digest = hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:32]
    key = f"records-answer:{workspace.pk}:{version}:{name}:{digest}"
    answer = cache.get(key)
    if answer is None:
        answer = compute()
        cache.set(key, answer, CACHE_SECONDS)
    return answer
