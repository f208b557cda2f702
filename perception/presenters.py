"""How the Perception tab's figures read on its pages: each metric's label, what it counts, how its value
is written, and whether a rise is good news (churn and retention cost falling is)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.formatting import percent
from perception.selectors.metrics import Metric, Summary
from records.figures import money
from tenancy.models import Workspace

Money = Callable[[int | None], str]

# (key, label, explanation, kind of value, a rise is good)
METRICS: tuple[tuple[str, Promise, Promise, str, bool], ...] = (
    (
        "nps",
        _("NPS"),
        _("Share of promoters (9–10) minus share of detractors (0–6) among the NPS responses in the period."),
        "score",
        True,
    ),
    ("ces", _("CES"), _("Mean customer effort score (1–7) of the responses in the period."), "ces", True),
    ("csat_pct", _("CSAT"), _("Share of CSAT responses scoring 4 or 5."), "pct", True),
    (
        "customer_churn_pct",
        _("Customer churn"),
        _(
            "Accounts with a contract on the first day whose every contract in the period ended in it unrenewed, ÷ those accounts."
        ),
        "pct",
        False,
    ),  # noqa: E501
    (
        "revenue_churn_pct",
        _("Revenue churn"),
        _(
            "Monthly value of the contracts in force on the first day that ended in the period unrenewed, ÷ the monthly value in force then."
        ),
        "pct",
        False,
    ),  # noqa: E501
    (
        "renewal_rate_pct",
        _("Renewal rate"),
        _("Contracts ending in the period that were renewed, ÷ contracts ending in it."),
        "pct",
        True,
    ),  # noqa: E501
    (
        "retention_cost",
        _("Retention cost per retained customer"),
        _("Retention spend in the period (a month's spread over its days) ÷ accounts retained."),
        "money",
        False,
    ),  # noqa: E501
    (
        "revenue_per_retained",
        _("Revenue per retained customer"),
        _(
            "The retained accounts' contract value over their days in the period ÷ accounts retained. Retention cost should stay below it."
        ),
        "money",
        True,
    ),  # noqa: E501
)


def money_of(workspace: Workspace) -> Money:
    language = translation.get_language() or "en"
    return lambda cents: money(cents, workspace, language)


def value_text(value: Any, kind: str, fmt: Money) -> str:
    if value is None:
        return "—"
    if kind == "money":
        return fmt(int(value))
    if kind == "pct":
        return percent(value)
    if kind == "ces":
        return f"{value:.2f}"
    return f"{value:.1f}"


@dataclass(frozen=True)
class Card:
    key: str
    label: Promise
    help: Promise
    value: str
    previous: str
    change_pct: float | None
    direction: str  # "up", "down", "flat" or "" when there is no change to show
    tone: str  # "good", "bad" or "neutral"

    @property
    def abs_change_pct(self) -> float | None:
        return None if self.change_pct is None else abs(self.change_pct)


def _direction(metric: Metric, rise_is_good: bool) -> tuple[str, str]:
    """Up or down by the change itself (value − previous): ``change_pct`` divides by the previous value as
    it is (API.md), so from an NPS of −20 to −10 it is −50 %, a rise all the same."""
    change = metric.change
    if change is None:
        return "", "neutral"
    if change == 0:
        return "flat", "neutral"
    up = change > 0
    return ("up" if up else "down"), ("good" if up == rise_is_good else "bad")


def summary_cards(summary: Summary, fmt: Money) -> list[Card]:
    cards = []
    for key, label, help_text, kind, rise_is_good in METRICS:
        metric = summary.metrics[key]
        direction, tone = _direction(metric, rise_is_good)
        cards.append(
            Card(
                key, label, help_text, value_text(metric.value, kind, fmt), value_text(metric.previous, kind, fmt),
                metric.change_pct, direction, tone,
            )
        )  # fmt: skip
    return cards


def row_texts(values: dict[str, Any], fmt: Money) -> list[str]:
    """A trend month's or a breakdown group's values, in ``METRICS`` order, as written on the page."""
    return [value_text(values[key], kind, fmt) for key, _label, _help, kind, _good in METRICS]
