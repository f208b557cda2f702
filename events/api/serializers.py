"""Serializers that document the ingestion payloads in the OpenAPI schema.

Validation itself is done by ``events.validation`` (shared with the import commands); these
describe the same shapes for ``/api/v1/schema/``.
"""

from rest_framework import serializers


class EventInSerializer(serializers.Serializer):
    uuid = serializers.CharField(max_length=64, required=False, help_text="Idempotency key, unique per workspace.")
    user = serializers.CharField(max_length=128, help_text="External id of the CRM user.")
    feature = serializers.CharField(max_length=100)
    action = serializers.CharField(max_length=64)
    detail = serializers.CharField(max_length=128, required=False)
    record_id = serializers.CharField(max_length=128, required=False)
    timestamp = serializers.DateTimeField(help_text="ISO 8601 with offset; at most 1 day in the future.")
    properties = serializers.DictField(required=False, help_text="At most 8 KiB as JSON.")


class EventBatchSerializer(serializers.Serializer):
    events = EventInSerializer(many=True)


class RejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = RejectedSerializer(many=True)


class UserInSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=128)
    email = serializers.EmailField(required=False)
    name = serializers.CharField(required=False)
    language = serializers.CharField(required=False)
    country = serializers.CharField(required=False)
    timezone = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=["active", "inactive", "deactivated"], required=False)
    role = serializers.CharField(required=False)
    created_at = serializers.DateTimeField(required=False)


class UserBatchSerializer(serializers.Serializer):
    users = UserInSerializer(many=True)


class UserBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    rejected = RejectedSerializer(many=True)
