"""Voice-of-the-customer endpoints (API.md "Customer perception", docs/perception.md#voice): each parses
its query object once, calls its selector and lays the answer out as JSON and, with ``format=csv``, as
the CSV of its list. ``settings`` reads the workspace's vocabulary, and replaces it (admins)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.base import ERROR_RESPONSES, CSVRenderer, WorkspaceAPIView, document
from core.api.parsers import CheckedPagination
from perception.api import voice_serializers as s
from perception.selectors import voice as selectors
from perception.voice_queries import FeedbackListQuery, KeywordQuery, VoiceQuery, VoiceUnitQuery
from records.labelling import settings_as_json
from records.models import Feedback
from records.services import perception_settings_replace
from records.validation import parse_perception_settings
from tenancy.models import AuditEntry
from tenancy.services import audit_record

TAG = "perception"

FEEDBACK_COLUMNS = [
    "external_id", "account", "contact", "channel", "text", "received_at",
    "language", "sentiment", "intents", "competitors", "keywords",
]  # fmt: skip
KEYWORD_COLUMNS = ["keyword", "frequency", "sources", "severity", "sentiment"]
COMPETITOR_COLUMNS = ["competitor", "mentions", "positive", "neutral", "negative"]


def feedback_json(item: Feedback) -> dict[str, Any]:
    labelled = bool(item.sentiment)
    return {
        "external_id": item.external_id,
        "account": item.account.external_id if item.account is not None else None,
        "contact": item.contact,
        "channel": item.channel,
        "text": item.text,
        "received_at": item.received_at.isoformat(),
        "language": item.language if labelled else None,
        "sentiment": item.sentiment if labelled else None,
        "intents": item.intents,
        "competitors": item.competitors,
        "keywords": item.keywords,
    }


def keyword_json(row: selectors.KeywordRow) -> dict[str, Any]:
    return {
        "keyword": row.keyword,
        "frequency": row.frequency,
        "sources": row.sources,
        "severity": row.severity,
        "sentiment": row.sentiment,
    }


def csv_lists(row: dict[str, Any]) -> dict[str, Any]:
    """A row for CSV: lists as ``a; b`` (one cell each)."""
    return {key: "; ".join(value) if isinstance(value, list) else value for key, value in row.items()}


class FeedbackPagination(CheckedPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class FeedbackListView(WorkspaceAPIView):
    query_class = FeedbackListQuery
    csv_filename = "feedback.csv"

    @document(FeedbackListQuery, s.PaginatedFeedbackSerializer, "Feedback items with their labels", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: FeedbackListQuery = self.parse_query()
        rows = selectors.feedback_items(query)
        if isinstance(request.accepted_renderer, CSVRenderer):
            items = [csv_lists(feedback_json(item)) for item in rows.iterator(chunk_size=2000)]
            return self.table_response({}, items, FEEDBACK_COLUMNS)
        paginator = FeedbackPagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        return paginator.get_paginated_response([feedback_json(item) for item in page])


class VoiceView(WorkspaceAPIView):
    query_class = VoiceUnitQuery
    csv_filename = "voice-keywords.csv"

    @document(
        VoiceUnitQuery, s.VoiceSerializer, "Voice of the customer: sentiment, intents, competitors, keywords", TAG
    )
    def get(self, request: Request, slug: str) -> Response:
        query: VoiceUnitQuery = self.parse_query()
        answer = selectors.voice(query)
        keywords = [
            {"keyword": row.keyword, "frequency": row.frequency, "sentiment": row.sentiment} for row in answer.keywords
        ]
        data = {
            "units": answer.units,
            "sentiment": [{"sentiment": r.name, "count": r.count, "share_pct": r.share_pct} for r in answer.sentiment],
            "intents": [{"intent": name, "count": count} for name, count in answer.intents],
            "competitors": [
                {"competitor": r.name, "count": r.count, "share_pct": r.share_pct} for r in answer.competitors
            ],
            "keywords": keywords,
        }
        return self.table_response(data, keywords, ["keyword", "frequency", "sentiment"])


class KeywordsView(WorkspaceAPIView):
    query_class = KeywordQuery
    csv_filename = "keywords.csv"

    @document(KeywordQuery, s.KeywordsSerializer, "The keyword table: frequency, sources, severity, sentiment", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: KeywordQuery = self.parse_query()
        rows = [keyword_json(row) for row in selectors.keywords(query)]
        return self.table_response({"keywords": rows}, [csv_lists(row) for row in rows], KEYWORD_COLUMNS)


class CompetitorMentionsView(WorkspaceAPIView):
    query_class = VoiceQuery
    csv_filename = "competitor-mentions.csv"

    @document(VoiceQuery, s.CompetitorMentionsSerializer, "Competitor mentions by sentiment", TAG)
    def get(self, request: Request, slug: str) -> Response:
        query: VoiceQuery = self.parse_query()
        rows = [
            {"competitor": r.competitor, "mentions": r.mentions, "positive": r.positive, "neutral": r.neutral,
             "negative": r.negative}
            for r in selectors.competitor_mentions(query)
        ]  # fmt: skip
        return self.table_response({"competitors": rows}, rows, COMPETITOR_COLUMNS)


class PerceptionSettingsView(WorkspaceAPIView):
    """The vocabulary of feedback labelling: intents by keyword, competitors by name and alias."""

    @extend_schema(responses={200: s.PerceptionSettingsSerializer, **ERROR_RESPONSES}, tags=[TAG],
                   summary="Intent keywords and competitors")  # fmt: skip
    def get(self, request: Request, slug: str) -> Response:
        return Response(settings_as_json(self.workspace))

    @extend_schema(
        request=s.PerceptionSettingsSerializer,
        responses={200: s.PerceptionSettingsSerializer, **ERROR_RESPONSES},
        tags=[TAG],
        summary="Replace the intent keywords and competitors (admins); the feedback is labelled again",
    )
    def put(self, request: Request, slug: str) -> Response:
        if not self.scope.is_admin:
            raise PermissionDenied("Only workspace admins change the vocabulary.")
        vocabulary, errors = parse_perception_settings(request.data)
        if vocabulary is None:
            raise serializers.ValidationError(errors)
        before = settings_as_json(self.workspace)
        perception_settings_replace(workspace=self.workspace, **vocabulary)
        audit_record(
            workspace=self.workspace,
            actor=request.user,
            action=AuditEntry.Action.UPDATED,
            target_type="perceptionsettings",
            changes={"before": before, "after": vocabulary},
        )
        return Response(settings_as_json(self.workspace))
