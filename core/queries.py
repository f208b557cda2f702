"""Query-parameter serializers shared by every read endpoint: user filters, an as-of period, a
date range, list parameters. Each validates with the shared rules (events.periods, events.filters)
and answers 400 naming the field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from rest_framework import serializers

from events.filters import user_filters_from
from events.periods import EARLIEST_DATE, LATEST_DATE, MAX_RANGE_DAYS, RangeError, period_between
from events.selectors import UnknownStep, feature_resolve

MAX_DAYS = MAX_RANGE_DAYS


class UserFilterQuerySerializer(serializers.Serializer):
    """The user-attribute filters every read endpoint accepts, validated by the shared FilterSet."""

    language = serializers.CharField(required=False, help_text="Repeatable or comma-separated.")
    country = serializers.CharField(required=False, help_text="Repeatable or comma-separated.")
    timezone = serializers.CharField(required=False, help_text="Repeatable or comma-separated.")
    status = serializers.CharField(required=False, help_text="active, inactive, deactivated; repeatable.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["filters"] = user_filters_from(self.initial_data)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None
        for key in ("language", "country", "timezone", "status"):
            attrs.pop(key, None)
        return attrs


class AsOfQuerySerializer(UserFilterQuerySerializer):
    as_of = serializers.DateField(required=False, help_text="YYYY-MM-DD in the workspace time zone; default today.")

    def validate_as_of(self, value: date | None) -> date | None:
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise serializers.ValidationError(f"Must be between {EARLIEST_DATE} and {LATEST_DATE}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if attrs.get("as_of") is None:
            attrs["as_of"] = self.context["workspace"].today()
        return attrs


class PeriodQuerySerializer(AsOfQuerySerializer):
    days = serializers.IntegerField(required=False, default=30, min_value=1, max_value=MAX_DAYS)


def list_param(data: Any, name: str) -> list[str]:
    """A repeated and/or comma-separated query parameter as a list (``f=A&f=B`` or ``f=A,B``)."""
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)] if data.get(name) else []
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def resolve_features(workspace: Any, keys: list[str], field: str) -> list[Any]:
    try:
        return [feature_resolve(workspace=workspace, key=key) for key in keys]
    except UnknownStep as exc:
        raise serializers.ValidationError({field: [str(exc)]}) from None


class RangeQuerySerializer(UserFilterQuerySerializer):
    start = serializers.DateField(required=False, help_text="YYYY-MM-DD, workspace time zone; default end − 29 days.")
    end = serializers.DateField(required=False, help_text="YYYY-MM-DD, inclusive; default today.")

    def _in_calendar(self, value: date | None) -> date | None:
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise serializers.ValidationError(f"Must be between {EARLIEST_DATE} and {LATEST_DATE}.")
        return value

    validate_start = validate_end = _in_calendar

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        workspace = self.context["workspace"]
        end = attrs.get("end") or workspace.today()
        start = attrs.get("start") or end - timedelta(days=29)
        try:
            attrs["period"] = period_between(start, end, workspace.tzinfo)
        except RangeError as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs
