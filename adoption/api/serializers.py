"""Response serializer of ``sales/adoption-outcome`` (it documents the answer in the OpenAPI schema;
the parameters are the query object's ``Params``)."""

from __future__ import annotations

from rest_framework import serializers

RHO_HELP = (
    "Spearman's rank correlation with revenue across reps, 3 decimals; null under 3 reps or for a constant series."
)


class AdoptionPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class AdoptionRepSerializer(serializers.Serializer):
    rep = serializers.CharField(help_text="The rep's external id.")
    attendance_days = serializers.IntegerField()
    session_minutes = serializers.FloatField(help_text="1 decimal.")
    features_used = serializers.IntegerField()
    interactions = serializers.IntegerField()
    revenue = serializers.CharField(help_text="Won deals closing in the period, 2-decimal string, base currency.")
    deals_won = serializers.IntegerField()
    activities = serializers.IntegerField(help_text="Completed activities in the period.")


class AdoptionSpearmanSerializer(serializers.Serializer):
    attendance_days = serializers.FloatField(allow_null=True, help_text=RHO_HELP)
    session_minutes = serializers.FloatField(allow_null=True, help_text=RHO_HELP)
    features_used = serializers.FloatField(allow_null=True, help_text=RHO_HELP)
    interactions = serializers.FloatField(allow_null=True, help_text=RHO_HELP)


class AdoptionQuartileRepSerializer(serializers.Serializer):
    rep = serializers.CharField(help_text="The rep's external id.")


class AdoptionFeatureGapSerializer(serializers.Serializer):
    feature = serializers.CharField(help_text="The feature's key.")
    top_pct = serializers.FloatField(help_text="Share of the top-quartile reps that used it, 1 decimal.")
    bottom_pct = serializers.FloatField(help_text="Share of the bottom-quartile reps that used it, 1 decimal.")
    gap_pts = serializers.FloatField(help_text="top_pct − bottom_pct, percentage points.")


class AdoptionOutcomeSerializer(serializers.Serializer):
    period = AdoptionPeriodSerializer()
    currency = serializers.CharField(help_text="ISO 4217: the workspace's base currency.")
    reps = AdoptionRepSerializer(many=True, help_text="Every rep, revenue descending, ties by external id.")
    spearman = AdoptionSpearmanSerializer()
    top_quartile = AdoptionQuartileRepSerializer(
        many=True, help_text="Reps with revenue ≥ the ⌈n/4⌉-th highest (ties join), in the order of reps."
    )
    bottom_quartile = AdoptionQuartileRepSerializer(
        many=True, help_text="Reps with revenue ≤ the ⌈n/4⌉-th lowest (ties join), in the order of reps."
    )
    features = AdoptionFeatureGapSerializer(
        many=True,
        help_text="Features used (≥ 1 event in the period) by a top or a bottom rep; largest gap first, ties by key.",
    )
