"""How the Sales pages show a selector's figures: metric cards with arrows and tones, amounts in the
workspace's currency as the reader's language writes them (``records.figures.money``), the activity
pivot. Shapes only; no figure is computed here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.formatting import percent
from records.figures import money
from sales import selectors
from tenancy.models import Workspace

Money = Callable[[int | None], str]


def money_of(workspace: Workspace) -> Money:
    """Amounts (cents) of the workspace as the current language writes them ("—" for none)."""
    language = translation.get_language() or "en"
    return lambda cents: money(cents, workspace, language)


@dataclass(frozen=True)
class Card:
    key: str
    label: Promise
    help: Promise
    value: str
    previous: str | None  # None: not compared (the open pipeline is "now")
    change_pct: float | None
    direction: str  # "up", "down", "flat" or "" when there is no change to show
    tone: str  # "good", "bad" or "neutral"

    @property
    def abs_change_pct(self) -> float | None:
        return None if self.change_pct is None else abs(self.change_pct)


UNION_METRICS: tuple[tuple[str, Promise, Promise, str], ...] = (
    # (selector field, label, explanation, kind of value)
    ("revenue", _("Revenue"), _("Won deals closing in the period."), "money"),
    ("deals_won", _("Deals won"), _("Won deals closing in the period."), "count"),
    ("win_rate_pct", _("Win rate"), _("Won ÷ (won + lost) among deals closing in the period."), "pct"),
    ("average_deal_size", _("Average deal size"), _("Revenue ÷ deals won."), "money"),
    ("open_pipeline", _("Open pipeline"), _("Every open deal now, whatever its close date."), "money"),
)


def _text(value: Any, kind: str, fmt: Money) -> str:
    if kind == "money":
        return fmt(value)
    if kind == "pct":
        return percent(value)
    return f"{value:,}"


def union_cards(union: selectors.Union, fmt: Money) -> list[Card]:
    cards = []
    for key, label, help_text, kind in UNION_METRICS:
        metric: selectors.Metric = getattr(union, key)
        change = metric.change_pct
        if change is None:
            direction, tone = "", "neutral"
        elif change == 0:
            direction, tone = "flat", "neutral"
        else:
            direction, tone = ("up", "good") if change > 0 else ("down", "bad")
        previous = None if key == "open_pipeline" else _text(metric.previous, kind, fmt)
        cards.append(Card(key, label, help_text, _text(metric.value, kind, fmt), previous, change, direction, tone))
    return cards


@dataclass(frozen=True)
class PivotRow:
    rep: str
    rep_name: str
    cells: list[int]  # activities per week, in the weeks' order
    total: int


def activity_pivot(report: selectors.ActivityReport) -> list[PivotRow]:
    """Reps (rows) × weeks (columns): the completed calls, emails, meetings and messages of each."""
    by_rep: dict[str, dict[date, int]] = {}
    for row in report.rows:
        by_rep.setdefault(row.rep, {})[row.week_start] = row.counts.total
    return [
        PivotRow(rep.rep, rep.rep_name, [by_rep.get(rep.rep, {}).get(w, 0) for w in report.weeks], rep.counts.total)
        for rep in report.reps
    ]


CATEGORY_LABELS: dict[str, Promise] = {
    "pipeline": _("Pipeline"),
    "best_case": _("Best case"),
    "commit": _("Commit"),
    "omitted": _("Omitted"),
}
