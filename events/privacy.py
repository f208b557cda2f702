"""Privacy: raw-event retention per workspace, and erasing one CRM user on request.

Retention deletes raw events before the workspace's retention start and keeps the rollups, so the
tabs keep their history. On PostgreSQL a month no workspace keeps is dropped whole, as a partition
(``events.partitions``); what remains is deleted row by row. Days before the retention start are
never recomputed again (their raw events are gone), and ingestion refuses events for them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max, Min

from events.models import (
    CrmUser,
    DirtyDay,
    Event,
    EventKey,
    Session,
    UserDay,
    UserFeatureDay,
    UserFeatureDayTotal,
    UserFeatureMonth,
    UserMonth,
)
from events.partitions import event_partitions_drop_expired
from events.periods import local_midnight_utc
from events.rollups import feature_days_recompute, feature_months_recompute, rollups_changed, workspace_days_recompute
from events.rollups_outcomes import outcome_days_recompute
from tenancy.models import AuditEntry, Workspace
from tenancy.services import audit_record

DELETE_CHUNK = 20_000


def _delete_in_chunks(qs: Any) -> int:
    """Delete a large selection of events in bounded transactions (no lock held for minutes). The
    chunk's time span goes with its ids, so that PostgreSQL looks for them only in its months'
    partitions."""
    deleted = 0
    while True:
        chunk = list(qs.values_list("id", "occurred_at")[:DELETE_CHUNK])
        if not chunk:
            return deleted
        ids, moments = zip(*chunk, strict=True)
        with transaction.atomic():
            deleted += qs.model.objects.filter(
                id__in=ids, occurred_at__gte=min(moments), occurred_at__lte=max(moments)
            ).delete()[0]


def retention_check(workspace: Workspace) -> Any:
    """A function giving the errors of an event older than the raw events the workspace keeps (or
    none). Such an event would re-open a day whose other events are gone and corrupt its rollups."""
    start = workspace.retention_start()
    if start is None:
        return lambda row: {}
    cutoff = local_midnight_utc(start, workspace.tzinfo)
    message = f"Older than the {workspace.raw_event_retention_days} days of raw events this workspace keeps."
    return lambda row: {"timestamp": [message]} if row.occurred_at < cutoff else {}


def raw_events_apply_retention(*, workspace: Workspace, drop_partitions: bool = True) -> int:
    """Delete the workspace's raw events older than its retention, and their uuid keys (ingestion
    refuses such events anyway); return how many events went.

    Whole months first: every partition no workspace keeps any event of is dropped (its events of
    other workspaces are past their own retention too); then the rest row by row. A caller that
    has just dropped them (``apply_retention_task``, for every workspace) passes
    ``drop_partitions=False``."""
    start = workspace.retention_start()
    if start is None:
        return 0
    cutoff = local_midnight_utc(start, workspace.tzinfo)
    DirtyDay.objects.filter(workspace=workspace, day__lt=start).delete()
    dropped = event_partitions_drop_expired().get(workspace.id, 0) if drop_partitions else 0
    deleted = _delete_in_chunks(Event.objects.filter(workspace=workspace, occurred_at__lt=cutoff))
    EventKey.objects.filter(workspace=workspace, occurred_at__lt=cutoff).delete()
    return dropped + deleted


def crm_user_erase(*, workspace: Workspace, crm_user: CrmUser, actor: Any = None) -> dict[str, int]:
    """Erase a CRM user: their events, their rollup rows and the user record itself.

    Every rollup row but the per-feature totals is per user, so removing theirs is exactly the
    recomputation without them (the per-feature totals of their days are recounted);
    workspace totals drop by their contribution and nothing else changes. The audit entry keeps
    counts only, not who it was.
    """
    counts = {
        "events": _delete_in_chunks(Event.objects.filter(workspace=workspace, crm_user=crm_user)),
    }
    with transaction.atomic():
        span = UserFeatureDayTotal.objects.filter(workspace=workspace, crm_user=crm_user).aggregate(
            first=Min("day"), last=Max("day")
        )
        days = set(
            UserFeatureDayTotal.objects.filter(workspace=workspace, crm_user=crm_user).values_list("day", flat=True)
        )
        for name, model in (
            ("user_days", UserDay),
            ("feature_days", UserFeatureDay),
            ("feature_day_totals", UserFeatureDayTotal),
            ("feature_months", UserFeatureMonth),
            ("user_months", UserMonth),
            ("sessions", Session),
        ):
            counts[name] = model.objects.filter(workspace=workspace, crm_user=crm_user).delete()[0]
        if span["first"] is not None:
            # Per-feature totals mix every user: recount the days this user had.
            feature_days_recompute(workspace_id=workspace.id, first=span["first"], last=span["last"])
            feature_months_recompute(workspace_id=workspace.id, first=span["first"], last=span["last"])
            workspace_days_recompute(workspace_id=workspace.id, first=span["first"], last=span["last"])
        # The hour and outcome grains count every user's events: recount the days this user had.
        outcome_days_recompute(workspace, days)
        rollups_changed(workspace.id)
        crm_user.delete()
        audit_record(
            workspace=workspace,
            actor=actor,
            action=AuditEntry.Action.USER_ERASED,
            target_type="crmuser",
            changes=counts,
        )
    return counts
