"""Lookups over the records that several tabs share (docs/records.md)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from events.models import CrmUser
from records.aggregates import figures_pending, visible_deals
from records.models import DEFAULT_STUCK_DAYS, Account, CreatedMonthFigures, RepDayActivity, StageThreshold
from tenancy.models import Workspace

__all__ = ["figures_pending", "rep_ids", "reps", "stuck_thresholds", "visible_accounts", "visible_deals"]


def visible_accounts(workspace: Workspace) -> QuerySet[Account]:
    """Accounts not deleted (of any status)."""
    return Account.objects.filter(workspace=workspace, deleted=False)


def rep_ids(workspace: Workspace) -> set[int]:
    """API.md: a rep is a CRM user owning a deal or an activity. Read from the aggregates (every counted
    deal, of any state, is in the creation-month figures; every counted activity in the day figures)."""
    owners = set(
        CreatedMonthFigures.objects.filter(workspace=workspace, owner__isnull=False)
        .values_list("owner_id", flat=True)
        .distinct()
    )
    owners |= set(RepDayActivity.objects.filter(workspace=workspace).values_list("owner_id", flat=True).distinct())
    return owners


def reps(workspace: Workspace) -> QuerySet[CrmUser]:
    """Every rep of the workspace, by external id."""
    return CrmUser.objects.filter(Q(workspace=workspace) & Q(id__in=rep_ids(workspace))).order_by("external_id")


def stuck_thresholds(workspace: Workspace) -> tuple[dict[str, int], int]:
    """The days after which an open deal is stuck, per stage set in the admin, and the default for the others."""
    return (
        dict(StageThreshold.objects.filter(workspace=workspace).values_list("stage", "days")),
        DEFAULT_STUCK_DAYS,
    )
