"""Saved account segments as the other tabs see them (docs/perception.md#segments).

A segment is the Accounts tab's (``accounts.models.Segment``: a saved set of the account list's filters,
private or shared); the Perception tab filters and breaks its figures down by one. The tabs are
independent of each other (the import-linter's layers), so the Accounts app registers how a segment is
found and which accounts it holds here, in its ``AppConfig.ready``, and the other tabs ask this module.
Who may use a segment follows the saved configurations' rule: its owner, or every member when shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers

from records.models import Account
from tenancy.models import Workspace

# A breakdown by segment computes each group on its own: at most this many segments (by name).
MAX_SEGMENT_GROUPS = 20


@dataclass(frozen=True)
class SegmentRef:
    """A segment a person may use: its id, its name and its accounts now (a query of their ids); when
    its saved filters no longer hold (an owner it names was removed since), none, and ``problem`` says why."""

    pk: int
    name: str
    account_ids: QuerySet[Account, Any]
    problem: str = ""


# (workspace, viewer, pk or None for all, limit) -> the segments the viewer may use, by name
Finder = Callable[[Workspace, Any, int | None, int], list[SegmentRef]]
_finder: Finder | None = None


def register(finder: Finder) -> None:
    global _finder
    _finder = finder


def _find(workspace: Workspace, viewer: Any, pk: int | None, limit: int) -> list[SegmentRef]:
    if _finder is None:  # the Accounts app is not installed: no segments
        return []
    return _finder(workspace, viewer, pk, limit)


def segment_for(workspace: Workspace, viewer: Any, pk: int) -> SegmentRef | None:
    """Segment ``pk`` of the workspace if ``viewer`` may use it (without a viewer: a shared one)."""
    found = _find(workspace, viewer, pk, 1)
    return found[0] if found else None


def segments_for(workspace: Workspace, viewer: Any, limit: int = MAX_SEGMENT_GROUPS) -> list[SegmentRef]:
    """The segments ``viewer`` may use, by name, at most ``limit``."""
    return _find(workspace, viewer, None, limit)


def segment_param(workspace: Workspace, viewer: Any, pk: int | None) -> SegmentRef | None:
    """The ``segment`` parameter of a read resolved (None: not asked); a 400 naming it when the segment
    does not exist, is another person's private one, or its filters no longer hold."""
    if pk is None:
        return None
    found = segment_for(workspace, viewer, pk)
    if found is None:
        message = _("No segment with id %(id)s that you can see in this workspace.") % {"id": pk}
        raise serializers.ValidationError({"segment": [message]})
    if found.problem:
        raise serializers.ValidationError({"segment": [found.problem]})
    return found
