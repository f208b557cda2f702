"""Query and response serializers of the Home, Activity, Trends and Hub endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.queries import (
    MAX_DAYS,
    AsOfQuerySerializer,
    PeriodQuerySerializer,
    RangeQuerySerializer,
    list_param,
    resolve_features,
)
from events.periods import Interval
from events.selectors import UnknownStep, crm_user_find, feature_resolve
from views_home.selectors import DEFAULT_FREQUENCY_BOUNDS, GROUP_BY_ATTRIBUTES, Measure, parse_frequency_bounds


class WeeksQuerySerializer(AsOfQuerySerializer):
    weeks = serializers.IntegerField(required=False, default=5, min_value=1, max_value=104)


class TopUsersQuerySerializer(PeriodQuerySerializer):
    by = serializers.ChoiceField(choices=["interactions", "attendance"], required=False, default="interactions")
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=100)


class ActivityQuerySerializer(PeriodQuerySerializer):
    days = serializers.IntegerField(required=False, default=60, min_value=1, max_value=MAX_DAYS)
    feature = serializers.CharField(required=False, help_text="Feature key(s); repeatable or comma-separated.")
    user = serializers.CharField(required=False, help_text="External id or email of one CRM user.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        workspace = self.context["workspace"]
        keys = list_param(self.initial_data, "feature")
        attrs["features"] = resolve_features(workspace, keys, "feature") if keys else None
        attrs["crm_user"] = None
        if attrs.get("user"):
            try:
                attrs["crm_user"] = crm_user_find(workspace=workspace, query=attrs["user"])
            except UnknownStep as exc:
                raise serializers.ValidationError({"user": [str(exc)]}) from None
            if attrs["crm_user"] is None:
                raise serializers.ValidationError(
                    {"user": [f"No CRM user with external id or email {attrs['user']!r}."]}
                )
        return attrs


class TrendsQuerySerializer(RangeQuerySerializer):
    feature = serializers.CharField(help_text="Feature key.")
    action = serializers.CharField(required=False, default="")
    detail = serializers.CharField(required=False, default="")
    interval = serializers.ChoiceField(choices=[i.value for i in Interval], required=False, default="day")
    measure = serializers.ChoiceField(choices=[m.value for m in Measure], required=False, default="events")
    group_by = serializers.ChoiceField(choices=list(GROUP_BY_ATTRIBUTES), required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        try:
            attrs["feature"] = feature_resolve(
                workspace=self.context["workspace"],
                key=attrs["feature"],
                action=attrs["action"],
                detail=attrs["detail"],
            )
        except UnknownStep as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        attrs["interval"], attrs["measure"] = Interval(attrs["interval"]), Measure(attrs["measure"])
        return attrs


class PopularityQuerySerializer(RangeQuerySerializer):
    features = serializers.CharField(required=False, help_text="Feature keys; repeatable or comma-separated.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        keys = list_param(self.initial_data, "features")
        attrs["features"] = resolve_features(self.context["workspace"], keys, "features") if keys else None
        return attrs


class FrequencyQuerySerializer(RangeQuerySerializer):
    feature = serializers.CharField(help_text="Feature key.")
    buckets = serializers.CharField(
        required=False,
        default=",".join(map(str, DEFAULT_FREQUENCY_BOUNDS)),
        help_text="Ascending lower bounds, comma-separated (default 1,11,101).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["feature"] = resolve_features(self.context["workspace"], [attrs["feature"]], "feature")[0]
        try:
            attrs["bounds"] = parse_frequency_bounds(attrs["buckets"])
        except ValueError as exc:
            raise serializers.ValidationError({"buckets": [str(exc)]}) from None
        return attrs


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


class DayValueSerializer(serializers.Serializer):
    date = serializers.DateField()
    interactions = serializers.IntegerField()


class FeatureActivitySerializer(serializers.Serializer):
    feature = serializers.CharField()
    interactions = serializers.IntegerField()
    series = DayValueSerializer(many=True)


class ActivitySerializer(serializers.Serializer):
    features = FeatureActivitySerializer(many=True)


class TrendPointSerializer(serializers.Serializer):
    bucket = serializers.DateField()
    value = serializers.IntegerField()


class TrendSeriesSerializer(serializers.Serializer):
    group = serializers.CharField(allow_null=True)
    points = TrendPointSerializer(many=True)


class TrendsSerializer(serializers.Serializer):
    interval = serializers.CharField()
    measure = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    series = TrendSeriesSerializer(many=True)


class PopularitySerializer(serializers.Serializer):
    features = inline_serializer(
        name="FeaturePopularity",
        many=True,
        fields={
            "feature": serializers.CharField(),
            "users": serializers.IntegerField(),
            "interactions": serializers.IntegerField(),
        },
    )


class FrequencySerializer(serializers.Serializer):
    feature = serializers.CharField()
    buckets = inline_serializer(
        name="FrequencyBucket",
        many=True,
        fields={
            "min": serializers.IntegerField(),
            "max": serializers.IntegerField(allow_null=True),
            "users": serializers.IntegerField(),
        },
    )
