"""Saved filter sets' results, cached per rollups version.

A saved filter set's result for a period is kept in the cache under the workspace's rollups version
(``Workspace.rollups_version``, renewed by every transaction that changes the rollups), so the
second and later views of it between two refreshes cost one cache read, and a refresh can never
leave an old figure on screen. Ad-hoc definitions (the builder, ``filter-sets/query``) are computed
each time.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache

from events.models import Workspace
from events.periods import Period
from useranalysis import selectors
from useranalysis.api import serializers as s

CACHE_SECONDS = 24 * 3600


def run_filter_set(workspace: Workspace, definition: dict[str, Any], period: Period) -> selectors.FilterSetResult:
    """A validated definition's result for the period, computed now."""
    return selectors.filter_set_result(
        workspace=workspace,
        period=period,
        conditions=s.conditions_from(definition.get("conditions") or {}, workspace),
        group_by=definition.get("group_by") or None,
    )


def definition_canonical(definition: dict[str, Any]) -> str:
    """One string per definition, whatever the key order (feature objects by their key)."""
    return json.dumps(
        {"conditions": definition.get("conditions") or {}, "group_by": definition.get("group_by") or ""},
        sort_keys=True,
        default=str,
    )


def filter_set_saved_result(
    *, workspace: Workspace, definition: dict[str, Any], period: Period
) -> tuple[selectors.FilterSetResult, bool]:
    """A saved filter set's result for the period (``definition`` validated): from the cache when
    computed since the last rollup change, else computed now and cached. The flag says which."""
    version = Workspace.objects.filter(pk=workspace.pk).values_list("rollups_version", flat=True).first()
    if version is None:  # no rollups were ever built: nothing worth keeping
        return run_filter_set(workspace, definition, period), False
    digest = hashlib.sha256(definition_canonical(definition).encode()).hexdigest()[:32]
    key = f"filter-set-result:{workspace.pk}:{version}:{digest}:{period.start}:{period.end}:{period.tz.key}"
    result = cache.get(key)
    if result is not None:
        return result, True
    result = run_filter_set(workspace, definition, period)
    cache.set(key, result, CACHE_SECONDS)
    return result, False
