"""Response serializers of the voice-of-the-customer endpoints, for the OpenAPI schema (the parameters
are the query objects' ``Params``)."""

from __future__ import annotations

from rest_framework import serializers


class SentimentShareSerializer(serializers.Serializer):
    sentiment = serializers.ChoiceField(["positive", "neutral", "negative"])
    count = serializers.IntegerField()
    share_pct = serializers.FloatField(allow_null=True)


class IntentCountSerializer(serializers.Serializer):
    intent = serializers.CharField()
    count = serializers.IntegerField()


class CompetitorShareSerializer(serializers.Serializer):
    competitor = serializers.CharField()
    count = serializers.IntegerField()
    share_pct = serializers.FloatField(allow_null=True)


class VoiceKeywordSerializer(serializers.Serializer):
    keyword = serializers.CharField()
    frequency = serializers.IntegerField(help_text="Feedback items listing it.")
    sentiment = serializers.CharField(help_text="The most common sentiment of those items (ties: negative, neutral).")


class VoiceSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="Items, or distinct contacts or accounts (by).")
    sentiment = SentimentShareSerializer(many=True)
    intents = IntentCountSerializer(many=True)
    competitors = CompetitorShareSerializer(many=True)
    keywords = VoiceKeywordSerializer(many=True)


class KeywordRowSerializer(VoiceKeywordSerializer):
    sources = serializers.ListField(child=serializers.CharField(), help_text="The channels of those items.")
    severity = serializers.FloatField(allow_null=True, help_text="% of those items negative.")


class KeywordsSerializer(serializers.Serializer):
    keywords = KeywordRowSerializer(many=True)


class CompetitorMentionSerializer(serializers.Serializer):
    competitor = serializers.CharField()
    mentions = serializers.IntegerField()
    positive = serializers.IntegerField()
    neutral = serializers.IntegerField()
    negative = serializers.IntegerField()


class CompetitorMentionsSerializer(serializers.Serializer):
    competitors = CompetitorMentionSerializer(many=True)


class FeedbackItemSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    account = serializers.CharField(allow_null=True, help_text="The account's external id.")
    contact = serializers.CharField()
    channel = serializers.CharField()
    text = serializers.CharField()
    received_at = serializers.DateTimeField()
    language = serializers.CharField(allow_null=True, help_text="zh or en; null while waiting for labels.")
    sentiment = serializers.CharField(allow_null=True)
    intents = serializers.ListField(child=serializers.CharField())
    competitors = serializers.ListField(child=serializers.CharField())
    keywords = serializers.ListField(child=serializers.CharField())


class PaginatedFeedbackSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = FeedbackItemSerializer(many=True)


class CompetitorSettingSerializer(serializers.Serializer):
    name = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())


class PerceptionSettingsSerializer(serializers.Serializer):
    intents = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    competitors = CompetitorSettingSerializer(many=True)
