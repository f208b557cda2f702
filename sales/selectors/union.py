"""1. State of the union (seed 003): revenue, deals won, win rate, average deal size against the previous
period, the open pipeline now, the largest deals won and the reps' leaderboard.

Sums over periods come from ``DealDayFigures`` (per close day, owner and state); the top deals are read
through the (state, close_date) index, won deals closing in the period only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db.models import Sum

from events.periods import Period, change_pct
from records.figures import div_half_up, pct
from records.models import Deal, DealDayFigures
from records.selectors import visible_deals
from sales.selectors.common import DealRow, deal_row, deal_rows, open_pipeline_cents, rep_list
from tenancy.models import Workspace

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from sales.queries import UnionQuery


@dataclass(frozen=True)
class Metric:
    """A figure of the period beside the previous period's. ``value``/``previous`` are as answered
    (cents for amounts, rounded); ``change_pct`` is computed from the unrounded figures."""

    value: int | float | None
    previous: int | float | None
    change_pct: float | None


@dataclass(frozen=True)
class LeaderboardRow:
    rep: str
    rep_name: str
    revenue_cents: int
    won: int
    lost: int
    win_rate_pct: float | None


@dataclass(frozen=True)
class Union:
    period: Period
    previous: Period
    revenue: Metric  # cents
    deals_won: Metric
    win_rate_pct: Metric
    average_deal_size: Metric  # cents
    open_pipeline: Metric  # cents; previous and change_pct None (every open deal now)
    top_deals: list[DealRow]
    leaderboard: list[LeaderboardRow]


@dataclass
class Closed:
    won: int = 0
    lost: int = 0
    revenue: int = 0  # cents

    @property
    def win_rate(self) -> float | None:
        """Unrounded."""
        closed = self.won + self.lost
        return self.won / closed * 100 if closed else None

    @property
    def average(self) -> float | None:
        """Unrounded, in cents."""
        return self.revenue / self.won if self.won else None


def closed_by_owner(workspace: Workspace, period: Period) -> dict[int | None, Closed]:
    """Won and lost deals closing in the period, and the won amount, per owner (None: no owner)."""
    result: dict[int | None, Closed] = defaultdict(Closed)
    rows = (
        DealDayFigures.objects.filter(
            workspace=workspace, day__gte=period.start, day__lte=period.end, state__in=[Deal.State.WON, Deal.State.LOST]
        )
        .values("owner_id", "state")
        .annotate(deals=Sum("deals"), amount=Sum("amount_cents"))
        .order_by()
    )
    for row in rows:
        closed = result[row["owner_id"]]
        if row["state"] == Deal.State.WON:
            closed.won += row["deals"]
            closed.revenue += row["amount"]
        else:
            closed.lost += row["deals"]
    return result


def _total(by_owner: dict[int | None, Closed]) -> Closed:
    total = Closed()
    for closed in by_owner.values():
        total.won += closed.won
        total.lost += closed.lost
        total.revenue += closed.revenue
    return total


def _change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return change_pct(current, previous)


def _round_pct(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _leaderboard(workspace: Workspace, by_owner: dict[int | None, Closed]) -> list[LeaderboardRow]:
    rows = []
    for rep in rep_list(workspace):
        closed = by_owner.get(rep.id, Closed())
        win_rate = pct(closed.won, closed.won + closed.lost)
        rows.append(LeaderboardRow(rep.external_id, rep.name, closed.revenue, closed.won, closed.lost, win_rate))
    rows.sort(key=lambda row: (-row.revenue_cents, row.rep))
    return rows


def leaderboard(query: UnionQuery) -> list[LeaderboardRow]:
    """Every rep: revenue, deals won and lost closing in the period, win rate; revenue first, ties by rep."""
    return _leaderboard(query.workspace, closed_by_owner(query.workspace, query.period))


def state_of_the_union(query: UnionQuery) -> Union:
    workspace, period = query.workspace, query.period
    previous = period.previous()
    by_owner = closed_by_owner(workspace, period)
    now, before = _total(by_owner), _total(closed_by_owner(workspace, previous))
    top = (
        visible_deals(workspace)
        .filter(
            state=Deal.State.WON, close_date__gte=period.start, close_date__lte=period.end, amount_cents__isnull=False
        )
        .order_by("-amount_cents", "external_id")
    )
    top_rows, _more = deal_rows(top, query.limit)
    return Union(
        period=period,
        previous=previous,
        revenue=Metric(now.revenue, before.revenue, _change(now.revenue, before.revenue)),
        deals_won=Metric(now.won, before.won, _change(now.won, before.won)),
        win_rate_pct=Metric(
            _round_pct(now.win_rate), _round_pct(before.win_rate), _change(now.win_rate, before.win_rate)
        ),
        average_deal_size=Metric(
            div_half_up(now.revenue, now.won) if now.won else None,
            div_half_up(before.revenue, before.won) if before.won else None,
            _change(now.average, before.average),
        ),
        open_pipeline=Metric(open_pipeline_cents(workspace), None, None),
        top_deals=[deal_row(row) for row in top_rows],
        leaderboard=_leaderboard(workspace, by_owner),
    )


@dataclass(frozen=True)
class RevenueSeries:
    """Revenue won per day of the period, accumulated, beside the previous period's day by day."""

    days: list[date]
    current: list[int]  # cents, running total
    previous: list[int]


def revenue_by_day(query: UnionQuery) -> RevenueSeries:
    workspace, period = query.workspace, query.period
    previous = period.previous()
    daily = dict(
        DealDayFigures.objects.filter(
            workspace=workspace, day__gte=previous.start, day__lte=period.end, state=Deal.State.WON
        )
        .values("day")
        .annotate(amount=Sum("amount_cents"))
        .values_list("day", "amount")
        .order_by()
    )
    days = list(period.dates())
    current, before, now_total, before_total = [], [], 0, 0
    for offset, day in enumerate(days):
        now_total += daily.get(day, 0)
        before_total += daily.get(previous.start + timedelta(days=offset), 0)
        current.append(now_total)
        before.append(before_total)
    return RevenueSeries(days, current, before)
