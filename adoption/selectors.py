"""Adoption × outcome (DESIGN.md section 6, API.md ``sales/adoption-outcome``): per rep, their CRM
usage over the period beside their sales results, the Spearman rank correlation of each usage figure
with revenue across reps, and the features the top-quartile reps (by revenue) use and the
bottom-quartile ones do not — "what do our best sellers do differently in the CRM?".

- Reps: CRM users owning a deal or an activity (``records.selectors.reps``), narrowed by the user
  filters; every one listed, revenue first (ties by external id).
- Usage exactly as the ``users`` table computes it (DESIGN.md section 3), from the same rollups
  through the same ``events.selectors``: attendance = active days (UserMonth bits), session minutes =
  the seconds of the sessions starting in the period / 60 rounded to 1 decimal, interactions = events,
  features used = distinct features with a day of use (UserFeatureMonth bits).
- Results from the records aggregates, never the deals themselves: revenue and deals won from
  ``DealDayFigures`` (won, close date in the period), activities from ``RepDayActivity`` (completed,
  local day in the period).
- Spearman: Pearson's correlation of the average ranks (ties share the mean of their positions) of a
  usage figure, as reported (session minutes with their 1 decimal), and of revenue; 3 decimals; None
  under 3 reps or when either series is constant.
- Quartiles: top = revenue ≥ the ⌈n/4⌉-th highest, bottom = revenue ≤ the ⌈n/4⌉-th lowest; ties join,
  so with few reps or many equal revenues a rep may be in both.
- Features: every feature used (≥ 1 event in the period) by a top or a bottom rep; top_pct = the share
  of top reps that used it (1 decimal), bottom_pct alike, gap_pts = top_pct − bottom_pct as reported;
  largest gap first, ties by feature key.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, Sum

from adoption.queries import USAGE_FIGURES
from events.filters import filter_crm_users
from events.models import CrmUser
from events.selectors import active_days_by_user, feature_use_counts, feature_use_in_period, user_period_totals
from records.figures import pct
from records.models import CreatedMonthFigures, Deal, DealDayFigures, RepDayActivity
from records.selectors import reps
from tenancy.models import Workspace
from tenancy.scoping import in_workspace

if TYPE_CHECKING:
    from adoption.queries import AdoptionQuery

# Fewer reps than this: no correlation (API.md).
MIN_REPS_FOR_RHO = 3


@dataclass(frozen=True)
class RepOutcome:
    id: int
    rep: str  # external id
    name: str
    attendance_days: int
    session_minutes: float
    features_used: int
    interactions: int
    revenue_cents: int
    deals_won: int
    activities: int


@dataclass(frozen=True)
class FeatureGap:
    feature: str  # key
    top_reps: int  # top-quartile reps that used it
    bottom_reps: int
    top_pct: float
    bottom_pct: float
    gap_pts: float


@dataclass(frozen=True)
class AdoptionOutcome:
    reps: list[RepOutcome]  # revenue desc, ties by external id
    spearman: dict[str, float | None]  # per usage figure, in USAGE_FIGURES order
    top_quartile: list[RepOutcome]  # in the order of ``reps``
    bottom_quartile: list[RepOutcome]
    features: list[FeatureGap]  # largest gap first, ties by key


# --- the statistics, in plain Python -------------------------------------------------------------------


def average_ranks(values: Sequence[float]) -> list[float]:
    """The rank (1 = smallest) of each value; equal values share the mean of the positions they take
    (``[10, 20, 20, 30]`` → ``[1, 2.5, 2.5, 4]``)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    first = 0
    while first < len(order):
        last = first
        while last + 1 < len(order) and values[order[last + 1]] == values[order[first]]:
            last += 1
        for position in range(first, last + 1):
            ranks[order[position]] = (first + last) / 2 + 1  # positions first…last are ranks first+1…last+1
        first = last + 1
    return ranks


def spearman_rho(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation: Pearson's r of the average ranks, rounded to 3 decimals; None
    under 3 pairs or when either series is constant (its ranks have no spread).

    Ranks are halves of whole numbers, so the sums are taken exactly on doubled ranks (integers) and
    only the final quotient is a float."""
    if len(xs) != len(ys):
        raise ValueError("the series differ in length")
    n = len(xs)
    if n < MIN_REPS_FOR_RHO:
        return None
    a = [round(2 * r) for r in average_ranks(xs)]
    b = [round(2 * r) for r in average_ranks(ys)]
    sum_a, sum_b = sum(a), sum(b)
    sxy = n * sum(p * q for p, q in zip(a, b, strict=True)) - sum_a * sum_b
    sxx = n * sum(p * p for p in a) - sum_a * sum_a
    syy = n * sum(q * q for q in b) - sum_b * sum_b
    if sxx == 0 or syy == 0:
        return None
    rho = sxy / (math.sqrt(sxx) * math.sqrt(syy))
    return round(max(-1.0, min(1.0, rho)), 3) + 0.0  # + 0.0: never "-0.0"


def quartile_cut(revenues: Sequence[int]) -> tuple[int, int] | None:
    """(top threshold, bottom threshold): the ⌈n/4⌉-th highest and the ⌈n/4⌉-th lowest revenue; a rep
    is top when their revenue is ≥ the first, bottom when ≤ the second. None without reps."""
    n = len(revenues)
    if not n:
        return None
    k = (n + 3) // 4  # ⌈n/4⌉
    ordered = sorted(revenues)
    return ordered[n - k], ordered[k - 1]


# --- reads -----------------------------------------------------------------------------------------------


def has_deals(*, workspace: Workspace) -> bool:
    """Whether the workspace has any deal counted (every one is in the creation-month figures)."""
    return CreatedMonthFigures.objects.filter(workspace=workspace).exists()


def adoption_outcome(query: AdoptionQuery) -> AdoptionOutcome:
    """Every rep's usage and results over the query's period, the correlations, the quartiles and the
    features that set the top reps apart."""
    workspace, period = query.workspace, query.period
    people = list(filter_crm_users(reps(workspace), query.filters).values_list("id", "external_id", "name"))
    ids = [pk for pk, _external_id, _name in people]
    # Narrow the rollup reads to the reps only when they are much fewer than the workspace's users;
    # else read every user's rows and keep the reps' (the join costs more than it saves).
    narrow = None
    if ids and len(ids) * 2 < in_workspace(CrmUser, workspace).count():
        narrow = Q(crm_user__in=ids)

    usage: dict[int, tuple[int, float, int, int]] = {}
    if ids:
        (active,) = active_days_by_user(workspace=workspace, periods=[period], narrow=narrow)
        totals = user_period_totals(workspace=workspace, period=period, narrow=narrow, active=active)
        features = feature_use_counts(workspace=workspace, period=period, per="crm_user_id", narrow=narrow)
        for pk in ids:
            figures = totals.get(pk)
            if figures:
                minutes = round(figures.session_seconds / 60, 1)
                usage[pk] = (figures.active_days, minutes, features.get(pk, 0), figures.events)

    won: dict[int, tuple[int, int]] = {}
    days = (period.start, period.end)
    for owner_id, amount, deals in (
        DealDayFigures.objects.filter(workspace=workspace, day__range=days, state=Deal.State.WON)
        .exclude(owner=None)
        .values("owner_id")
        .annotate(amount=Sum("amount_cents"), deals=Sum("deals"))
        .order_by()
        .values_list("owner_id", "amount", "deals")
    ):
        won[owner_id] = (int(amount or 0), int(deals or 0))
    activities = dict(
        RepDayActivity.objects.filter(workspace=workspace, day__range=days)
        .values("owner_id")
        .annotate(n=Sum("activities"))
        .order_by()
        .values_list("owner_id", "n")
    )

    rows = []
    for pk, external_id, name in people:
        attendance, minutes, features_used, interactions = usage.get(pk, (0, 0.0, 0, 0))
        revenue, deals_won = won.get(pk, (0, 0))
        rows.append(
            RepOutcome(
                id=pk,
                rep=external_id,
                name=name,
                attendance_days=attendance,
                session_minutes=minutes,
                features_used=features_used,
                interactions=interactions,
                revenue_cents=revenue,
                deals_won=deals_won,
                activities=int(activities.get(pk) or 0),
            )
        )
    rows.sort(key=lambda r: r.rep)
    rows.sort(key=lambda r: r.revenue_cents, reverse=True)

    revenues = [r.revenue_cents for r in rows]
    spearman = {name: spearman_rho([getattr(r, name) for r in rows], revenues) for name in USAGE_FIGURES}
    cut = quartile_cut(revenues)
    top = [r for r in rows if cut and r.revenue_cents >= cut[0]]
    bottom = [r for r in rows if cut and r.revenue_cents <= cut[1]]
    return AdoptionOutcome(rows, spearman, top, bottom, feature_gaps(query, top, bottom))


def feature_gaps(query: AdoptionQuery, top: list[RepOutcome], bottom: list[RepOutcome]) -> list[FeatureGap]:
    """Per feature used in the period by a top or a bottom rep: the share of each quartile that used it."""
    wanted = {r.id for r in top} | {r.id for r in bottom}
    if not wanted:
        return []
    used: dict[int, set[str]] = defaultdict(set)
    pairs = (
        feature_use_in_period(workspace=query.workspace, period=query.period)
        .filter(crm_user__in=sorted(wanted))
        .values_list("crm_user_id", "feature__key")
        .distinct()
    )
    for user_id, key in pairs:
        used[user_id].add(key)
    keys = sorted({key for keys in used.values() for key in keys})
    gaps = []
    for key in keys:
        top_reps = sum(1 for r in top if key in used[r.id])
        bottom_reps = sum(1 for r in bottom if key in used[r.id])
        # Both quartiles hold a rep whenever there is one (n ≥ 1: ⌈n/4⌉ ≥ 1), so neither share divides by 0.
        top_pct, bottom_pct = pct(top_reps, len(top)) or 0.0, pct(bottom_reps, len(bottom)) or 0.0
        gap = round(top_pct - bottom_pct, 1) + 0.0  # the difference of the shares as reported; never "-0.0"
        gaps.append(FeatureGap(key, top_reps, bottom_reps, top_pct, bottom_pct, gap))
    gaps.sort(key=lambda g: (-g.gap_pts, g.feature))
    return gaps
