"""What a funnel computes besides its range and user filters: its steps, unit, window, order and
breakdown (docs/metrics.md#funnels). A saved funnel's definition (``FunnelSpec.of``) and an ad-hoc
one (``funnels.queries.FunnelQuery``) are the same object, so both are walked by the same engines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from funnels.models import DEFAULT_WINDOW_DAYS, Funnel, Order, Unit


@dataclass(frozen=True)
class Step:
    feature: str
    action: str
    detail: str = ""

    @property
    def label(self) -> str:
        """The feature, action and detail joined by `` · `` (docs/api.md#funnel-query)."""
        return " · ".join(part for part in (self.feature, self.action, self.detail) if part)

    @classmethod
    def of(cls, step: dict[str, Any]) -> Step:
        """A step as stored or validated: ``{"feature", "action", "detail"}``, the detail optional."""
        return cls(step["feature"], step["action"], step.get("detail") or "")


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel's definition."""

    steps: tuple[Step, ...]
    unit: str = Unit.USER
    window_days: int = DEFAULT_WINDOW_DAYS
    order: str = Order.ORDERED
    breakdown: str = ""

    @classmethod
    def of(cls, funnel: Funnel) -> FunnelSpec:
        return cls(
            steps=tuple(Step.of(s) for s in funnel.steps),
            unit=funnel.unit,
            window_days=funnel.window_days,
            order=funnel.order,
            breakdown=funnel.breakdown,
        )

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.steps]


def step_labels(steps: Iterable[dict[str, Any]]) -> list[str]:
    """The labels of stored steps (a saved funnel's ``steps``)."""
    return [Step.of(s).label for s in steps]
