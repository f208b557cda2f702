"""Saved filter sets' results, cached per rollups version.

A saved filter set's result for a period is kept in the cache under the workspace's rollups version
(``Workspace.rollups_version``, renewed by every transaction that changes the rollups), so the
second and later views of it between two refreshes cost one cache read, and a refresh can never
leave an old figure on screen. Ad-hoc definitions (the builder, ``filter-sets/query``) are computed
each time. After each refresh a task computes every saved filter set over its default period
ahead (``filter_sets_warm``); with several processes that needs a shared cache (``REDIS_CACHE_URL``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache

from events.periods import Period
from tenancy.models import Workspace
from useranalysis import selectors
from useranalysis.api import serializers as s
from useranalysis.models import FilterSet

CACHE_SECONDS = 24 * 3600


def run_filter_set(
    workspace: Workspace, definition: dict[str, Any], period: Period, *, complete: bool = True
) -> selectors.FilterSetResult:
    """A validated definition's result for the period, computed now (``complete``: see
    ``selectors.filter_set_result``)."""
    return selectors.filter_set_result(
        workspace=workspace,
        period=period,
        conditions=s.conditions_from(definition.get("conditions") or {}, workspace),
        group_by=definition.get("group_by") or None,
        complete=complete,
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


def saved_definition(filter_set: FilterSet, *, raise_exception: bool = False) -> dict[str, Any] | None:
    """The saved filter set's definition, validated as the API and the page validate it; None when
    it no longer validates (e.g. a feature it names was erased: the page shows why), or with
    ``raise_exception`` a ValidationError naming the fields at fault (the API's 400)."""
    serializer = s.FilterSetQuerySerializer(
        data={"conditions": filter_set.conditions or {}, "group_by": filter_set.group_by},
        context={"workspace": filter_set.workspace},
    )
    if not serializer.is_valid(raise_exception=raise_exception):
        return None
    data = dict(serializer.validated_data)
    return {"conditions": data.get("conditions", {}), "group_by": filter_set.group_by}


def filter_sets_warm(*, workspace: Workspace) -> int:
    """Compute and cache every saved filter set of the workspace over its default period ending
    today (the period its page and ``results`` show by default); return how many."""
    warmed = 0
    for filter_set in FilterSet.objects.filter(workspace=workspace).select_related("workspace"):
        definition = saved_definition(filter_set)
        if definition is None:
            continue
        period = Period.ending(workspace.today(), filter_set.default_days, workspace.tzinfo)
        filter_set_saved_result(workspace=workspace, definition=definition, period=period)
        warmed += 1
    return warmed
