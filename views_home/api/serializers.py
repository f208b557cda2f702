"""Query and response serializers of the Home endpoints."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from rest_framework import serializers

from events.filters import user_filters_from
from events.periods import EARLIEST_DATE, LATEST_DATE

MAX_DAYS = 731  # two years


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


class WeeksQuerySerializer(AsOfQuerySerializer):
    weeks = serializers.IntegerField(required=False, default=5, min_value=1, max_value=104)


class TopUsersQuerySerializer(PeriodQuerySerializer):
    by = serializers.ChoiceField(choices=["interactions", "attendance"], required=False, default="interactions")
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=100)


class RangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class MetricSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    previous = serializers.IntegerField()
    change_pct = serializers.FloatField(allow_null=True)


class MetricsSerializer(serializers.Serializer):
    interactions = MetricSerializer()
    features_used = MetricSerializer()
    attendance_days = MetricSerializer()
    active_users = MetricSerializer()
    inactive_users = MetricSerializer()


class SummarySerializer(serializers.Serializer):
    period = RangeSerializer()
    previous = RangeSerializer()
    metrics = MetricsSerializer()


class WeekSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    interactions = serializers.IntegerField()


class WeeklySerializer(serializers.Serializer):
    weeks = WeekSerializer(many=True)


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    active_users = serializers.IntegerField()


class CalendarSerializer(serializers.Serializer):
    days = CalendarDaySerializer(many=True)


class TopUserSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    email = serializers.CharField()
    name = serializers.CharField()
    value = serializers.IntegerField()


class TopUsersSerializer(serializers.Serializer):
    users = TopUserSerializer(many=True)
