"""Serializers that document the ingestion payloads in the OpenAPI schema.

Validation itself is done by ``events.validation`` (shared with the import commands); these
describe the same shapes for ``/api/v1/schema/``.
"""

from drf_spectacular.utils import inline_serializer
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
    outcome = serializers.ChoiceField(choices=["success", "failure"], required=False)
    error_code = serializers.CharField(max_length=64, required=False, help_text='Only with "outcome": "failure".')
    duration_ms = serializers.IntegerField(
        min_value=0, max_value=86_400_000, required=False, help_text="How long the operation took."
    )
    device = serializers.ChoiceField(choices=["desktop", "mobile", "tablet", "api", "other"], required=False)


class EventBatchSerializer(serializers.Serializer):
    events = EventInSerializer(many=True)


# A field called "errors" would shadow Serializer.errors on a declared class; this serializer only
# documents the response shape, so it is built inline.
_Rejected = type(
    inline_serializer(
        name="Rejected",
        fields={
            "index": serializers.IntegerField(help_text="Position in the batch, from 0."),
            "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        },
    )
)


def rejected_list() -> serializers.BaseSerializer:
    return _Rejected(many=True)


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = rejected_list()


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
    rejected = rejected_list()
