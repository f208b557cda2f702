"""Response serializers of the Sales endpoints: they document the answers in the OpenAPI schema (the
parameters are the query objects' ``Params``). Amounts are 2-decimal strings in the workspace's
currency; ``_pct`` 1 decimal, ratios 2; null on a 0 divisor (API.md "Accounts and sales")."""

from __future__ import annotations

from rest_framework import serializers


def money_field(**kwargs: object) -> serializers.CharField:
    return serializers.CharField(help_text='2-decimal string in the workspace\'s currency, e.g. "1234.50".', **kwargs)  # type: ignore[arg-type]


class SalesRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class SalesAmountMetricSerializer(serializers.Serializer):
    value = money_field(allow_null=True)
    previous = money_field(allow_null=True)
    change_pct = serializers.FloatField(allow_null=True)


class SalesCountMetricSerializer(serializers.Serializer):
    value = serializers.IntegerField()
    previous = serializers.IntegerField()
    change_pct = serializers.FloatField(allow_null=True)


class SalesPctMetricSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    change_pct = serializers.FloatField(allow_null=True)


class SalesUnionMetricsSerializer(serializers.Serializer):
    revenue = SalesAmountMetricSerializer()
    deals_won = SalesCountMetricSerializer()
    win_rate_pct = SalesPctMetricSerializer()
    average_deal_size = SalesAmountMetricSerializer()
    open_pipeline = SalesAmountMetricSerializer(help_text="Every open deal now; previous and change_pct are null.")


class SalesDealBaseSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    account = serializers.CharField(help_text="The account's external id.")
    rep = serializers.CharField(allow_null=True, help_text="The owner's external id (null: no owner).")


class SalesTopDealSerializer(SalesDealBaseSerializer):
    amount = money_field()
    close_date = serializers.DateField()


class SalesLeaderboardSerializer(serializers.Serializer):
    rep = serializers.CharField()
    revenue = money_field()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate_pct = serializers.FloatField(allow_null=True)


class SalesUnionSerializer(serializers.Serializer):
    period = SalesRangeSerializer()
    previous = SalesRangeSerializer()
    currency = serializers.CharField()
    metrics = SalesUnionMetricsSerializer()
    top_deals = SalesTopDealSerializer(many=True)
    leaderboard = SalesLeaderboardSerializer(many=True)


class SalesActivityRowSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    rep = serializers.CharField()
    calls = serializers.IntegerField()
    emails = serializers.IntegerField()
    meetings = serializers.IntegerField()
    messages = serializers.IntegerField()


class SalesActivityRepSerializer(serializers.Serializer):
    rep = serializers.CharField()
    calls = serializers.IntegerField()
    emails = serializers.IntegerField()
    meetings = serializers.IntegerField()
    messages = serializers.IntegerField()
    won_deals = serializers.IntegerField()
    meetings_per_won_deal = serializers.FloatField(allow_null=True)


class SalesActivitySerializer(serializers.Serializer):
    rows = SalesActivityRowSerializer(many=True)
    reps = SalesActivityRepSerializer(many=True)


class SalesTotalSerializer(serializers.Serializer):
    deals = serializers.IntegerField()
    amount = money_field()
    weighted = money_field()


class SalesStageSerializer(SalesTotalSerializer):
    stage = serializers.CharField()


class SalesStuckSerializer(SalesDealBaseSerializer):
    stage = serializers.CharField()
    amount = money_field(allow_null=True)
    days_in_stage = serializers.IntegerField()


class SalesIdleSerializer(SalesDealBaseSerializer):
    amount = money_field(allow_null=True)
    days_idle = serializers.IntegerField(
        allow_null=True, help_text="null: no completed activity on the deal up to as_of."
    )


class SalesPipelineListsFlagSerializer(serializers.Serializer):
    stuck = serializers.BooleanField()
    idle = serializers.BooleanField()


class SalesOpenPipelineSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    total = SalesTotalSerializer()
    by_stage = SalesStageSerializer(many=True)
    stuck = SalesStuckSerializer(many=True)
    idle = SalesIdleSerializer(many=True)
    truncated = SalesPipelineListsFlagSerializer(help_text="true: the list shows its first 500 rows; CSV has them all.")


class SalesGeneratedMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    deals = serializers.IntegerField()
    generated = money_field()
    target = money_field(allow_null=True)
    attainment_pct = serializers.FloatField(allow_null=True)


class SalesGeneratedRepSerializer(serializers.Serializer):
    rep = serializers.CharField()
    deals = serializers.IntegerField()
    generated = money_field()
    target = money_field(allow_null=True)
    attainment_pct = serializers.FloatField(allow_null=True)


class SalesCoverageSerializer(serializers.Serializer):
    quota = money_field(allow_null=True)
    revenue = money_field()
    open_pipeline = money_field()
    ratio = serializers.FloatField(allow_null=True)


class SalesGenerationSerializer(serializers.Serializer):
    months = SalesGeneratedMonthSerializer(many=True)
    reps = SalesGeneratedRepSerializer(many=True)
    coverage = SalesCoverageSerializer()


class SalesCategorySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=["pipeline", "best_case", "commit", "omitted"])
    deals = serializers.IntegerField()
    amount = money_field()
    weighted = money_field()


class SalesForecastMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    won = money_field()
    weighted_open = money_field()
    forecast = money_field()
    quota = money_field(allow_null=True)
    quota_pct = serializers.FloatField(allow_null=True)
    categories = SalesCategorySerializer(many=True)


class SalesForecastSerializer(serializers.Serializer):
    months = SalesForecastMonthSerializer(many=True)


class SalesPastDueSerializer(SalesDealBaseSerializer):
    close_date = serializers.DateField()
    days_past_due = serializers.IntegerField()
    amount = money_field(allow_null=True)


class SalesMissingSerializer(SalesDealBaseSerializer):
    state = serializers.ChoiceField(choices=["open", "won", "lost"])
    close_date = serializers.DateField(allow_null=True)
    amount = money_field(allow_null=True)


class SalesAccountRowSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()


class SalesDuplicateSerializer(serializers.Serializer):
    key = serializers.CharField()
    accounts = SalesAccountRowSerializer(many=True)


class SalesCleanHouseFlagSerializer(serializers.Serializer):
    past_due = serializers.BooleanField()
    missing_amount = serializers.BooleanField()
    missing_close_date = serializers.BooleanField()
    ownerless_accounts = serializers.BooleanField()
    duplicate_accounts = serializers.BooleanField()


class SalesCleanHouseSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    past_due = SalesPastDueSerializer(many=True)
    missing_amount = SalesMissingSerializer(many=True)
    missing_close_date = SalesMissingSerializer(many=True)
    ownerless_accounts = SalesAccountRowSerializer(many=True)
    duplicate_accounts = SalesDuplicateSerializer(many=True)
    truncated = SalesCleanHouseFlagSerializer(
        help_text="true: the list shows its first 500 rows (groups); CSV has all."
    )
