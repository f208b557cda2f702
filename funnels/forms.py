"""The funnel builder's form: inputs only (``core.forms``). Whether a definition is valid, and what it
means, is ``funnels.queries``': the builder saves with ``saved_funnel_values`` and previews with
``FunnelQuery``, the checks of the API, and this form puts their messages back next to the fields and
the step rows, so the page and the API never disagree on what is valid.

Steps are rows named ``steps-<n>-feature|action|detail`` (renumbered 0, 1, … in order, any count);
the pickers' options come from the feature catalog (``events.selectors.feature_catalog``), which the
page's script also fetches from ``/api/v1/workspaces/<slug>/features`` to keep the pickers dependent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from core.attributes import ATTRIBUTE_LABELS, GROUP_BY_ATTRIBUTES
from core.forms import QueryForm
from events.filters import USER_FILTER_FIELDS
from events.selectors import CatalogFeature, feature_catalog
from funnels.models import MAX_EXCLUSIONS, MAX_STEPS, MAX_WINDOW_DAYS, MIN_STEPS, Funnel, Order, Unit, Visibility
from funnels.queries import EXCLUSION_PARTS, STEP_PARTS, builder_exclusion_rows, builder_steps

STEP_ERROR_NAME = re.compile(r"^steps-(\d+)-(feature|action|detail|row)$")
EXCLUSION_ERROR_NAME = re.compile(r"^exclusions-(\d+)-(feature|action|detail|between|row)$")
# The parameters whose builder field has another name.
FIELD_NAMES = {"range_start": "start", "range_end": "end", "days": "range_days"}


@dataclass
class ExclusionRow:
    """One exclusion step of the builder: what it excludes, between which steps, its errors."""

    index: int
    feature: str
    action: str
    detail: str
    between: tuple[str, str]
    features: list[tuple[str, str]]
    actions: list[str]
    details: list[str]
    steps: list[int]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def name(self, part: str) -> str:
        return f"exclusions-{self.index}-{part}"


@dataclass
class StepRow:
    """One step of the builder with the options of its three pickers and its errors."""

    index: int
    feature: str
    action: str
    detail: str
    features: list[tuple[str, str]]
    actions: list[str]
    details: list[str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return self.index + 1

    def name(self, part: str) -> str:
        return f"steps-{self.index}-{part}"


def errors_by_name(errors: Mapping[str, Any]) -> dict[str, list[str]]:
    """The messages of a definition (as ``QueryInvalid.detail`` gives them) keyed by the HTML
    name of their field: ``steps-1-action``, ``window_days``, ``country``…, ``steps`` for the list as
    a whole, ``__all__`` for the rest."""
    result: dict[str, list[str]] = {}

    def put(name: str, messages: Any) -> None:
        items = messages if isinstance(messages, list) else [messages]
        result.setdefault(name, []).extend(str(m) for m in items)

    for key, value in errors.items():
        if key == "steps" and isinstance(value, dict):
            for index, step_errors in value.items():
                if not str(index).isdigit():  # about the list itself: {"non_field_errors": [...]}
                    put("steps", step_errors)
                    continue
                parts = step_errors.items() if isinstance(step_errors, dict) else [("row", step_errors)]
                for part, messages in parts:
                    put(f"steps-{index}-{part if part in STEP_PARTS else 'row'}", messages)
        elif key == "exclusions" and isinstance(value, dict):
            for index, row_errors in value.items():
                if not str(index).isdigit():
                    put("exclusions", row_errors)
                    continue
                parts = row_errors.items() if isinstance(row_errors, dict) else [("row", row_errors)]
                for part, messages in parts:
                    known = part in ("feature", "action", "detail", "between")
                    put(f"exclusions-{index}-{part if known else 'row'}", messages)
        elif key == "filters" and isinstance(value, dict):
            for attribute, messages in value.items():
                put(attribute if attribute in USER_FILTER_FIELDS else NON_FIELD_ERRORS, messages)
        elif key in ("non_field_errors", "filters"):
            put(NON_FIELD_ERRORS, value)
        else:
            put(FIELD_NAMES.get(key, key), value)
    return result


class FunnelForm(QueryForm):
    """The funnel builder (new funnel, edit, live preview), bound to the builder's fields and showing
    the messages of the definition's checks (``errors``, by field then by step as the API gives them)."""

    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    unit = forms.CharField(
        label=_("Count"),
        required=False,
        widget=forms.Select(choices=Unit.choices),
        help_text=_("Records follows one CRM record (record_id), whoever acts on it."),
    )
    window_days = forms.CharField(
        label=_("Conversion window"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_WINDOW_DAYS, "step": 1, "inputmode": "numeric"}),
        help_text=_("Days from the first step, 1 to 365."),
    )
    order = forms.CharField(label=_("Order"), required=False, widget=forms.Select(choices=Order.choices))
    start = forms.CharField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "placeholder": "YYYY-MM-DD"}),
    )
    end = forms.CharField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date", "placeholder": "YYYY-MM-DD"})
    )
    range_days = forms.CharField(
        label=_("Or the last"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 731, "step": 1, "inputmode": "numeric"}),
        help_text=_("Ending today; used when no dates are set."),
    )
    breakdown = forms.CharField(
        label=_("Break down by"),
        required=False,
        widget=forms.Select(
            choices=[("", _("No breakdown")), *((a, ATTRIBUTE_LABELS.get(a, a)) for a in GROUP_BY_ATTRIBUTES)]
        ),
    )
    visibility = forms.CharField(label=_("Visibility"), required=False, widget=forms.Select(choices=Visibility.choices))

    def __init__(self, data: QueryDict, *, workspace: Any, errors: Mapping[str, Any] | None = None) -> None:
        by_name = errors_by_name(errors or {})
        self.steps_errors: list[str] = by_name.pop("steps", []) + by_name.pop("exclusions", [])
        self.exclusion_errors: dict[int, dict[str, list[str]]] = {}
        for name in [name for name in by_name if EXCLUSION_ERROR_NAME.match(name)]:
            index, part = EXCLUSION_ERROR_NAME.match(name).groups()  # type: ignore[union-attr]
            self.exclusion_errors.setdefault(int(index), {})[part] = by_name.pop(name)
        self.step_errors: dict[int, dict[str, list[str]]] = {}
        for name in [name for name in by_name if STEP_ERROR_NAME.match(name)]:
            index, part = STEP_ERROR_NAME.match(name).groups()  # type: ignore[union-attr]
            self.step_errors.setdefault(int(index), {})[part] = by_name.pop(name)
        known = {*self.base_fields, *USER_FILTER_FIELDS}
        field_errors: dict[str, list[str]] = {}
        for name, messages in by_name.items():  # a message about no field of the form goes above them
            field_errors.setdefault(name if name in known else NON_FIELD_ERRORS, []).extend(messages)
        super().__init__(data, workspace=workspace, errors=field_errors)

    def setup(self) -> None:
        self.catalog: list[CatalogFeature] = feature_catalog(workspace=self.workspace)
        self.step_values = builder_steps(self.data)
        # Filled rows first (the API's messages number them so), then one blank row to fill in.
        rows = builder_exclusion_rows(self.data)
        self.exclusion_values = [r for r in rows if r["feature"]]
        if len(self.exclusion_values) < MAX_EXCLUSIONS:
            self.exclusion_values.append(dict.fromkeys(EXCLUSION_PARTS, ""))

    @staticmethod
    def data_of(funnel: Funnel | None) -> QueryDict:
        """The builder's fields for a saved funnel, or a new one's defaults (the model's; two empty steps)."""
        funnel = funnel or Funnel()
        query = QueryDict(mutable=True)
        query.update(
            {
                "name": funnel.name,
                "unit": funnel.unit,
                "window_days": str(funnel.window_days),
                "order": funnel.order,
                "start": funnel.range_start.isoformat() if funnel.range_start else "",
                "end": funnel.range_end.isoformat() if funnel.range_end else "",
                "range_days": str(funnel.range_days),
                "breakdown": funnel.breakdown,
                "visibility": funnel.visibility,
            }
        )
        for key, values in (funnel.filters or {}).items():
            query.setlist(key, list(values))
        for n, step in enumerate(funnel.steps or [{}] * MIN_STEPS):
            for part in STEP_PARTS:
                query[f"steps-{n}-{part}"] = str(step.get(part) or "")
        for n, exclusion in enumerate(funnel.exclusions or []):
            a, b = exclusion.get("between") or (1, 2)
            values = {**exclusion, "from": a, "to": b}
            for part in EXCLUSION_PARTS:
                query[f"exclusions-{n}-{part}"] = str(values.get(part) or "")
        return query

    def add_exclusion(self) -> None:
        if len(self.exclusion_values) < MAX_EXCLUSIONS:
            self.exclusion_values.append(dict.fromkeys(EXCLUSION_PARTS, ""))

    def pickers(self, values: dict[str, str]) -> dict[str, Any]:
        """A row's chosen feature, action and detail with the options of their pickers: every
        feature, the chosen feature's actions, the chosen action's details."""
        feature = next((f for f in self.catalog if f.key == values["feature"]), None)
        return {
            "feature": values["feature"],
            "action": values["action"],
            "detail": values["detail"],
            "features": [(f.key, f.name) for f in self.catalog],
            "actions": sorted(feature.actions) if feature else [],
            "details": sorted(d for d in feature.actions.get(values["action"], []) if d) if feature else [],
        }

    @property
    def exclusion_rows(self) -> list[ExclusionRow]:
        steps = list(range(1, max(len(self.step_values), MIN_STEPS) + 1))
        return [
            ExclusionRow(
                index=index,
                between=(values["from"] or "1", values["to"] or "2"),
                steps=steps,
                errors=self.exclusion_errors.get(index, {}),
                **self.pickers(values),
            )
            for index, values in enumerate(self.exclusion_values)
        ]

    @property
    def can_add_exclusion(self) -> bool:
        return len(self.exclusion_values) < MAX_EXCLUSIONS

    def add_step(self) -> None:
        if len(self.step_values) < MAX_STEPS:
            self.step_values.append(dict.fromkeys(STEP_PARTS, ""))

    def remove_step(self, index: int) -> None:
        if len(self.step_values) > MIN_STEPS and 0 <= index < len(self.step_values):
            del self.step_values[index]

    @property
    def step_rows(self) -> list[StepRow]:
        return [
            StepRow(index=index, errors=self.step_errors.get(index, {}), **self.pickers(values))
            for index, values in enumerate(self.step_values)
        ]

    @property
    def can_add_step(self) -> bool:
        return len(self.step_values) < MAX_STEPS

    @property
    def can_remove_step(self) -> bool:
        return len(self.step_values) > MIN_STEPS

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.step_errors or self.steps_errors or self.exclusion_errors)
