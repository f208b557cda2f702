"""Response serializers of the perception metrics endpoints, for the OpenAPI schema (the parameters are the
query objects' ``Params``). Percentages 1 decimal, CES 2, amounts 2-decimal strings in the workspace's
currency; null on a 0 divisor (API.md "Customer perception")."""

from __future__ import annotations

from rest_framework import serializers


def money_field(**kwargs: object) -> serializers.CharField:
    kwargs.setdefault("help_text", '2-decimal string in the workspace\'s currency, e.g. "1234.50".')
    return serializers.CharField(**kwargs)  # type: ignore[arg-type]


def figure_field(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class PerceptionRangeSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class PerceptionFigureMetricSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True)
    change = serializers.FloatField(allow_null=True, help_text="value − previous.")
    change_pct = serializers.FloatField(allow_null=True, help_text="(value − previous) ÷ previous × 100.")


class PerceptionNpsMetricSerializer(PerceptionFigureMetricSerializer):
    promoters = serializers.IntegerField(help_text="Responses 9–10 in the period.")
    passives = serializers.IntegerField(help_text="Responses 7–8 in the period.")
    detractors = serializers.IntegerField(help_text="Responses 0–6 in the period.")


class PerceptionMoneyMetricSerializer(serializers.Serializer):
    value = money_field(allow_null=True)
    previous = money_field(allow_null=True)
    change = money_field(allow_null=True, help_text="value − previous.")
    change_pct = serializers.FloatField(allow_null=True, help_text="(value − previous) ÷ previous × 100.")


class PerceptionSummaryMetricsSerializer(serializers.Serializer):
    nps = PerceptionNpsMetricSerializer()
    ces = PerceptionFigureMetricSerializer()
    csat_pct = PerceptionFigureMetricSerializer()
    customer_churn_pct = PerceptionFigureMetricSerializer()
    revenue_churn_pct = PerceptionFigureMetricSerializer()
    renewal_rate_pct = PerceptionFigureMetricSerializer()
    retention_cost = PerceptionMoneyMetricSerializer()
    revenue_per_retained = PerceptionMoneyMetricSerializer()


class PerceptionSummarySerializer(serializers.Serializer):
    period = PerceptionRangeSerializer()
    previous = PerceptionRangeSerializer(help_text="As many days just before.")
    currency = serializers.CharField()
    metrics = PerceptionSummaryMetricsSerializer()


class PerceptionValuesSerializer(serializers.Serializer):
    nps = figure_field("(9–10 − 0–6) ÷ responses × 100.")
    ces = figure_field("Mean score, 2 decimals.")
    csat_pct = figure_field("4–5 ÷ responses × 100.")
    customer_churn_pct = figure_field("Churned ÷ at start × 100.")
    revenue_churn_pct = figure_field("Monthly value lost ÷ monthly value at start × 100.")
    renewal_rate_pct = figure_field("Contracts ending renewed ÷ ending × 100.")
    retention_cost = money_field(allow_null=True)
    revenue_per_retained = money_field(allow_null=True)


class PerceptionMonthSerializer(PerceptionValuesSerializer):
    month = serializers.DateField(help_text="The month's first day; the month is cut to start–end.")


class PerceptionTrendSerializer(serializers.Serializer):
    months = PerceptionMonthSerializer(many=True)


class PerceptionGroupSerializer(PerceptionValuesSerializer):
    group = serializers.CharField(
        allow_null=True, help_text="The industry, the owner's external id or the segment's name; null: none."
    )
    segment = serializers.IntegerField(required=False, help_text="By segment: the segment's id.")


class PerceptionBreakdownSerializer(serializers.Serializer):
    groups = PerceptionGroupSerializer(many=True)


class PerceptionAccountRowSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    industry = serializers.CharField(help_text='"" when none.')
    owner = serializers.CharField(allow_null=True, help_text="The owner's CRM user external id.")
    contracts = serializers.IntegerField(help_text="Its contracts in force some day of the period.")
    monthly_value = money_field(help_text="Monthly value of its contracts in force on the first day.")
    last_end = serializers.DateField(help_text="The latest end of those contracts.")
    revenue = money_field(help_text="Their monthly values spread over their days in force in the period.")


class PaginatedPerceptionAccountListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PerceptionAccountRowSerializer(many=True)
