"""Serializers of the funnel endpoints: the saved funnel (its checks are ``funnels.queries``'
``SavedFunnelParams``) and the answers, which document the responses in the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from funnels.models import Funnel
from funnels.queries import SavedFunnelParams


class FunnelSerializer(SavedFunnelParams, serializers.ModelSerializer):
    """A saved funnel (docs/api.md#saved-funnels): its definition, saved range, visibility and owner."""

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
            "exclusions",
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

    def get_owner(self, obj: Funnel) -> str | None:
        return obj.owner.get_username() if obj.owner else None

    def get_can_edit(self, obj: Funnel) -> bool:
        scope = self.context.get("scope")
        return scope is not None and scope.can_edit_saved(obj)


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


class ConvertBinSerializer(serializers.Serializer):
    from_seconds = serializers.IntegerField()
    to_seconds = serializers.IntegerField(help_text="Exclusive, except the last bin's (the window, included).")
    units = serializers.IntegerField()


class FunnelTimeToConvertSerializer(serializers.Serializer):
    view = serializers.CharField(help_text="time_to_convert")
    from_step = serializers.IntegerField()
    to_step = serializers.IntegerField()
    units = serializers.IntegerField(help_text="Units whose best attempt reached to_step.")
    median_seconds = serializers.FloatField(allow_null=True)
    bins = ConvertBinSerializer(many=True)
    range = FunnelRangeSerializer()
    computed_at = serializers.DateTimeField()
    cached = serializers.BooleanField()


class TrendBucketSerializer(serializers.Serializer):
    bucket = serializers.DateField(help_text="The interval's first day.")
    entered = serializers.IntegerField(help_text="Units with an attempt starting in the interval.")
    completed = serializers.IntegerField(help_text="Those whose best such attempt completed the funnel.")
    conversion_pct = serializers.FloatField(allow_null=True)


class FunnelTrendsSerializer(serializers.Serializer):
    view = serializers.CharField(help_text="trends")
    interval = serializers.CharField()
    buckets = TrendBucketSerializer(many=True)
    range = FunnelRangeSerializer()
    computed_at = serializers.DateTimeField()
    cached = serializers.BooleanField()


class StepPersonSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="The CRM user's external id, or the record id.")
    name = serializers.CharField()
    email = serializers.CharField()
    level = serializers.IntegerField(help_text="The last step the unit's best attempt reached.")
    entered_at = serializers.DateTimeField()
    last_step_at = serializers.DateTimeField()


class FunnelPeopleSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = StepPersonSerializer(many=True)


FUNNEL_VIEWS = PolymorphicProxySerializer(
    component_name="FunnelView",
    serializers=[
        FunnelResultsSerializer,
        FunnelTimeToConvertSerializer,
        FunnelTrendsSerializer,
        FunnelPeopleSerializer,
    ],
    resource_type_field_name=None,
)
