"""Saved filter sets: saving and deleting them (audited), and their results, cached per rollups version.

A saved filter set's result for a period is kept in the cache under the workspace's rollups version
(``Workspace.rollups_version``, renewed by every transaction that changes the rollups), so the
second and later views of it between two refreshes cost one cache read, and a refresh can never
leave an old figure on screen. Ad-hoc definitions (the builder, ``filter-sets/query``) are computed
each time. After each refresh a task computes every saved filter set over its default period
ahead (``filter_sets_warm``); with several processes that needs a shared cache (``REDIS_CACHE_URL``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache

from core.queries import QueryInvalid
from tenancy.models import Workspace
from tenancy.scoping import in_workspace
from tenancy.services import audit_saved_config, field_values
from useranalysis import selectors
from useranalysis.models import FilterSet
from useranalysis.queries import Definition, FilterSetQuery

CACHE_SECONDS = 24 * 3600


def filter_set_saved_result(query: FilterSetQuery) -> tuple[selectors.FilterSetResult, bool]:
    """A saved filter set's result for the query's period: from the cache when computed since the
    last rollup change, else computed now and cached. The flag says which."""
    workspace, period = query.workspace, query.period
    version = Workspace.objects.filter(pk=workspace.pk).values_list("rollups_version", flat=True).first()
    if version is None:  # no rollups were ever built: nothing worth keeping
        return selectors.filter_set_result(query), False
    digest = hashlib.sha256(query.definition.canonical().encode()).hexdigest()[:32]
    key = f"filter-set-result:{workspace.pk}:{version}:{digest}:{period.start}:{period.end}:{period.tz.key}"
    result = cache.get(key)
    if result is not None:
        return result, True
    result = selectors.filter_set_result(query)
    cache.set(key, result, CACHE_SECONDS)
    return result, False


def saved_data(filter_set: FilterSet) -> dict[str, Any]:
    """The saved definition as the parameters of its query."""
    return {"conditions": filter_set.conditions or {}, "group_by": filter_set.group_by}


def is_saved(filter_set: FilterSet | None, definition: Definition) -> bool:
    """Whether ``definition`` is the filter set's, as saved (not changed in the builder)."""
    if filter_set is None:
        return False
    return definition.canonical() == Definition(filter_set.stored_conditions, filter_set.group_by).canonical()


def filter_sets_warm(*, workspace: Workspace, limit: int) -> int:
    """Compute and cache the saved filter sets of the workspace over their default period ending
    today (the period a page and ``results`` show by default), at most ``limit`` of them, the most
    recently changed first; return how many."""
    warmed = 0
    for filter_set in in_workspace(FilterSet, workspace).order_by("-updated_at", "-pk")[:limit]:
        try:
            query = FilterSetQuery.parse(
                saved_data(filter_set), workspace=workspace, default_days=filter_set.default_days
            )
        except QueryInvalid:  # no longer valid (e.g. an erased feature): its page says why
            continue
        filter_set_saved_result(query)
        warmed += 1
    return warmed


def filter_set_save(
    *, workspace: Workspace, actor: Any, filter_set: FilterSet | None, values: dict[str, Any]
) -> FilterSet:
    """Create (``filter_set`` None, owned by ``actor``) or update a filter set with validated
    ``values``; the audit trail records it."""
    before = field_values(filter_set) if filter_set is not None else None
    saved = filter_set if filter_set is not None else FilterSet(workspace=workspace, owner=actor)
    for name, value in values.items():
        setattr(saved, name, value)
    saved.save()
    audit_saved_config(actor=actor, instance=saved, before=before)
    return saved


def filter_set_delete(*, actor: Any, filter_set: FilterSet) -> None:
    audit_saved_config(actor=actor, instance=filter_set, before=None, deleted=True)
    filter_set.delete()
