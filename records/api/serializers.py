"""Schema of the records batch endpoint (docs/records.md#ingestion): for the OpenAPI document only;
validation is ``records.validation``."""

from __future__ import annotations

from rest_framework import serializers

from events.api.serializers import UserBatchResultSerializer


class RecordBatchSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=1000,
        help_text=(
            "1–1000 records of the kind in the path, upserted by external_id; only the fields sent are set. "
            "accounts: external_id, name, industry, country, owner, created_at, status, deleted. "
            "products: external_id, name, category, deleted. deals: external_id, account, name, owner, amount, "
            "stage, probability, forecast_category, created_at, close_date, state, line_items "
            "[{product, quantity, amount}], stage_history [{stage, entered_at}], deleted. activities: external_id, "
            "kind, owner, account, deal, occurred_at, completed, deleted. targets: external_id, owner, month "
            "(YYYY-MM), pipeline_target, revenue_quota, deleted."
        ),
    )


class RecordBatchResultSerializer(UserBatchResultSerializer):
    pass
