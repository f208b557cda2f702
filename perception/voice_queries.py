"""The voice of the customer's queries (API.md "Customer perception", docs/perception.md#voice): a period
of received feedback, narrowed by channel, account and segment (a saved segment of the Accounts tab the
viewer may see: its accounts now); each endpoint adds its own parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.queries import ChoiceParam, PeriodParams, PeriodQuery, TextParam, WholeNumberParam
from records.models import Account, Feedback
from records.segments import SegmentRef, segment_param

MAX_KEYWORDS = 500
DEFAULT_KEYWORDS = 50
VOICE_UNITS = ["responses", "contacts", "accounts"]


class VoiceParams(PeriodParams):
    default_days = 30
    period_style = "range"

    channel = ChoiceParam(Feedback.Channel.values, help_text="Only feedback of this channel.")
    account = TextParam(max_length=128, help_text="Only feedback of this account (its external id).")
    segment = WholeNumberParam(min_value=1, help_text="Only feedback of the accounts of this saved segment (its id).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["segment"] = segment_param(self.workspace, self.context.get("viewer"), attrs.get("segment"))
        external_id = attrs.get("account")
        if external_id:
            account = Account.objects.filter(workspace=self.workspace, external_id=external_id).first()
            if account is None:
                message = _("No account with external id %(id)s in this workspace.") % {"id": repr(external_id)}
                raise serializers.ValidationError({"account": [message]})
            attrs["account"] = account
        else:
            attrs["account"] = None
        return attrs


@dataclass(frozen=True, kw_only=True)
class VoiceQuery(PeriodQuery):
    """Feedback received in the period (and of the channel, of the account, when given)."""

    Params = VoiceParams

    channel: str | None = None
    account: Account | None = None
    segment: SegmentRef | None = None

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(),
            "channel": self.channel,
            "account": self.account,
            "segment": self.segment.pk if self.segment else None,
        }


class VoiceUnitParams(VoiceParams):
    by = ChoiceParam(VOICE_UNITS, default="responses", help_text="Count responses, contacts or accounts.")


@dataclass(frozen=True, kw_only=True)
class VoiceUnitQuery(VoiceQuery):
    """The voice charts: sentiment, intents, competitors and keywords, counted in ``by`` units."""

    Params = VoiceUnitParams

    by: str = "responses"

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "by": self.by}


class KeywordParams(VoiceParams):
    limit = WholeNumberParam(
        min_value=1, max_value=MAX_KEYWORDS, default=DEFAULT_KEYWORDS, help_text="Keywords listed (default 50)."
    )


@dataclass(frozen=True, kw_only=True)
class KeywordQuery(VoiceQuery):
    Params = KeywordParams

    limit: int = DEFAULT_KEYWORDS

    def encode(self) -> dict[str, Any]:
        return {**super().encode(), "limit": self.limit}


class FeedbackListParams(VoiceParams):
    intent = TextParam(max_length=100, help_text="Only feedback with this intent.")
    competitor = TextParam(max_length=100, help_text="Only feedback naming this competitor.")
    sentiment = ChoiceParam(Feedback.Sentiment.values, help_text="Only feedback of this sentiment.")


@dataclass(frozen=True, kw_only=True)
class FeedbackListQuery(VoiceQuery):
    """The feedback items themselves, newest first."""

    Params = FeedbackListParams

    intent: str | None = None
    competitor: str | None = None
    sentiment: str | None = None

    def encode(self) -> dict[str, Any]:
        return {
            **super().encode(),
            "intent": self.intent,
            "competitor": self.competitor,
            "sentiment": self.sentiment,
        }
