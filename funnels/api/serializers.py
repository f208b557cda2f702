"""Serializers of the funnel endpoints: the definition (checked against the feature catalog), the
saved funnel, the ad-hoc query, the results.

Every bad input is a 400 naming its field: ``steps`` (fewer than 2 or more than 10) or, per step,
``{"steps": {"1": {"action": ["No 'x' action was seen for Leads."]}}}`` (by step index); ``window_days`` (1 to 365);
``unit``, ``order``, ``visibility``, ``breakdown`` (unknown value); ``start``/``end`` (missing, not a
date, start after end, more than two years); ``filters`` or the attribute (``status``…).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from events.filters import USER_FILTER_FIELDS, user_filters_from
from events.periods import EARLIEST_DATE, LATEST_DATE, MAX_RANGE_DAYS, RangeError, period_between
from events.selectors import UnknownStep, feature_resolve
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
from funnels.selectors import funnel_can_edit
from tenancy.scoping import role_of as workspace_role


class FunnelStepSerializer(serializers.Serializer):
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


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "example": {"country": ["CN", "IN"], "status": ["active"]},
    }
)
class UserFiltersField(serializers.Field):
    """``{"language"|"country"|"timezone"|"status": [values] or "a,b"}``, checked by the shared FilterSet."""

    default_error_messages = {"invalid": _('Expected an object such as {{"country": ["CN"]}}.')}

    def to_internal_value(self, data: Any) -> dict[str, list[str]]:
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

    def to_representation(self, value: Any) -> dict[str, list[str]]:
        return dict(value or {})


def _in_calendar(value: date | None) -> date | None:
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(f"Must be between {EARLIEST_DATE} and {LATEST_DATE}.")
    return value


class DefinitionMixin(serializers.Serializer):
    """The fields that define what a funnel computes (shared by saved funnels and ad-hoc queries)."""

    steps = FunnelStepSerializer(  # type: ignore[call-arg]  # many=True: a ListSerializer takes these
        many=True, min_length=MIN_STEPS, max_length=MAX_STEPS, help_text="2 to 10 steps, in order."
    )
    unit = serializers.ChoiceField(choices=Unit.choices, default=Unit.USER)
    window_days = serializers.IntegerField(
        min_value=1, max_value=MAX_WINDOW_DAYS, default=DEFAULT_WINDOW_DAYS, help_text="Conversion window, 1 to 365."
    )
    order = serializers.ChoiceField(choices=Order.choices, default=Order.ORDERED)
    breakdown = serializers.CharField(
        allow_blank=True,
        allow_null=True,
        default="",
        help_text=f"A user attribute to break the funnel down by: {', '.join(BREAKDOWN_ATTRIBUTES)}.",
    )
    filters = UserFiltersField(required=False, default=dict, help_text="User filters.")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # ``window`` is accepted for ``window_days`` (DESIGN.md calls it the window); a silent default
        # would be worse than either name.
        if isinstance(data, Mapping) and "window" in data and "window_days" not in data:
            data = {**data, "window_days": data["window"]}
        return super().to_internal_value(data)

    def validate_breakdown(self, value: str | None) -> str:
        if value and value not in BREAKDOWN_ATTRIBUTES:
            raise serializers.ValidationError(
                f"Unknown user attribute {value!r}: break down by one of {', '.join(BREAKDOWN_ATTRIBUTES)}."
            )
        return value or ""


class FunnelSerializer(DefinitionMixin, serializers.ModelSerializer):
    """A saved funnel (API.md): its definition, default range, visibility and owner."""

    start = serializers.DateField(
        source="range_start", required=False, allow_null=True, help_text="Default range start; with end."
    )
    end = serializers.DateField(source="range_end", required=False, allow_null=True, help_text="Default range end.")
    range_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_RANGE_DAYS,
        default=DEFAULT_RANGE_DAYS,
        help_text="Without start and end, the default range is the last N days ending today.",
    )
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)
    owner = serializers.SerializerMethodField(help_text="Username of the owner.")
    can_edit = serializers.SerializerMethodField(help_text="Whether you may change or delete it.")

    class Meta:
        model = Funnel
        fields = [
            "id",
            "name",
            "steps",
            "unit",
            "window_days",
            "visibility",
            "owner",
            "order",
            "start",
            "end",
            "range_days",
            "filters",
            "breakdown",
            "can_edit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "can_edit", "created_at", "updated_at"]

    validate_start = validate_end = staticmethod(_in_calendar)

    def get_owner(self, obj: Funnel) -> str | None:
        return obj.owner.get_username() if obj.owner else None

    def get_can_edit(self, obj: Funnel) -> bool:
        request = self.context.get("request")
        if request is None:
            return False
        role = self.context.get("role")
        if role is None:
            role = workspace_role(request.user, obj.workspace)
        return funnel_can_edit(funnel=obj, user=request.user, role=role)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: Funnel | None = self.instance
        start = attrs.get("range_start", instance.range_start if instance else None)
        end = attrs.get("range_end", instance.range_end if instance else None)
        if (start is None) != (end is None):
            missing = "end" if end is None else "start"
            raise serializers.ValidationError({missing: ["Give both start and end, or neither (the last range_days)."]})
        if start is not None and end is not None:
            try:
                period_between(start, end, self.context["workspace"].tzinfo)
            except RangeError as exc:
                raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


class FunnelQuerySerializer(DefinitionMixin):
    """``funnels/query``: a funnel definition plus the range and user filters (body or top level)."""

    name = serializers.CharField(required=False, allow_blank=True, help_text="Ignored; allowed for convenience.")
    visibility = serializers.CharField(required=False, help_text="Ignored (private or workspace).")
    start = serializers.DateField(help_text="First local day of the range (attempts start in it).")
    end = serializers.DateField(help_text="Last local day of the range, inclusive.")
    language = serializers.JSONField(required=False, help_text="User filter; list or comma-separated.")
    country = serializers.JSONField(required=False, help_text="User filter; list or comma-separated.")
    timezone = serializers.JSONField(required=False, help_text="User filter; list or comma-separated.")
    status = serializers.JSONField(required=False, help_text="User filter; list or comma-separated.")

    validate_start = validate_end = staticmethod(_in_calendar)

    def validate_visibility(self, value: str) -> str:
        if value not in Visibility.values:
            raise serializers.ValidationError(
                f"{value!r} is not a valid choice: use one of {', '.join(Visibility.values)}."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["period"] = period_between(attrs["start"], attrs["end"], self.context["workspace"].tzinfo)
        except RangeError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        top_level = {k: attrs.pop(k) for k in USER_FILTER_FIELDS if k in attrs and attrs[k] not in (None, "", [])}
        if top_level:
            attrs["filters"] = {**attrs.get("filters", {}), **UserFiltersField().run_validation(top_level)}
        return attrs


class ResultsQuerySerializer(serializers.Serializer):
    """``funnels/<id>/results``: another range than the default one, other user filters."""

    start = serializers.DateField(required=False, help_text="With end: compute over this range (not cached).")
    end = serializers.DateField(required=False, help_text="Last local day, inclusive.")
    language = serializers.CharField(required=False, help_text="Replaces the funnel's filter; repeatable.")
    country = serializers.CharField(required=False, help_text="Replaces the funnel's filter; repeatable.")
    timezone = serializers.CharField(required=False, help_text="Replaces the funnel's filter; repeatable.")
    status = serializers.CharField(required=False, help_text="Replaces the funnel's filter; repeatable.")

    validate_start = validate_end = staticmethod(_in_calendar)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            missing = "end" if end is None else "start"
            raise serializers.ValidationError({missing: ["Give both start and end, or neither (the saved range)."]})
        attrs["period"] = None
        if start is not None and end is not None:
            try:
                attrs["period"] = period_between(start, end, self.context["workspace"].tzinfo)
            except RangeError as exc:
                raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        try:
            attrs["filters"] = user_filters_from(self.initial_data)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None
        return attrs


class FunnelStepResultSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    count = serializers.IntegerField()
    conversion_pct = serializers.FloatField(allow_null=True)
    dropoff_pct = serializers.FloatField(allow_null=True)
    median_seconds_from_previous = serializers.FloatField(allow_null=True)


class FunnelGroupResultSerializer(serializers.Serializer):
    group = serializers.CharField()
    steps = FunnelStepResultSerializer(many=True)


class FunnelRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class FunnelResultsSerializer(serializers.Serializer):
    steps = FunnelStepResultSerializer(many=True)
    breakdown = FunnelGroupResultSerializer(many=True)
    range = FunnelRangeSerializer(help_text="The range the attempts started in.")
    computed_at = serializers.DateTimeField(help_text="When these figures were computed.")
    cached = serializers.BooleanField(help_text="Whether they come from the precomputed result.")
