"""Reads shared by several tabs, from the rollups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Max

from events.models import DirtyDay, Event, UserDay, Workspace


@dataclass(frozen=True)
class DataState:
    has_events: bool
    rollups_pending: bool


def workspace_data_state(*, workspace: Workspace) -> DataState:
    """Whether there is anything to show, and whether rollups are still catching up.

    Existence checks on indexed columns, not figures: they cost the same at any data volume.
    """
    return DataState(
        has_events=Event.objects.filter(workspace=workspace).exists(),
        rollups_pending=DirtyDay.objects.filter(workspace=workspace).exists(),
    )


def last_seen_by_user(
    *, workspace: Workspace, as_of: date, user_ids: Iterable[int] | None = None
) -> dict[int, datetime]:
    """Each user's latest event time at or before the end of ``as_of`` (local day), from UserDay."""
    qs = UserDay.objects.filter(workspace=workspace, day__lte=as_of)
    if user_ids is not None:
        qs = qs.filter(crm_user_id__in=list(user_ids))
    return dict(qs.values("crm_user_id").annotate(last=Max("last_event_at")).values_list("crm_user_id", "last"))
