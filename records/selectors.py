"""Lookups over the records that several tabs share (docs/records.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from events.models import CrmUser
from records.aggregates import figures_pending, visible_deals
from records.models import DEFAULT_STUCK_DAYS, Account, CreatedMonthFigures, RepDayActivity, StageThreshold
from tenancy.models import Workspace

__all__ = ["figures_pending", "rep_ids", "reps", "stuck_thresholds", "visible_accounts", "visible_deals"]


def visible_accounts(workspace: Workspace) -> QuerySet[Account]:
    """Accounts not deleted (of any status)."""
    return Account.objects.filter(workspace=workspace, deleted=False)


def reps(workspace: Workspace) -> QuerySet[CrmUser]:
    """API.md: a rep is a CRM user owning a deal or an activity; every rep of the workspace, by external
    id. Read from the aggregates (every counted deal, of any state, is in the creation-month figures;
    every counted activity in the activity-day figures), asked per CRM user of the workspace through
    their owner indexes (``EXISTS``): a few index probes per user, where a ``DISTINCT`` over the
    activity-day figures reads every row of them (50–100 ms at 1M deals)."""
    owns = Exists(CreatedMonthFigures.objects.filter(workspace=workspace, owner=OuterRef("pk"))) | Exists(
        RepDayActivity.objects.filter(workspace=workspace, owner=OuterRef("pk"))
    )
    return CrmUser.objects.filter(workspace=workspace).filter(owns).order_by("external_id")


def rep_ids(workspace: Workspace) -> set[int]:
    """The ids of ``reps``."""
    return set(reps(workspace).values_list("id", flat=True))


def stuck_thresholds(workspace: Workspace) -> tuple[dict[str, int], int]:
    """The days after which an open deal is stuck, per stage set in the admin, and the default for the others."""
    return (
        dict(StageThreshold.objects.filter(workspace=workspace).values_list("stage", "days")),
        DEFAULT_STUCK_DAYS,
    )


# A JSON answer lists at most this many rows of a list that can grow with the data (stuck, idle and
# past-due deals, deals missing an amount or a close date, ownerless accounts, duplicate groups,
# accounts closing this month) and says when it left some out (``truncated``); ``format=csv`` gives
# the whole list.
LIST_CAP = 500


@dataclass(frozen=True)
class Capped[T]:
    """A list cut to its first rows when it is longer (``truncated``): a JSON answer shows at most
    ``LIST_CAP`` of them, a page fewer; the CSV has them all."""

    rows: list[T]
    truncated: bool = False


def capped_rows(queryset: QuerySet[Any], limit: int | None) -> tuple[list[dict[str, Any]], bool]:
    """The rows of an ordered ``values()`` queryset: the first ``limit`` (None: all), and whether there
    are more. One more row is read to know; the list is never counted whole (with an order an index
    gives, the database stops after the rows asked for)."""
    if limit is None:
        return list(queryset), False
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit
