"""What a funnel computes besides its range and user filters: its steps, unit, window, order,
exclusion steps and breakdown (docs/metrics.md#funnels). A saved funnel's definition (``FunnelSpec.of``) and an ad-hoc
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
class Exclusion:
    """An exclusion step: an attempt that reached step ``between[0]`` is void when an event matching
    this falls at or after that step's time and at or before step ``between[1]``'s (or the attempt's
    deadline when it did not get there). An empty action or detail matches any."""

    feature: str
    action: str = ""
    detail: str = ""
    between: tuple[int, int] = (1, 2)

    @property
    def label(self) -> str:
        return " · ".join(part for part in (self.feature, self.action, self.detail) if part)

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "action": self.action, "detail": self.detail, "between": list(self.between)}

    @classmethod
    def of(cls, exclusion: dict[str, Any]) -> Exclusion:
        """An exclusion as stored or validated: ``{"feature", "action", "detail", "between": [a, b]}``."""
        a, b = exclusion["between"]
        return cls(exclusion["feature"], exclusion.get("action") or "", exclusion.get("detail") or "", (int(a), int(b)))


@dataclass(frozen=True)
class FunnelSpec:
    """A funnel's definition."""

    steps: tuple[Step, ...]
    unit: str = Unit.USER
    window_days: int = DEFAULT_WINDOW_DAYS
    order: str = Order.ORDERED
    breakdown: str = ""
    exclusions: tuple[Exclusion, ...] = ()

    @classmethod
    def of(cls, funnel: Funnel) -> FunnelSpec:
        return cls(
            steps=tuple(Step.of(s) for s in funnel.steps),
            unit=funnel.unit,
            window_days=funnel.window_days,
            order=funnel.order,
            breakdown=funnel.breakdown,
            exclusions=tuple(Exclusion.of(e) for e in funnel.exclusions or ()),
        )

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.steps]


def step_labels(steps: Iterable[dict[str, Any]]) -> list[str]:
    """The labels of stored steps (a saved funnel's ``steps``)."""
    return [Step.of(s).label for s in steps]
