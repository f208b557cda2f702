"""Serializers of the User analysis endpoints: the answers (they document them in the OpenAPI
schema), and ``FilterSetSerializer``, the saved filter sets' CRUD. What a definition may hold and
the parameters of every endpoint are ``useranalysis.queries``'."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.queries import DateParam, WholeNumberParam
from events.periods import MAX_RANGE_DAYS
from useranalysis.models import FilterSet
from useranalysis.queries import ConditionsParams, group_by_param


@extend_schema_field(ConditionsParams)
class ConditionsField(serializers.JSONField):
    """Stored as JSON; validated (and normalised) by ``ConditionsParams``."""

    def to_internal_value(self, data: Any) -> Any:
        conditions = ConditionsParams(data=data, context=self.context)
        conditions.is_valid(raise_exception=True)
        return conditions.validated_data


class FilterSetSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    conditions = ConditionsField(required=False)
    group_by = group_by_param()

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


class FilterSetQueryBodySerializer(serializers.Serializer):
    """The body of ``filter-sets/query``: a definition; ``as_of`` and ``days`` may also be query
    parameters (the body wins). Documentation only: ``FilterSetQuery`` parses it."""

    conditions = ConditionsParams(required=False)
    group_by = group_by_param(default="")
    as_of = DateParam()
    days = WholeNumberParam(min_value=1, max_value=MAX_RANGE_DAYS)


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


class UserEventSerializer(serializers.Serializer):
    uuid = serializers.CharField()
    timestamp = serializers.DateTimeField(help_text="When it happened, in the workspace's time zone (with its offset).")
    feature = serializers.CharField()
    action = serializers.CharField()
    detail = serializers.CharField()
    record_id = serializers.CharField()
    outcome = serializers.CharField(help_text='"success", "failure", or "" (unknown).')
    error_code = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    device = serializers.CharField()
    properties = serializers.DictField(allow_null=True)


class PaginatedUserEventsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = UserEventSerializer(many=True)


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
