"""The queries of the Funnels tab and the checks of a funnel definition (``core.queries`` explains the
shape): one validation stack for the API, the builder, its preview and a saved funnel's page.

- ``DefinitionParams``: steps (2 to 10, each checked against the feature catalog), unit, window,
  order, breakdown and user filters (docs/api.md#saved-funnels). ``SavedFunnelParams`` adds what a
  saved funnel has besides (name, saved range, visibility); ``funnels.api.serializers.FunnelSerializer``
  is built on it, and the builder saves with it (``saved_funnel_values``).
- ``FunnelQuery``: an ad-hoc definition over a range (``funnels/query``, the builder's preview).
- ``FunnelResultsQuery``: a saved funnel over its saved range, or another period or other user filters
  (its page, its chart, ``funnels/<id>/results`` and their CSV). Parsed for one funnel:
  ``FunnelResultsQuery.parse(data, workspace=…, funnel=funnel)``.

Every bad input is a 400 naming its field: ``steps`` (fewer than 2 or more than 10) or, per step,
``{"steps": {"1": {"action": ["No 'x' action was seen for Leads."]}}}`` (by step index: ``QueryInvalid.detail``); ``window_days`` (1 to 365); ``unit``, ``order``, ``visibility``, ``breakdown``
(unknown value); ``start``/``end`` (missing, not a date, start after end, more than two years);
``filters`` or the attribute (``status``…).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.attributes import GROUP_BY_ATTRIBUTES
from core.queries import DateParam, PeriodParams, PeriodPick, PeriodQuery, QueryInvalid
from events.filters import USER_FILTER_FIELDS, user_filters_from
from events.periods import EARLIEST_DATE, LATEST_DATE, MAX_RANGE_DAYS, Interval, RangeError, period_between
from events.selectors import UnknownStep, feature_resolve
from funnels.definition import Exclusion, FunnelSpec, Step
from funnels.models import (
    DEFAULT_RANGE_DAYS,
    DEFAULT_WINDOW_DAYS,
    MAX_EXCLUSIONS,
    MAX_STEPS,
    MAX_WINDOW_DAYS,
    MIN_STEPS,
    Funnel,
    Order,
    Unit,
    Visibility,
    exclusion_problem,
)

UserFilters = dict[str, list[str]]


# --- the definition --------------------------------------------------------------------------------------


class StepParams(serializers.Serializer):
    feature = serializers.CharField(max_length=100, help_text="Feature key, e.g. Leads.")
    action = serializers.CharField(max_length=64, help_text="e.g. create, view, convert.")
    detail = serializers.CharField(
        max_length=128, required=False, allow_blank=True, allow_null=True, default="", help_text="Optional."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["detail"] = attrs.get("detail") or ""
        try:
            feature_resolve(
                workspace=self.context["workspace"],
                key=attrs["feature"],
                action=attrs["action"],
                detail=attrs["detail"],
            )
        except UnknownStep as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


class ExclusionParams(serializers.Serializer):
    """An exclusion step (docs/metrics.md#exclusion-steps): checked against the catalog and the
    steps by ``DefinitionParams.validate``, which knows the steps."""

    feature = serializers.CharField(max_length=100, help_text="Feature key.")
    action = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True, default="", help_text="Empty: any action."
    )
    detail = serializers.CharField(
        max_length=128, required=False, allow_blank=True, allow_null=True, default="", help_text="Empty: any detail."
    )
    between = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_STEPS),
        min_length=2,
        max_length=2,
        help_text="[a, b]: an excluded event from step a's time to step b's (or the deadline) voids the attempt.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {**attrs, "action": attrs.get("action") or "", "detail": attrs.get("detail") or ""}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "example": {"country": ["CN", "IN"], "status": ["active"]},
    }
)
class UserFiltersParam(serializers.Field):
    """``{"language"|"country"|"timezone"|"status": [values] or "a,b"}``, checked by the shared FilterSet."""

    default_error_messages = {"invalid": _('Expected an object such as {{"country": ["CN"]}}.')}

    def to_internal_value(self, data: Any) -> UserFilters:
        if data in (None, ""):
            return {}
        if not isinstance(data, dict):
            self.fail("invalid")
        unknown = sorted(str(k) for k in data if k not in USER_FILTER_FIELDS)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown user attribute(s): {', '.join(unknown)}. Use: {', '.join(USER_FILTER_FIELDS)}."
            )
        clean: dict[str, Any] = {}
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
                raise serializers.ValidationError({key: ["Expected a string or a list of strings."]})
            clean[key] = [str(v) for v in values]
        try:
            return user_filters_from(clean)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None

    def to_representation(self, value: Any) -> UserFilters:
        return dict(value or {})


class DefinitionParams(serializers.Serializer):
    """The fields that define what a funnel computes (shared by saved funnels and ad-hoc queries)."""

    steps = StepParams(  # type: ignore[call-arg]  # many=True: a ListSerializer takes these
        many=True, min_length=MIN_STEPS, max_length=MAX_STEPS, help_text="2 to 10 steps, in order."
    )
    unit = serializers.ChoiceField(choices=Unit.choices, default=Unit.USER)
    window_days = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_DAYS, default=DEFAULT_WINDOW_DAYS, help_text="Conversion window, 1 to 365."
    )
    order = serializers.ChoiceField(choices=Order.choices, default=Order.ORDERED)
    exclusions = ExclusionParams(  # type: ignore[call-arg]  # many=True: a ListSerializer takes these
        many=True, required=False, default=list, max_length=MAX_EXCLUSIONS, help_text="Up to 5 exclusion steps."
    )
    breakdown = serializers.CharField(
        allow_blank=True,
        allow_null=True,
        default="",
        help_text=f"A user attribute to break the funnel down by: {', '.join(GROUP_BY_ATTRIBUTES)}.",
    )
    filters = UserFiltersParam(required=False, default=dict, help_text="User filters.")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # ``window`` is accepted for ``window_days`` (docs/metrics.md#units-and-attempts calls it the
        # window); a silent default would be worse than either name.
        if isinstance(data, Mapping) and "window" in data and "window_days" not in data:
            data = {**data, "window_days": data["window"]}
        return super().to_internal_value(data)

    def validate_breakdown(self, value: str | None) -> str:
        if value and value not in GROUP_BY_ATTRIBUTES:
            raise serializers.ValidationError(
                f"Unknown user attribute {value!r}: break down by one of {', '.join(GROUP_BY_ATTRIBUTES)}."
            )
        return value or ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        instance = getattr(self, "instance", None)
        steps = attrs.get("steps", instance.steps if instance is not None else [])
        exclusions = attrs.get("exclusions", instance.exclusions if instance is not None else [])
        problems = {}
        for index, exclusion in enumerate(exclusions or []):
            problem = exclusion_problem(workspace=self.context["workspace"], steps=steps, exclusion=exclusion)
            if problem:  # by index, as a step's messages are
                problems[str(index)] = {problem[0]: [problem[1]]}
        if problems:
            raise serializers.ValidationError({"exclusions": problems})
        return attrs


def definition_of(values: Mapping[str, Any]) -> FunnelSpec:
    """The definition in validated values."""
    return FunnelSpec(
        steps=tuple(Step.of(s) for s in values["steps"]),
        unit=values["unit"],
        window_days=values["window_days"],
        order=values["order"],
        breakdown=values["breakdown"],
        exclusions=tuple(Exclusion.of(e) for e in values.get("exclusions") or ()),
    )


def _in_calendar(value: date | None) -> date | None:
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(
            _("Must be between %(first)s and %(last)s.") % {"first": EARLIEST_DATE, "last": LATEST_DATE}
        )
    return value


class SavedFunnelParams(DefinitionParams):
    """A saved funnel (docs/api.md#saved-funnels): its definition, name, saved range and visibility."""

    name = serializers.CharField(max_length=200)
    start = DateParam(source="range_start", allow_null=True, help_text="Saved range start; with end.")
    end = DateParam(source="range_end", allow_null=True, help_text="Saved range end.")
    range_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_RANGE_DAYS,
        default=DEFAULT_RANGE_DAYS,
        help_text="Without start and end, the saved range is the last N days ending today.",
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)

    validate_start = validate_end = staticmethod(_in_calendar)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        instance: Funnel | None = self.instance
        start = attrs.get("range_start", instance.range_start if instance else None)
        end = attrs.get("range_end", instance.range_end if instance else None)
        if (start is None) != (end is None):
            missing = "end" if end is None else "start"
            raise serializers.ValidationError(
                {missing: [_("Give both start and end, or neither (the last range_days).")]}
            )
        if start is not None and end is not None:
            try:
                period_between(start, end, self.context["workspace"].tzinfo)
            except RangeError as exc:
                raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


def plain_values(validated: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values as plain JSON-able ones, as a saved funnel stores them (nested OrderedDicts
    become dicts, a missing detail "")."""
    plain = dict(validated)
    if "steps" in plain:
        plain["steps"] = [
            {"feature": s["feature"], "action": s["action"], "detail": s.get("detail") or ""} for s in plain["steps"]
        ]
    if "exclusions" in plain:
        plain["exclusions"] = [Exclusion.of(e).as_dict() for e in plain["exclusions"] or ()]
    if "filters" in plain:
        plain["filters"] = {k: list(v) for k, v in (plain["filters"] or {}).items()}
    return plain


def saved_funnel_values(data: Any, *, workspace: Any, instance: Funnel | None = None) -> dict[str, Any]:
    """A saved funnel's values from ``data`` (the builder's payload), checked as the API checks them;
    ``QueryInvalid`` if they are not valid."""
    params = SavedFunnelParams(instance=instance, data=data, context={"workspace": workspace})
    if not params.is_valid():
        raise QueryInvalid(params.errors)
    return plain_values(params.validated_data)


# --- the range ----------------------------------------------------------------------------------------------


class FunnelPeriodParams(PeriodParams):
    """A funnel's range, asked for as every period is (a preset, ``as_of`` + ``days``, ``start`` +
    ``end``: docs/api.md#periods), except that ``start`` and ``end`` go together."""

    default_days = DEFAULT_RANGE_DAYS
    period_style = "range"

    def pick_period(self, attrs: dict[str, Any]) -> PeriodPick:
        dates = [name for name in ("start", "end") if attrs.get(name) is not None]
        other = bool(attrs.get("period") or attrs.get("as_of")) or attrs.get("days") is not None
        if not other and len(dates) < 2:
            return self.without_dates([name for name in ("start", "end") if name not in dates])
        return super().pick_period(attrs)

    def without_dates(self, missing: list[str]) -> PeriodPick:
        """The period when ``start`` and/or ``end`` (``missing``) were not given, nor another way."""
        required = serializers.Field.default_error_messages["required"]
        raise serializers.ValidationError({name: [required] for name in missing})


# --- what to show of a funnel --------------------------------------------------------------------------------

VIEWS = ("steps", "time_to_convert", "trends")
PEOPLE_STATUSES = ("reached", "dropped")


@dataclass(frozen=True)
class PeopleAt:
    """The units at a step: those that reached it (level ≥ step) or dropped there (level = step − 1)."""

    step: int
    status: str = "reached"

    def encode(self) -> str:
        return f"{self.step}:{self.status}"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "example": "2:dropped"},
            {"type": "object", "properties": {"step": {"type": "integer"}, "status": {"enum": list(PEOPLE_STATUSES)}}},
        ]
    }
)
class PeopleParam(serializers.Field):
    """``{"step": k, "status": "reached"|"dropped"}``, or ``k:reached`` in a URL."""

    default_error_messages = {
        "invalid": _('Expected {{"step": k, "status": "reached" or "dropped"}}, or k:reached / k:dropped.')
    }

    def to_internal_value(self, data: Any) -> PeopleAt | None:
        if data in (None, ""):
            return None
        if isinstance(data, str):
            text_step, _colon, text_status = data.partition(":")
            data = {"step": text_step, "status": text_status or "reached"}
        if not isinstance(data, Mapping):
            self.fail("invalid")
        raw_step, status = data.get("step"), data.get("status") or "reached"
        try:
            number = int(str(raw_step))
        except ValueError:
            self.fail("invalid")
        if status not in PEOPLE_STATUSES or isinstance(raw_step, bool):
            self.fail("invalid")
        return PeopleAt(number, str(status))

    def to_representation(self, value: Any) -> Any:
        return value.encode() if isinstance(value, PeopleAt) else value


class FunnelViewParams(serializers.Serializer):
    """What to show of a funnel (docs/api.md#funnel-views): the steps, the time to convert between
    two steps, conversion over time, or the people at a step. Checked against the number of steps
    by ``check_view``."""

    view = serializers.ChoiceField(choices=VIEWS, default="steps")
    from_step = serializers.IntegerField(min_value=1, max_value=MAX_STEPS, required=False, help_text="Default 1.")
    to_step = serializers.IntegerField(
        min_value=2, max_value=MAX_STEPS, required=False, help_text="Default the last step."
    )
    interval = serializers.ChoiceField(choices=[i.value for i in Interval], default=Interval.WEEK.value)
    people = PeopleParam(required=False, allow_null=True, help_text="k:reached or k:dropped; answers the units.")


def check_view(attrs: dict[str, Any], n: int) -> None:
    """The view's steps against a funnel of ``n`` steps; a 400 naming the parameter otherwise."""
    a, b = attrs.get("from_step") or 1, attrs.get("to_step") or n
    if b > n:
        raise serializers.ValidationError({"to_step": [_("This funnel has %(n)d steps.") % {"n": n}]})
    if a >= b:
        raise serializers.ValidationError({"from_step": [_("Give a step before to_step (%(b)d).") % {"b": b}]})
    attrs["from_step"], attrs["to_step"] = a, b
    people: PeopleAt | None = attrs.get("people")
    if people is not None:
        if not 1 <= people.step <= n:
            raise serializers.ValidationError({"people": [_("Give a step from 1 to %(n)d.") % {"n": n}]})
        if people.step == 1 and people.status == "dropped":
            raise serializers.ValidationError({"people": [_("Nobody drops at step 1: it is where units enter.")]})


@dataclass(frozen=True, kw_only=True)
class FunnelView:
    """The view options a funnel query carries (``FunnelViewParams``)."""

    view: str = "steps"
    from_step: int = 1
    to_step: int | None = None  # None: the last step
    interval: str = Interval.WEEK.value
    people: PeopleAt | None = None


# --- an ad-hoc funnel ---------------------------------------------------------------------------------------


class FunnelQueryParams(DefinitionParams, FunnelViewParams, FunnelPeriodParams):
    """``funnels/query``: a definition, its range (required) and user filters, in ``filters`` or at
    the top level of the body (merged; docs/api.md#funnel-query)."""

    name = serializers.CharField(required=False, allow_blank=True, help_text="Ignored; allowed for convenience.")
    visibility = serializers.CharField(required=False, help_text="Ignored (private or workspace).")

    def validate_visibility(self, value: str) -> str:
        if value not in Visibility.values:
            raise serializers.ValidationError(
                f"{value!r} is not a valid choice: use one of {', '.join(Visibility.values)}."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        in_filters = attrs.pop("filters", {})
        attrs = super().validate(attrs)  # the range, and the user filters at the top level
        attrs["filters"] = {**in_filters, **attrs["filters"]}
        attrs["definition"] = definition_of(attrs)
        check_view(attrs, len(attrs["definition"].steps))
        return attrs


@dataclass(frozen=True, kw_only=True)
class FunnelQuery(FunnelView, PeriodQuery):
    """A funnel definition over a range, and what to show of it: what ``funnels.selectors``
    computes."""

    Params: ClassVar[type[serializers.Serializer]] = FunnelQueryParams

    definition: FunnelSpec

    @property
    def convert_steps(self) -> tuple[int, int]:
        """The time to convert's steps: ``from_step`` → ``to_step`` (default the last)."""
        return self.from_step, self.to_step or len(self.definition.steps)


# --- a saved funnel's results ---------------------------------------------------------------------------------


class FunnelResultsParams(FunnelViewParams, FunnelPeriodParams):
    """``funnels/<id>/results`` and the funnel's page: its saved range, or another period; user filters
    given here replace the saved funnel's filter of the same attribute and keep the others."""

    @property
    def saved(self) -> Funnel:
        """The saved funnel, from the context (``FunnelResultsQuery.parse(…, funnel=…)``)."""
        funnel: Funnel = self.context["funnel"]
        return funnel

    def without_dates(self, missing: list[str]) -> PeriodPick:
        if len(missing) == 1:
            message = _("Give both start and end, or neither (the saved range).")
            raise serializers.ValidationError({missing[0]: [message]})
        return PeriodPick(self.saved.default_period(), None, "range")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["filters"] = {**(self.saved.filters or {}), **attrs["filters"]}
        attrs["funnel"] = self.saved
        check_view(attrs, len(self.saved.steps))
        return attrs


def _normal(filters: Mapping[str, list[str]] | None) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in sorted((filters or {}).items()) if v}


@dataclass(frozen=True, kw_only=True)
class FunnelResultsQuery(FunnelView, PeriodQuery):
    """A saved funnel over a period, for user filters (its own, or others)."""

    Params: ClassVar[type[serializers.Serializer]] = FunnelResultsParams

    funnel: Funnel

    @property
    def saved_range(self) -> bool:
        saved = self.funnel.default_period()
        return (self.period.start, self.period.end) == (saved.start, saved.end)

    @property
    def custom(self) -> bool:
        """Whether this asks for something else than the saved range and filters, which is then
        computed on demand instead of read from the precomputed result."""
        return not self.saved_range or _normal(self.filters) != _normal(self.funnel.filters)

    def encode(self) -> dict[str, Any]:
        # Links name a period only when it is not the saved range, which they then keep following.
        period = {} if self.saved_range else super().encode()
        n = len(self.funnel.steps)
        views = {
            "from_step": self.from_step if self.from_step != 1 else None,
            "to_step": self.to_step if self.to_step not in (None, n) else None,
            "interval": self.interval if self.interval != Interval.WEEK.value else None,
            "people": self.people.encode() if self.people else None,
        }
        return {**period, **views}

    def computation(self) -> FunnelQuery:
        """The saved definition over this period and these filters."""
        return self.derive(FunnelQuery, definition=FunnelSpec.of(self.funnel))


# --- the builder's fields ----------------------------------------------------------------------------------

STEP_NAME = re.compile(r"^steps-(\d{1,3})-(feature|action|detail)$")
STEP_PARTS = ("feature", "action", "detail")
BUILDER_FIELDS = ("name", "unit", "window_days", "order", "start", "end", "range_days", "breakdown", "visibility")


def builder_steps(data: QueryDict) -> list[dict[str, str]]:
    """The builder's step rows (``steps-<n>-feature|action|detail``), in the order of ``n``."""
    rows: dict[int, dict[str, str]] = {}
    for key in data:
        match = STEP_NAME.match(key)
        if match:
            rows.setdefault(int(match[1]), dict.fromkeys(STEP_PARTS, ""))[match[2]] = data.get(key, "").strip()
    return [rows[n] for n in sorted(rows)]


EXCLUSION_NAME = re.compile(r"^exclusions-(\d{1,2})-(feature|action|detail|from|to)$")
EXCLUSION_PARTS = ("feature", "action", "detail", "from", "to")


def builder_exclusion_rows(data: QueryDict) -> list[dict[str, str]]:
    """The builder's exclusion rows (``exclusions-<n>-feature|action|detail|from|to``), in the order
    of ``n``, blank ones too (a blank row is one to fill in)."""
    rows: dict[int, dict[str, str]] = {}
    for key in data:
        match = EXCLUSION_NAME.match(key)
        if match:
            rows.setdefault(int(match[1]), dict.fromkeys(EXCLUSION_PARTS, ""))[match[2]] = data.get(key, "").strip()
    return [rows[n] for n in sorted(rows)]


def builder_exclusions(data: QueryDict) -> list[dict[str, Any]]:
    """The exclusion rows with a feature, as the API's ``exclusions`` (their messages then come back
    by index among these, as the form numbers its filled rows first)."""
    return [
        {
            "feature": row["feature"],
            "action": row["action"],
            "detail": row["detail"],
            "between": [row["from"] or "1", row["to"] or "2"],
        }
        for row in builder_exclusion_rows(data)
        if row["feature"]
    ]


def builder_payload(data: QueryDict, steps: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The builder's fields as the API's body (docs/api.md#saved-funnels), defaults filled in."""
    raw = {key: data.get(key, "").strip() for key in BUILDER_FIELDS}
    return {
        "name": raw["name"],
        "steps": builder_steps(data) if steps is None else steps,
        "exclusions": builder_exclusions(data),
        "unit": raw["unit"] or Unit.USER,
        "window_days": raw["window_days"] or DEFAULT_WINDOW_DAYS,
        "order": raw["order"] or Order.ORDERED,
        "breakdown": raw["breakdown"],
        "visibility": raw["visibility"] or Visibility.PRIVATE,
        "start": raw["start"] or None,
        "end": raw["end"] or None,
        "range_days": raw["range_days"] or DEFAULT_RANGE_DAYS,
        "filters": {name: data.getlist(name) for name in USER_FILTER_FIELDS if data.getlist(name)},
    }


def preview_payload(data: QueryDict) -> dict[str, Any]:
    """The builder's fields as ``funnels/query``'s body, over the range the saved funnel would use:
    its dates, or the last ``range_days`` days ending today."""
    payload = builder_payload(data)
    days = payload.pop("range_days")
    if payload["start"] is None and payload["end"] is None:
        payload["days"] = days
    # A date left empty is one not given (the API's answer names it), not a null one.
    return {key: value for key, value in payload.items() if value is not None}
