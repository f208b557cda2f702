"""What the Sales dashboards share: the reps, the month targets, the open pipeline of the moment, the
bounded lists of deals (docs/sales.md#performance)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum

from records.models import Deal, DealMonthFigures, OpenStageFigures, Target
from records.selectors import capped_rows, reps
from tenancy.models import Workspace


@dataclass(frozen=True)
class Rep:
    id: int
    external_id: str
    name: str


def rep_list(workspace: Workspace) -> list[Rep]:
    """Every rep (``records.selectors.reps``: a CRM user owning a counted deal or a counted activity),
    by external id."""
    return [Rep(*row) for row in reps(workspace).values_list("id", "external_id", "name")]


# --- deal rows -------------------------------------------------------------------------------------------------

DEAL_FIELDS = (
    "external_id", "name", "account__external_id", "account__name", "owner__external_id", "owner__name",
    "amount_cents", "close_date", "state", "stage",
)  # fmt: skip


@dataclass(frozen=True)
class DealRow:
    """A deal as the lists show it: ``account`` and ``rep`` are external ids (rep None: no owner)."""

    external_id: str
    name: str
    account: str
    account_name: str
    rep: str | None
    rep_name: str
    amount_cents: int | None
    close_date: date | None
    state: str = ""
    stage: str = ""


def deal_rows(queryset: QuerySet[Deal], limit: int | None, *extra: str) -> tuple[list[dict[str, Any]], bool]:
    """The deals of ``queryset`` (already ordered) with the fields every list shows, plus ``extra``
    (annotations): the first ``limit`` (None: all), and whether there are more."""
    return capped_rows(queryset.values(*DEAL_FIELDS, *extra), limit)


def deal_row(row: dict[str, Any]) -> DealRow:
    return DealRow(
        external_id=row["external_id"],
        name=row["name"],
        account=row["account__external_id"],
        account_name=row["account__name"],
        rep=row["owner__external_id"],
        rep_name=row["owner__name"] or "",
        amount_cents=row["amount_cents"],
        close_date=row["close_date"],
        state=row["state"],
        stage=row["stage"],
    )


# --- the open pipeline of the moment -------------------------------------------------------------------------


def open_pipeline_cents(workspace: Workspace) -> int:
    """Σ amount of every open deal now, from the open-stage figures (per stage and close date, the
    deals without one included): a few thousand rows, where the deals are a hundred thousand."""
    total = OpenStageFigures.objects.filter(workspace=workspace).aggregate(total=Sum("amount_cents"))["total"]
    return total or 0


# --- targets ---------------------------------------------------------------------------------------------------


@dataclass
class MonthTargets:
    """One month's target rows, summed: the team's (owner None) and each rep's; None where no row gives
    a value."""

    team_pipeline: int | None = None
    team_quota: int | None = None
    reps_pipeline: dict[int, int] = field(default_factory=dict)
    reps_quota: dict[int, int] = field(default_factory=dict)

    @property
    def pipeline_target(self) -> int | None:
        """The team row, else Σ rep rows, else None (API.md)."""
        if self.team_pipeline is not None:
            return self.team_pipeline
        return sum(self.reps_pipeline.values()) if self.reps_pipeline else None

    @property
    def revenue_quota(self) -> int | None:
        if self.team_quota is not None:
            return self.team_quota
        return sum(self.reps_quota.values()) if self.reps_quota else None


def _add(current: int | None, value: int | None) -> int | None:
    if value is None:
        return current
    return value if current is None else current + value


def month_targets(workspace: Workspace, months: Iterable[date]) -> dict[date, MonthTargets]:
    """The targets of each month (every month present). Per figure (pipeline target, revenue quota) a
    row without that value does not count: a team row holding only a quota leaves the pipeline target to
    the rep rows. Several rows of one owner and month add up."""
    result = {month: MonthTargets() for month in months}
    rows = Target.objects.filter(workspace=workspace, deleted=False, month__in=list(result)).values_list(
        "month", "owner_id", "pipeline_target_cents", "revenue_quota_cents"
    )
    for month, owner_id, pipeline, quota in rows:
        targets = result[month]
        if owner_id is None:
            targets.team_pipeline = _add(targets.team_pipeline, pipeline)
            targets.team_quota = _add(targets.team_quota, quota)
            continue
        if pipeline is not None:
            targets.reps_pipeline[owner_id] = targets.reps_pipeline.get(owner_id, 0) + pipeline
        if quota is not None:
            targets.reps_quota[owner_id] = targets.reps_quota.get(owner_id, 0) + quota
    return result


def sum_known(values: Iterable[int | None]) -> int | None:
    """Σ of the values that are known; None when none is."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


@dataclass
class MonthDeals:
    """Close-month figures of one month: per state, and per forecast category for open deals."""

    won_deals: int = 0
    won_cents: int = 0
    open_deals: int = 0
    open_cents: int = 0
    open_weighted: int = 0  # Σ cents × probability
    categories: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # category → deals, cents, weighted


def month_deals(workspace: Workspace, months: list[date]) -> dict[date, MonthDeals]:
    """Won and open deals closing in each month (every month present), from ``DealMonthFigures``."""
    result = {month: MonthDeals() for month in months}
    if not months:
        return result
    rows = (
        DealMonthFigures.objects.filter(
            workspace=workspace,
            month__gte=months[0],
            month__lte=months[-1],
            state__in=[Deal.State.WON, Deal.State.OPEN],
        )
        .values("month", "state", "forecast_category")
        .annotate(deals=Sum("deals"), amount=Sum("amount_cents"), weighted=Sum("weighted"))
        .order_by()
    )
    categories: dict[date, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for row in rows:
        figures = result.get(row["month"])
        if figures is None:
            continue
        if row["state"] == Deal.State.WON:
            figures.won_deals += row["deals"]
            figures.won_cents += row["amount"]
            continue
        figures.open_deals += row["deals"]
        figures.open_cents += row["amount"]
        figures.open_weighted += row["weighted"]
        sums = categories[row["month"]][row["forecast_category"]]
        sums[0] += row["deals"]
        sums[1] += row["amount"]
        sums[2] += row["weighted"]
    for month, by_category in categories.items():
        result[month].categories = {name: (s[0], s[1], s[2]) for name, s in by_category.items()}
    return result
