"""Reads shared by several tabs, from the rollups."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db.models import Max

from events.models import UserDay, Workspace


def last_seen_by_user(
    *, workspace: Workspace, as_of: date, user_ids: Iterable[int] | None = None
) -> dict[int, datetime]:
    """Each user's latest event time at or before the end of ``as_of`` (local day), from UserDay."""
    qs = UserDay.objects.filter(workspace=workspace, day__lte=as_of)
    if user_ids is not None:
        qs = qs.filter(crm_user_id__in=list(user_ids))
    return dict(qs.values("crm_user_id").annotate(last=Max("last_event_at")).values_list("crm_user_id", "last"))
