"""Response serializers of the Behaviour endpoints (they document the answers in the OpenAPI schema;
the parameters are the query objects' ``Params``)."""

from __future__ import annotations

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


class HeatmapCellSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="ISO weekday: Monday = 1 … Sunday = 7.")
    hour = serializers.IntegerField(help_text="Local hour, 0–23.")
    events = serializers.IntegerField()
    failures = serializers.IntegerField()
    failure_rate_pct = serializers.FloatField(
        allow_null=True, help_text="Failures / events with a known outcome × 100; null when none is known."
    )


class HeatmapSerializer(serializers.Serializer):
    cells = HeatmapCellSerializer(many=True, help_text="All 168 cells, Monday 0:00 first.")


class FeatureFailuresSerializer(serializers.Serializer):
    feature = serializers.CharField()
    action = serializers.CharField()
    events = serializers.IntegerField()
    known_outcome = serializers.IntegerField()
    failures = serializers.IntegerField()
    failure_rate_pct = serializers.FloatField(allow_null=True)
    median_duration_ms = serializers.IntegerField(allow_null=True)
    p90_duration_ms = serializers.IntegerField(allow_null=True)


class FailuresSerializer(serializers.Serializer):
    features = FeatureFailuresSerializer(many=True, help_text="Most failures first, then feature and action.")
    durations = serializers.ChoiceField(
        choices=["exact", "histogram"],
        help_text="histogram: the percentiles come from day histograms, within 5 % (no user filter); exact: from "
        "the filtered users' events.",
    )


class RetentionValueSerializer(serializers.Serializer):
    offset = serializers.IntegerField()
    users = serializers.IntegerField(allow_null=True, help_text="null: the interval starts after today.")
    pct = serializers.FloatField(allow_null=True)


class CohortSerializer(serializers.Serializer):
    start = serializers.DateField()
    size = serializers.IntegerField()
    values = RetentionValueSerializer(many=True)


class RetentionSerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=["day", "week", "month"])
    cohorts = CohortSerializer(many=True, help_text="Oldest cohort first.")


class LifecycleBucketSerializer(serializers.Serializer):
    bucket = serializers.DateField()
    new = serializers.IntegerField()
    returning = serializers.IntegerField()
    resurrecting = serializers.IntegerField()
    dormant = serializers.IntegerField(help_text="Active in the interval before, not in this one.")


class LifecycleSerializer(serializers.Serializer):
    interval = serializers.ChoiceField(choices=["day", "week", "month"])
    buckets = LifecycleBucketSerializer(many=True)


class StickinessCountSerializer(serializers.Serializer):
    active_days = serializers.IntegerField()
    users = serializers.IntegerField()


class StickinessSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    counts = StickinessCountSerializer(many=True, help_text="k = 1 … days.")
    dau_mau = serializers.FloatField(allow_null=True)


class AnomalySerializer(serializers.Serializer):
    date = serializers.DateField()
    feature = serializers.CharField(allow_null=True, help_text="null: the workspace total.")
    value = serializers.IntegerField()
    median = serializers.FloatField(help_text="The median of the 28 days before.")
    z = serializers.FloatField(allow_null=True, help_text="Robust z-score, 2 decimals; null when the baseline is flat.")
    direction = serializers.ChoiceField(choices=["spike", "drop"])


class AnomaliesSerializer(serializers.Serializer):
    anomalies = AnomalySerializer(many=True, help_text="By date, then |z| descending.")


class FindingSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    examples = serializers.ListField(child=serializers.DictField(), help_text="At most 10, to act on.")


class FeatureToReviewSerializer(serializers.Serializer):
    feature = serializers.CharField()
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    actions = serializers.IntegerField(help_text="Distinct actions seen with it.")


class DataQualitySerializer(serializers.Serializer):
    suspected_duplicates = FindingSerializer(help_text="Events ≤ 1 s after the same user·feature·action·detail·record.")
    short_sessions = FindingSerializer(help_text="Sessions shorter than 10 s (one-event sessions included).")
    long_sessions = FindingSerializer(help_text="Sessions longer than 24 h.")
    late_events = FindingSerializer(help_text="Received more than 24 h after they happened.")
    future_events = FindingSerializer(help_text="Happened more than 5 min after they were received.")
    users_never_seen = FindingSerializer(help_text="Not deactivated, and no event ever.")
    features_to_review = FeatureToReviewSerializer(many=True, help_text="Created by an unknown key in an event.")


class PathNodeSerializer(serializers.Serializer):
    step = serializers.IntegerField(help_text="From 1.")
    node = serializers.CharField()
    sessions = serializers.IntegerField()
    dropoff = serializers.IntegerField(help_text="Sessions whose path ends at this node.")


# A field called "source" would shadow Field.source on a declared class: built inline.
PathEdgeSerializer = type(
    inline_serializer(
        name="PathEdge",
        fields={
            "step": serializers.IntegerField(help_text="The source's step; the target is at step + 1."),
            "source": serializers.CharField(),
            "target": serializers.CharField(),
            "sessions": serializers.IntegerField(),
        },
    )
)


class PathsSerializer(serializers.Serializer):
    sessions = serializers.IntegerField(help_text="Sessions counted (with a path, after start and end points).")
    nodes = PathNodeSerializer(many=True, help_text="Every node, by step.")
    edges = PathEdgeSerializer(many=True, help_text="Most sessions first (ties: step, source, target); at most limit.")


class PathUserSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    sessions = serializers.IntegerField(help_text="The user's sessions behind the node or edge.")


class PathUsersSerializer(serializers.Serializer):
    users = PathUserSerializer(many=True, help_text="Most sessions first.")
