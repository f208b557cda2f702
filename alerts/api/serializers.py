"""The alerts' CRUD (API.md "Alerts"): the rules are ``alerts.queries.AlertDefinition``'s."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from alerts.models import Alert, AlertEvaluation
from alerts.queries import AlertDefinition
from alerts.services import plain_number


class AlertSerializer(AlertDefinition, serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "name",
            "metric",
            "params",
            "condition",
            "op",
            "value",
            "interval",
            "recipients",
            "webhook_url",
            "secret",
            "muted",
            "state",
            "visibility",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["state", "created_at", "updated_at"]

    def to_representation(self, instance: Alert) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["value"] = plain_number(instance.value)
        return data


class HistoryEntrySerializer(serializers.ModelSerializer):
    value = serializers.SerializerMethodField(method_name="value_of")

    class Meta:
        model = AlertEvaluation
        fields = ["at", "state", "value", "notified"]

    def value_of(self, evaluation: AlertEvaluation) -> float | None:
        return plain_number(evaluation.value)


class HistorySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    history = HistoryEntrySerializer(many=True)
