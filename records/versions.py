"""Answers over the CRM's records kept in the cache until the records they read change
(docs/records.md#cached-answers).

Every transaction that writes records (a batch or an import chunk, an admin's edit, a labelling, the
local dates recomputed after a time-zone change) gives each kind it wrote a new version
(``records_changed``; ``RecordsVersion``, one row per workspace and kind), as the rollups' refresh
renews ``rollups_version``. An answer is cached under the versions of the kinds it reads
(``cached_answer``): the next identical read between two writes to those kinds costs one cache read,
and an answer cached before such a write is never served after it. A write to another kind leaves it
cached: deals and activities arrive all day from a live CRM, and the Perception tab reads neither. The
versions are renewed inside the writing transaction, as its last statement: a reader sees a new version
only with the new records. Until one of the kinds read has been written, nothing is cached.

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

from records.models import RecordsVersion
from tenancy.models import Workspace

CACHE_SECONDS = 24 * 3600

# The kinds of records, as the batch API and import_records name them (records.services.MODELS).
RECORD_KINDS = (
    "accounts", "products", "deals", "activities", "targets", "surveys", "contracts", "retention-spend", "feedback",
)  # fmt: skip

# Sent after a transaction that renewed versions commits, with ``workspace_id`` and ``kinds`` (a
# frozenset). Areas caching answers over the records (the Perception tab) listen and compute their
# default views ahead; the records area does not need to know them.
records_version_renewed = Signal()


def records_changed(workspace_id: int, kinds: Iterable[str] | None = None) -> None:
    """New versions of these kinds of the workspace's records (None: every kind). Call inside the
    transaction that wrote, at its end; ``records_version_renewed`` is sent once it commits."""
    renewed = frozenset(RECORD_KINDS if kinds is None else kinds)
    unknown = renewed - set(RECORD_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds of records: {sorted(unknown)}")
    # One upsert, the rows in one order (kind), so that two writers never wait on each other crosswise.
    RecordsVersion.objects.bulk_create(
        [RecordsVersion(workspace_id=workspace_id, kind=kind, version=uuid.uuid4()) for kind in sorted(renewed)],
        update_conflicts=True,
        unique_fields=["workspace", "kind"],
        update_fields=["version"],
    )
    transaction.on_commit(lambda: records_version_renewed.send(sender=None, workspace_id=workspace_id, kinds=renewed))


def records_versions(workspace: Workspace, kinds: Iterable[str]) -> tuple[uuid.UUID | None, ...] | None:
    """The versions of these kinds (in sorted order; None for a kind never written), or None when none
    of them was ever written."""
    wanted = sorted(set(kinds))
    found = dict(RecordsVersion.objects.filter(workspace=workspace, kind__in=wanted).values_list("kind", "version"))
    if not found:
        return None
    return tuple(found.get(kind) for kind in wanted)


def cached_answer[T](
    workspace: Workspace, kinds: Iterable[str], name: str, parts: Iterable[Any], compute: Callable[[], T]
) -> T:
    """``compute()``, or its answer cached for ``name`` and ``parts`` (everything the answer depends on
    besides the records) since the records of ``kinds`` (those it reads) last changed."""
    versions = records_versions(workspace, kinds)
    if versions is None:
        return compute()
    digest = hashlib.sha256(repr((versions, *parts)).encode()).hexdigest()[:32]
    key = f"records-answer:{workspace.pk}:{name}:{digest}"
    answer = cache.get(key)
    if answer is None:
        answer = compute()
        cache.set(key, answer, CACHE_SECONDS)
    return answer
