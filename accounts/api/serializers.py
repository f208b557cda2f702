"""Serializers of the Accounts endpoints: the answers (they document them in the OpenAPI schema) and
``SegmentSerializer``, the saved segments' CRUD. What ``filters`` may hold is the account list's
parameters, checked by ``accounts.queries.segment_filters``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Segment
from accounts.queries import CriteriaParams, segment_filters
from core.queries import QueryInvalid


@extend_schema_field(CriteriaParams)
class FiltersField(serializers.JSONField):
    """Stored as JSON in their saved form; validated as the account list's parameters."""

    def to_internal_value(self, data: Any) -> Any:
        try:
            return segment_filters(self.context["workspace"], data)
        except QueryInvalid as exc:
            raise serializers.ValidationError(exc.detail) from None


class SegmentSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    filters = FiltersField(required=False)

    class Meta:
        model = Segment
        fields = ["id", "name", "filters", "visibility", "owner", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


Amount = serializers.CharField  # "1234.50": 2-decimal strings in the workspace's currency


class OverviewDayRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class OverviewTopAccountSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    revenue = Amount()


class OverviewClosingAccountSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    close_date = serializers.DateField(help_text="The earliest close date of its open deals closing this month.")
    deals = serializers.IntegerField()
    amount = Amount()


class OverviewMonthRevenueSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    revenue = Amount()


class OverviewMonthAccountsSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    accounts = serializers.IntegerField()


class OverviewIndustrySerializer(serializers.Serializer):
    industry = serializers.CharField()
    accounts = serializers.IntegerField()


class OverviewRevenueBandSerializer(serializers.Serializer):
    min = Amount()
    max = Amount(allow_null=True, help_text="Exclusive; null for the last band.")
    accounts = serializers.IntegerField()


class OverviewTopProductSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="The product's external id.")
    name = serializers.CharField()
    amount = Amount()
    quantity = serializers.IntegerField()


class OverviewRisingProductSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="The product's external id.")
    name = serializers.CharField()
    amount = Amount()
    previous = Amount(help_text="Won line amount in the days before the period.")
    increase = Amount()


class OverviewListsFlagSerializer(serializers.Serializer):
    closing_this_month = serializers.BooleanField()


class AccountsOverviewSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    period = OverviewDayRangeSerializer(help_text="The products' period: days ending on as_of.")
    previous = OverviewDayRangeSerializer(help_text="The days before it (rising products).")
    currency = serializers.CharField()
    accounts = serializers.IntegerField()
    revenue_to_date = Amount()
    new_accounts_6m = serializers.IntegerField()
    top_accounts = OverviewTopAccountSerializer(many=True)
    closing_this_month = OverviewClosingAccountSerializer(many=True)
    revenue_by_month = OverviewMonthRevenueSerializer(many=True)
    acquisition = OverviewMonthAccountsSerializer(many=True)
    top_industries = OverviewIndustrySerializer(many=True)
    revenue_bands = OverviewRevenueBandSerializer(many=True)
    top_products = OverviewTopProductSerializer(many=True)
    rising_products = OverviewRisingProductSerializer(many=True)
    truncated = OverviewListsFlagSerializer(help_text="true: the list shows its first 500 rows; CSV has them all.")


class AccountListRowSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    industry = serializers.CharField()
    country = serializers.CharField()
    owner = serializers.CharField(allow_null=True, help_text="The owner's CRM user external id.")
    status = serializers.CharField()
    revenue = Amount(help_text="All won deals.")
    open_pipeline = Amount()
    open_deals = serializers.IntegerField()
    last_activity = serializers.DateField(allow_null=True, help_text="The latest completed activity's day.")
    created = serializers.DateField()
    nps = serializers.FloatField(allow_null=True, help_text="Over all the account's NPS responses; null: none.")
    last_sentiment = serializers.CharField(allow_null=True, help_text="The latest labelled feedback's sentiment.")
    churn_risk = serializers.BooleanField(help_text="The Churn risk rule (suggested segment churn_risk).")


class PaginatedAccountListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AccountListRowSerializer(many=True)


class AccountDealSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    stage = serializers.CharField()
    state = serializers.CharField()
    amount = Amount(allow_null=True, help_text="null: missing.")
    close_date = serializers.DateField(allow_null=True)
    owner = serializers.CharField(allow_null=True)


class AccountProductRowSerializer(serializers.Serializer):
    product = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    amount = Amount()


class AccountDetailSerializer(AccountListRowSerializer):
    won_deals = serializers.IntegerField()
    deals = AccountDealSerializer(many=True)
    products = AccountProductRowSerializer(many=True)


class SuggestedSegmentSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    rule = serializers.CharField()
    accounts = serializers.IntegerField()
    accounts_url = serializers.URLField(help_text="The suggestion's accounts: the list with suggested=<key>.")
