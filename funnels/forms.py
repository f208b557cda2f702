"""Forms of the Funnels tab.

``FunnelForm`` is the builder. It only parses and renders: the checks are those of the API
(``funnels.api.serializers``), run on the same payload the API would receive, and their messages are
put back next to the fields, so the page and the API never disagree on what is valid. Steps are
rows named ``steps-<n>-feature|action|detail`` (renumbered 0, 1, … in order, any count); the pickers'
options come from the feature catalog (``events.selectors.feature_catalog``), which the page's script
also fetches from ``/api/v1/workspaces/<slug>/features`` to keep the pickers dependent.

The user filters are the Home form's fields (``views_home.forms.HomeQueryForm``): the shared
FilterSet fields with checkboxes listing the values the workspace's users have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from core.legacy import HomeQueryForm
from events.filters import USER_FILTER_FIELDS, user_filter_badges, user_filters_from
from events.periods import RangeError, period_between
from events.selectors import CatalogFeature, feature_catalog
from funnels.api.serializers import FunnelQuerySerializer, FunnelSerializer
from funnels.filters import BREAKDOWN_ATTRIBUTES
from funnels.models import (
    DEFAULT_RANGE_DAYS,
    DEFAULT_WINDOW_DAYS,
    MAX_STEPS,
    MAX_WINDOW_DAYS,
    MIN_STEPS,
    Funnel,
    Order,
    Unit,
    Visibility,
)
from tenancy.models import Workspace

STEP_NAME = re.compile(r"^steps-(\d{1,3})-(feature|action|detail)$")
STEP_PARTS = ("feature", "action", "detail")
STEP_ERROR_NAME = re.compile(r"^steps-(\d+)-(feature|action|detail|row)$")
BREAKDOWN_LABELS = {
    "language": _("Language"),
    "country": _("Country"),
    "timezone": _("Time zone"),
    "status": _("Status"),
    "role": _("Role"),
}


def _query(data: QueryDict | dict[str, Any] | None) -> QueryDict:
    if isinstance(data, QueryDict):
        return data
    query = QueryDict(mutable=True)
    for key, value in (data or {}).items():
        query.setlist(key, [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)])
    return query


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


def _filter_fields(data: QueryDict, workspace: Workspace) -> dict[str, forms.Field]:
    """The user-filter fields of the Home form (checkbox lists of the workspace's values)."""
    home_data = QueryDict(mutable=True)
    for key in USER_FILTER_FIELDS:
        home_data.setlist(key, data.getlist(key))
    home = HomeQueryForm(home_data, workspace=workspace)
    return {name: home.fields[name] for name in USER_FILTER_FIELDS}


def errors_by_name(errors: dict[str, Any]) -> dict[str, list[str]]:
    """The serializer's messages keyed by the HTML name of their field: ``steps-1-action``,
    ``window_days``, ``country``…, ``steps`` for the list as a whole, ``__all__`` for the rest."""
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
        elif key == "filters" and isinstance(value, dict):
            for attribute, messages in value.items():
                put(attribute if attribute in USER_FILTER_FIELDS else "__all__", messages)
        elif key in ("non_field_errors", "filters"):
            put("__all__", value)
        else:
            put({"range_start": "start", "range_end": "end"}.get(key, key), value)
    return result


class FunnelForm(forms.Form):
    """The funnel builder (new funnel, edit, live preview). See the module docstring."""

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
            choices=[("", _("No breakdown")), *((a, BREAKDOWN_LABELS.get(a, a)) for a in BREAKDOWN_ATTRIBUTES)]
        ),
    )
    visibility = forms.CharField(label=_("Visibility"), required=False, widget=forms.Select(choices=Visibility.choices))

    def __init__(
        self,
        data: QueryDict | dict[str, Any] | None = None,
        *,
        workspace: Workspace,
        instance: Funnel | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        self.workspace = workspace
        self.instance = instance
        self.context = {"workspace": workspace, **(context or {})}
        self.catalog: list[CatalogFeature] = feature_catalog(workspace=workspace)
        query = _query(data) if data is not None else self._initial_query(instance)
        super().__init__(query if data is not None else None, initial=self._initial(query))
        self.query = query
        self.fields.update(_filter_fields(query, workspace))
        self.step_values = self._parse_steps(query)
        self.step_errors: dict[int, dict[str, list[str]]] = {}
        self.steps_errors: list[str] = []
        self.validated: dict[str, Any] | None = None

    # --- reading -------------------------------------------------------------------------------------

    @staticmethod
    def _initial_query(instance: Funnel | None) -> QueryDict:
        query = QueryDict(mutable=True)
        if instance is None:
            query.update(
                {
                    "unit": Unit.USER,
                    "window_days": str(DEFAULT_WINDOW_DAYS),
                    "order": Order.ORDERED,
                    "range_days": str(DEFAULT_RANGE_DAYS),
                    "visibility": Visibility.PRIVATE,
                }
            )
            for n in range(MIN_STEPS):
                for part in STEP_PARTS:
                    query[f"steps-{n}-{part}"] = ""
            return query
        values = {
            "name": instance.name,
            "unit": instance.unit,
            "window_days": str(instance.window_days),
            "order": instance.order,
            "start": instance.range_start.isoformat() if instance.range_start else "",
            "end": instance.range_end.isoformat() if instance.range_end else "",
            "range_days": str(instance.range_days),
            "breakdown": instance.breakdown,
            "visibility": instance.visibility,
        }
        query.update(values)
        for n, step in enumerate(instance.steps):
            for part in STEP_PARTS:
                query[f"steps-{n}-{part}"] = str(step.get(part) or "")
        for key, filter_values in (instance.filters or {}).items():
            query.setlist(key, list(filter_values))
        return query

    @staticmethod
    def _initial(query: QueryDict) -> dict[str, Any]:
        return {
            key: query.get(key, "")
            for key in ("name", "unit", "window_days", "order", "start", "end", "range_days", "breakdown", "visibility")
        }

    @staticmethod
    def _parse_steps(query: QueryDict) -> list[dict[str, str]]:
        rows: dict[int, dict[str, str]] = {}
        for key in query:
            match = STEP_NAME.match(key)
            if match:
                rows.setdefault(int(match[1]), dict.fromkeys(STEP_PARTS, ""))[match[2]] = query.get(key, "").strip()
        return [rows[n] for n in sorted(rows)]

    def add_step(self) -> None:
        if len(self.step_values) < MAX_STEPS:
            self.step_values.append(dict.fromkeys(STEP_PARTS, ""))

    def remove_step(self, index: int) -> None:
        if len(self.step_values) > MIN_STEPS and 0 <= index < len(self.step_values):
            del self.step_values[index]

    # --- the payload the API would receive ------------------------------------------------------------

    def payload(self) -> dict[str, Any]:
        raw = {key: self.query.get(key, "").strip() for key in self._initial(self.query)}
        payload: dict[str, Any] = {
            "name": raw["name"],
            "steps": [{part: step[part] for part in STEP_PARTS} for step in self.step_values],
            "unit": raw["unit"] or Unit.USER,
            "window_days": raw["window_days"] or DEFAULT_WINDOW_DAYS,
            "order": raw["order"] or Order.ORDERED,
            "breakdown": raw["breakdown"],
            "visibility": raw["visibility"] or Visibility.PRIVATE,
            "start": raw["start"] or None,
            "end": raw["end"] or None,
            "range_days": raw["range_days"] or DEFAULT_RANGE_DAYS,
            "filters": {name: self.query.getlist(name) for name in USER_FILTER_FIELDS if self.query.getlist(name)},
        }
        return payload

    # --- checking, with the API's serializers ----------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        serializer = FunnelSerializer(instance=self.instance, data=self.payload(), context=self.context)
        if serializer.is_valid():
            self.validated = dict(serializer.validated_data)
        else:
            self._put_errors(serializer.errors)
        return cleaned

    def preview_query(self) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
        """Check the definition as ``funnels/query`` would, over the range the saved funnel would use.

        Returns the validated query (or None) and the errors by HTML field name.
        """
        payload = self.payload()
        if not payload["start"] and not payload["end"]:
            try:
                days = int(payload["range_days"])
            except (TypeError, ValueError):
                return None, {"range_days": [str(_("A whole number is required."))]}
            if not 1 <= days <= 731:
                return None, {"range_days": [str(_("Between 1 and 731 days."))]}
            today = self.workspace.today()
            payload["start"], payload["end"] = (today - timedelta(days=days - 1)).isoformat(), today.isoformat()
        payload.pop("range_days")
        serializer = FunnelQuerySerializer(data=payload, context=self.context)
        if serializer.is_valid():
            return dict(serializer.validated_data), {}
        return None, errors_by_name(serializer.errors)

    def _put_errors(self, errors: dict[str, Any]) -> None:
        """Put the serializer's messages on the form: next to each field, each step's part, or the steps."""
        for name, messages in errors_by_name(errors).items():
            step = STEP_ERROR_NAME.match(name)
            if step:
                self.step_errors.setdefault(int(step[1]), {}).setdefault(step[2], []).extend(messages)
            elif name == "steps":
                self.steps_errors.extend(messages)
            else:
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)

    # --- rendering ------------------------------------------------------------------------------------

    @property
    def step_rows(self) -> list[StepRow]:
        features = [(f.key, f.name) for f in self.catalog]
        by_key = {f.key: f for f in self.catalog}
        rows = []
        for index, values in enumerate(self.step_values):
            feature = by_key.get(values["feature"])
            actions = sorted(feature.actions) if feature else []
            details = sorted(d for d in feature.actions.get(values["action"], []) if d) if feature else []
            rows.append(
                StepRow(
                    index=index,
                    feature=values["feature"],
                    action=values["action"],
                    detail=values["detail"],
                    features=features,
                    actions=actions,
                    details=details,
                    errors=self.step_errors.get(index, {}),
                )
            )
        return rows

    @property
    def filter_fields(self) -> list[dict[str, Any]]:
        """The user-filter fields with how many values each has ticked (for the dropdown badges)."""
        return user_filter_badges(self)

    @property
    def can_add_step(self) -> bool:
        return len(self.step_values) < MAX_STEPS

    @property
    def can_remove_step(self) -> bool:
        return len(self.step_values) > MIN_STEPS

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.step_errors or self.steps_errors)


class FunnelRangeForm(forms.Form):
    """The range and user filters of a saved funnel's page (GET); empty means its default range."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )

    def __init__(self, data: QueryDict, *, funnel: Funnel) -> None:
        self.funnel = funnel
        self.default_period = funnel.default_period()
        query = data.copy()
        if not data.get("start") and not data.get("end"):  # show the saved range in the inputs
            query["start"] = self.default_period.start.isoformat()
            query["end"] = self.default_period.end.isoformat()
        if not any(data.getlist(k) for k in USER_FILTER_FIELDS):
            for key, values in (funnel.filters or {}).items():
                query.setlist(key, list(values))
        super().__init__(query)
        self.query_data = query
        self.fields.update(_filter_fields(query, funnel.workspace))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: date | None = cleaned.get("start")
        end: date | None = cleaned.get("end")
        cleaned["period"] = None
        if "start" in self.errors or "end" in self.errors:
            return cleaned
        if (start is None) != (end is None):
            self.add_error("end" if end is None else "start", _("Give both dates, or neither for the saved range."))
        elif start is not None and end is not None:
            try:
                cleaned["period"] = period_between(start, end, self.funnel.workspace.tzinfo)
            except RangeError as exc:
                self.add_error(exc.field, str(exc))
        try:
            cleaned["filters"] = user_filters_from({k: self.query_data.getlist(k) for k in USER_FILTER_FIELDS})
        except forms.ValidationError as exc:
            for key, messages in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
                for message in messages:
                    self.add_error(key if key in self.fields else None, message)
        return cleaned

    @property
    def filter_fields(self) -> list[dict[str, Any]]:
        """The user-filter fields with how many values each has ticked (for the dropdown badges)."""
        return user_filter_badges(self)

    @property
    def is_custom(self) -> bool:
        """Whether the (valid) query asks for something else than the saved range and filters, which
        is then computed on demand instead of read from the precomputed result."""
        period = self.cleaned_data.get("period") or self.default_period
        saved = {k: sorted(v) for k, v in (self.funnel.filters or {}).items() if v}
        asked = {k: sorted(v) for k, v in (self.cleaned_data.get("filters") or {}).items() if v}
        return (period.start, period.end) != (self.default_period.start, self.default_period.end) or saved != asked
