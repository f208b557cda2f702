"""The voice of the customer (seed 001; API.md "Customer perception"; docs/perception.md#voice): what the
labelled feedback of a period says, counted in SQL over the feedback and its terms (``FeedbackTerm``).

Only labelled feedback counts (``sentiment`` set): a text waiting for its first labels has none yet; a
text waiting to be labelled again (its vocabulary changed) counts with its previous labels meanwhile.
Units are items, or the distinct contacts or accounts behind them (items without one left out).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet

from records.figures import pct
from records.labelling import configured_terms
from records.models import Account, Feedback, FeedbackTerm

if TYPE_CHECKING:  # the selectors take the queries; parsing a query may call a selector
    from perception.voice_queries import FeedbackListQuery, KeywordQuery, VoiceQuery, VoiceUnitQuery

SENTIMENTS = [Feedback.Sentiment.POSITIVE, Feedback.Sentiment.NEUTRAL, Feedback.Sentiment.NEGATIVE]
# A keyword's sentiment is its most common one; ties go to the first of these.
SENTIMENT_TIES = [Feedback.Sentiment.NEGATIVE, Feedback.Sentiment.NEUTRAL, Feedback.Sentiment.POSITIVE]
CHANNELS = list(Feedback.Channel.values)
# What a unit is counted by: the item itself, its contact, its account.
UNIT_FIELDS = {"responses": "id", "contacts": "contact", "accounts": "account_id"}
TERM_UNIT_FIELDS = {"contacts": "contact", "accounts": "account_id"}
VOICE_KEYWORDS = 50  # the word cloud's


def feedback_in_period(query: VoiceQuery) -> QuerySet[Feedback]:
    """The workspace's feedback received in the period (channel, account, segment as asked), deleted and
    deleted accounts' left out."""
    rows = Feedback.objects.filter(
        workspace=query.workspace,
        deleted=False,
        received_on__gte=query.period.start,
        received_on__lte=query.period.end,
    ).exclude(account__deleted=True)
    if query.channel:
        rows = rows.filter(channel=query.channel)
    if query.account is not None:
        rows = rows.filter(account=query.account)
    if query.segment is not None:
        rows = rows.filter(account_id__in=query.segment.account_ids)
    return rows


def labelled_feedback(query: VoiceQuery) -> QuerySet[Feedback]:
    return feedback_in_period(query).exclude(sentiment="")


def _units[M: (Feedback, FeedbackTerm)](rows: QuerySet[M], by: str) -> QuerySet[M]:
    """Only the items (or their terms) that have a unit of ``by``."""
    if by == "contacts":
        return rows.exclude(contact="")
    if by == "accounts":
        return rows.filter(account__isnull=False)
    return rows


def terms_in_period(query: VoiceQuery, kind: str) -> QuerySet[FeedbackTerm]:
    """The terms of ``kind`` of the feedback ``feedback_in_period`` keeps, read from the terms alone (they
    carry the feedback's day, channel, account and deleted flag)."""
    terms = FeedbackTerm.objects.filter(
        workspace=query.workspace,
        kind=kind,
        received_on__gte=query.period.start,
        received_on__lte=query.period.end,
        deleted=False,
    ).exclude(account_id__in=Account.objects.filter(workspace=query.workspace, deleted=True).values("id"))
    if query.channel:
        terms = terms.filter(channel=query.channel)
    if query.account is not None:
        terms = terms.filter(account=query.account)
    if query.segment is not None:
        terms = terms.filter(account_id__in=query.segment.account_ids)
    return terms


@dataclass(frozen=True)
class Share:
    name: str
    count: int
    share_pct: float | None


@dataclass(frozen=True)
class KeywordRow:
    keyword: str
    frequency: int  # items listing it
    sources: list[str]  # their channels, in the channels' order
    severity: float | None  # % of them negative
    sentiment: str  # the most common


@dataclass(frozen=True)
class Voice:
    units: int
    sentiment: list[Share]
    intents: list[tuple[str, int]]
    competitors: list[Share]
    keywords: list[KeywordRow]


def _shares(counts: list[tuple[str, int]]) -> list[Share]:
    total = sum(count for _name, count in counts)
    return [Share(name, count, pct(count, total)) for name, count in counts]


def _most_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _term_units(query: VoiceUnitQuery, kind: str) -> dict[str, int]:
    """Per term of ``kind``: the distinct units whose items have it (an item lists a term once, so the
    items are its rows)."""
    terms = _units(terms_in_period(query, kind), query.by)
    units = Count("id") if query.by == "responses" else Count(TERM_UNIT_FIELDS[query.by], distinct=True)
    return dict(terms.values("term").annotate(units=units).order_by().values_list("term", "units"))


def voice(query: VoiceUnitQuery) -> Voice:
    field = UNIT_FIELDS[query.by]
    rows = _units(labelled_feedback(query), query.by)
    units = rows.aggregate(units=Count(field, distinct=True))["units"]
    # (unit, sentiment) pairs: per sentiment, the distinct units with an item of it.
    by_sentiment = dict(
        rows.values_list("sentiment")
        .annotate(units=Count(field, distinct=True))
        .order_by()
        .values_list("sentiment", "units")
    )
    intents, competitors = configured_terms(query.workspace)
    intent_units = _term_units(query, FeedbackTerm.Kind.INTENT)
    competitor_units = _term_units(query, FeedbackTerm.Kind.COMPETITOR)
    return Voice(
        units=units,
        sentiment=_shares([(s.value, by_sentiment.get(s.value, 0)) for s in SENTIMENTS]),
        intents=_most_first({name: intent_units.get(name, 0) for name in intents}),
        competitors=_shares(_most_first({name: competitor_units.get(name, 0) for name in competitors})),
        keywords=keyword_rows(query, VOICE_KEYWORDS),
    )


def keyword_rows(query: VoiceQuery, limit: int) -> list[KeywordRow]:
    """The keywords of the period's feedback, most frequent first (ties by keyword), at most ``limit``."""
    counted = (
        terms_in_period(query, FeedbackTerm.Kind.KEYWORD)
        .values("term", "channel", "sentiment")
        .annotate(items=Count("id"))
        .order_by()
    )
    frequency: Counter[str] = Counter()
    sentiments: dict[str, Counter[str]] = defaultdict(Counter)
    channels: dict[str, set[str]] = defaultdict(set)
    for row in counted:
        frequency[row["term"]] += row["items"]
        sentiments[row["term"]][row["sentiment"]] += row["items"]
        channels[row["term"]].add(row["channel"])
    result = []
    for keyword, items in sorted(frequency.items(), key=lambda item: (-item[1], item[0]))[:limit]:
        counts = sentiments[keyword]
        result.append(
            KeywordRow(
                keyword=keyword,
                frequency=items,
                sources=[channel for channel in CHANNELS if channel in channels[keyword]],
                severity=pct(counts[Feedback.Sentiment.NEGATIVE], items),
                sentiment=most_common_sentiment(counts),
            )
        )
    return result


def most_common_sentiment(counts: Counter[str]) -> str:
    """The sentiment with the most items; ties: negative, then neutral."""
    return max(SENTIMENT_TIES, key=lambda sentiment: (counts[sentiment], -SENTIMENT_TIES.index(sentiment)))


def keywords(query: KeywordQuery) -> list[KeywordRow]:
    return keyword_rows(query, query.limit)


@dataclass(frozen=True)
class CompetitorMentions:
    competitor: str
    mentions: int  # items naming it
    positive: int
    neutral: int
    negative: int


def competitor_mentions(query: VoiceQuery) -> list[CompetitorMentions]:
    """Every configured competitor: the items naming it, by sentiment; most mentioned first, ties by name."""
    counted = (
        terms_in_period(query, FeedbackTerm.Kind.COMPETITOR)
        .values("term", "sentiment")
        .annotate(items=Count("id"))
        .order_by()
    )
    by_competitor: dict[str, Counter[str]] = defaultdict(Counter)
    for row in counted:
        by_competitor[row["term"]][row["sentiment"]] += row["items"]
    _intents, competitors = configured_terms(query.workspace)
    rows = [
        CompetitorMentions(
            competitor=name,
            mentions=sum(by_competitor[name].values()),
            positive=by_competitor[name][Feedback.Sentiment.POSITIVE],
            neutral=by_competitor[name][Feedback.Sentiment.NEUTRAL],
            negative=by_competitor[name][Feedback.Sentiment.NEGATIVE],
        )
        for name in competitors
    ]
    rows.sort(key=lambda row: (-row.mentions, row.competitor))
    return rows


def feedback_items(query: FeedbackListQuery) -> QuerySet[Feedback]:
    """The period's feedback, labelled or waiting, newest first; the label filters keep labelled items."""
    rows = feedback_in_period(query)
    if query.sentiment:
        rows = rows.filter(sentiment=query.sentiment)
    for kind, term in ((FeedbackTerm.Kind.INTENT, query.intent), (FeedbackTerm.Kind.COMPETITOR, query.competitor)):
        if term:  # the period's terms only: all-time ones made the IN list a million long
            rows = rows.filter(id__in=terms_in_period(query, kind).filter(term=term).values("feedback_id"))
    return rows.select_related("account").order_by("-received_at", "-id")
