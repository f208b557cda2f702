"""Response serializers of the Home, Activity, Trends and Hub endpoints (they document the answers in
the OpenAPI schema; the parameters are the query objects' ``Params``)."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


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
    comparable = serializers.BooleanField(
        help_text="False when the previous period starts before the workspace's first event: the changes then compare "
        "with a period the CRM had not fully reported."
    )


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
