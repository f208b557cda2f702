"""4. Pipeline generation ("Pipe Gen", seed 003: is enough pipeline being made, early?) and 5. the
forecast (what revenue to expect, month by month, against the quota).

Both cover start's month to end's month and read only aggregates: ``CreatedMonthFigures`` (deals of
any state per creation month and owner), ``DealMonthFigures`` (per close month, owner, state and
forecast category, with Σ amount × probability) and the month's ``Target`` rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from records.figures import pct, ratio, weighted_cents
from records.models import CreatedMonthFigures, Deal
from sales.selectors.common import month_deals, month_targets, rep_list, sum_known

if TYPE_CHECKING:
    from sales.queries import ForecastQuery, GenerationQuery

CATEGORIES = [choice.value for choice in Deal.ForecastCategory]  # DESIGN.md section 6's order


@dataclass(frozen=True)
class GeneratedRow:
    deals: int
    generated_cents: int
    target_cents: int | None

    @property
    def attainment_pct(self) -> float | None:
        return None if self.target_cents is None else pct(self.generated_cents, self.target_cents)


@dataclass(frozen=True)
class GeneratedMonth(GeneratedRow):
    month: date


@dataclass(frozen=True)
class GeneratedRep(GeneratedRow):
    rep: str
    rep_name: str


@dataclass(frozen=True)
class Coverage:
    quota_cents: int | None  # Σ of the months' revenue quotas (None: no month has one)
    revenue_cents: int  # won, closing in the months
    open_pipeline_cents: int  # open, closing in the months
    ratio: float | None  # open ÷ (quota − won); None when that is ≤ 0 or there is no quota


@dataclass(frozen=True)
class Generation:
    months: list[GeneratedMonth]
    reps: list[GeneratedRep]
    coverage: Coverage


def pipeline_generation(query: GenerationQuery) -> Generation:
    workspace, months = query.workspace, query.months
    targets = month_targets(workspace, months)
    per_month: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    per_rep: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows = CreatedMonthFigures.objects.filter(
        workspace=workspace, month__gte=months[0], month__lte=months[-1]
    ).values_list("month", "owner_id", "deals", "amount_cents")
    for month, owner_id, deals, amount in rows:
        per_month[month][0] += deals
        per_month[month][1] += amount
        if owner_id is not None:
            per_rep[owner_id][0] += deals
            per_rep[owner_id][1] += amount
    month_rows = [GeneratedMonth(per_month[m][0], per_month[m][1], targets[m].pipeline_target, month=m) for m in months]
    rep_rows = [
        GeneratedRep(
            per_rep[rep.id][0],
            per_rep[rep.id][1],
            sum_known(targets[m].reps_pipeline.get(rep.id) for m in months),
            rep=rep.external_id,
            rep_name=rep.name,
        )
        for rep in rep_list(workspace)
    ]
    closing = month_deals(workspace, months)
    quota = sum_known(targets[m].revenue_quota for m in months)
    won = sum(closing[m].won_cents for m in months)
    open_cents = sum(closing[m].open_cents for m in months)
    remaining = None if quota is None else quota - won
    coverage = Coverage(quota, won, open_cents, ratio(open_cents, remaining) if remaining and remaining > 0 else None)
    return Generation(month_rows, rep_rows, coverage)


@dataclass(frozen=True)
class CategoryFigures:
    category: str
    deals: int
    amount_cents: int
    weighted_cents: int


@dataclass(frozen=True)
class ForecastMonth:
    month: date
    won_cents: int
    weighted_open_cents: int  # Σ amount × probability / 100 of the open deals closing in the month
    forecast_cents: int  # won + weighted open
    quota_cents: int | None
    quota_pct: float | None  # forecast ÷ quota × 100
    categories: list[CategoryFigures]  # every category, in CATEGORIES' order


def forecast(query: ForecastQuery) -> list[ForecastMonth]:
    workspace, months = query.workspace, query.months
    targets = month_targets(workspace, months)
    closing = month_deals(workspace, months)
    result = []
    for month in months:
        figures = closing[month]
        weighted_open = weighted_cents(figures.open_weighted)
        total = figures.won_cents + weighted_open
        quota = targets[month].revenue_quota
        categories = []
        for name in CATEGORIES:
            deals, amount, weighted = figures.categories.get(name, (0, 0, 0))
            categories.append(CategoryFigures(name, deals, amount, weighted_cents(weighted)))
        quota_pct = None if quota is None else pct(total, quota)
        result.append(ForecastMonth(month, figures.won_cents, weighted_open, total, quota, quota_pct, categories))
    return result
