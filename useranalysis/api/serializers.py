"""Serializers of the User analysis endpoints: the users table and filter sets."""

from __future__ import annotations

from typing import Any

from django import forms
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.legacy import PeriodQuerySerializer
from events.filters import USER_FILTER_FIELDS, user_filters_from
from events.selectors import UnknownStep, feature_resolve
from useranalysis.models import FilterSet
from useranalysis.selectors import (
    ACTIVITY_METRICS,
    GROUP_BY_ATTRIBUTES,
    OPERATORS,
    USER_ATTRIBUTES,
    USER_METRICS,
    ActivityCondition,
    Conditions,
    FeatureCondition,
)

ORDERING_FIELDS = USER_ATTRIBUTES + USER_METRICS
ORDERINGS = [f for field in ORDERING_FIELDS for f in (field, f"-{field}")]


class UsersQuerySerializer(PeriodQuerySerializer):
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False, default="external_id")
    search = serializers.CharField(required=False, help_text="Part of a name, email or external id.")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class ActivityConditionSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=ACTIVITY_METRICS)
    op = serializers.ChoiceField(choices=list(OPERATORS))
    value = serializers.FloatField(min_value=0)


class FeatureConditionSerializer(serializers.Serializer):
    feature = serializers.CharField()
    action = serializers.CharField(required=False, allow_blank=True, default="")
    used = serializers.BooleanField(required=False, default=True)
    min_count = serializers.IntegerField(required=False, default=1, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            feature_resolve(workspace=self.context["workspace"], key=attrs["feature"], action=attrs["action"])
        except UnknownStep as exc:
            raise serializers.ValidationError({exc.field: [str(exc)]}) from None
        return attrs


class ConditionsSerializer(serializers.Serializer):
    """API.md "Filter-set conditions"; every part optional, unknown keys refused."""

    activity = ActivityConditionSerializer(many=True, required=False)
    features = FeatureConditionSerializer(many=True, required=False)
    users = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown condition type."] for key in sorted(unknown)})
        return super().to_internal_value(data)

    def validate_users(self, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - set(USER_FILTER_FIELDS)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown attribute(s): {', '.join(sorted(unknown))}. Use: {', '.join(USER_FILTER_FIELDS)}."
            )
        try:
            return user_filters_from(value)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


def conditions_from(validated: dict[str, Any], workspace: Any) -> Conditions:
    """Validated condition data → the selector's Conditions (features resolved to rows)."""
    features = []
    for c in validated.get("features", []):
        feature = feature_resolve(workspace=workspace, key=c["feature"], action=c["action"])
        features.append(FeatureCondition(feature, c["used"], c["action"], c["min_count"]))
    return Conditions(
        activity=[ActivityCondition(c["metric"], c["op"], c["value"]) for c in validated.get("activity", [])],
        features=features,
        users=validated.get("users", {}),
    )


@extend_schema_field(ConditionsSerializer)
class ConditionsField(serializers.JSONField):
    """Stored as JSON; validated (and normalised) by ConditionsSerializer."""

    def to_internal_value(self, data: Any) -> Any:
        serializer = ConditionsSerializer(data=data, context=self.context)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class FilterSetSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    conditions = ConditionsField(required=False)
    group_by = serializers.ChoiceField(choices=list(GROUP_BY_ATTRIBUTES), required=False, allow_blank=True)

    class Meta:
        model = FilterSet
        fields = [
            "id",
            "name",
            "conditions",
            "group_by",
            "visibility",
            "owner",
            "default_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class FilterSetQuerySerializer(serializers.Serializer):
    """Body of ``filter-sets/query``: a definition; ``as_of``/``days`` may also be query parameters."""

    conditions = ConditionsSerializer(required=False)
    group_by = serializers.ChoiceField(choices=list(GROUP_BY_ATTRIBUTES), required=False, allow_blank=True)
    as_of = serializers.DateField(required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=731)


class UserRowSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    email = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField()
    country = serializers.CharField()
    timezone = serializers.CharField()
    status = serializers.CharField()
    attendance_days = serializers.IntegerField()
    attendance_change_pct = serializers.FloatField(allow_null=True)
    last_seen = serializers.DateTimeField(allow_null=True)
    session_count = serializers.IntegerField()
    session_minutes = serializers.FloatField()
    interactions = serializers.IntegerField()
    features_used = serializers.IntegerField()


class PaginatedUserRowsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = UserRowSerializer(many=True)


class GroupSerializer(serializers.Serializer):
    group = serializers.CharField()
    matched = serializers.IntegerField()
    total = serializers.IntegerField()
    matched_pct = serializers.FloatField(allow_null=True)


class FilterSetResultSerializer(serializers.Serializer):
    total_users = serializers.IntegerField()
    matched = serializers.IntegerField()
    matched_pct = serializers.FloatField(allow_null=True)
    users = UserRowSerializer(many=True)
    groups = GroupSerializer(many=True)
    next = serializers.URLField(
        allow_null=True, help_text="With page or page_size: the next page of matched users (else null)."
    )
    previous = serializers.URLField(allow_null=True, help_text="With page or page_size: the previous page.")
