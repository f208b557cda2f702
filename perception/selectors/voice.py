"""The voice of the customer (seed 001; API.md "Customer perception"; docs/perception.md#voice): what the
labelled feedback of a period says, counted in SQL over the feedback and its terms (``FeedbackTerm``).

Only labelled feedback counts (``sentiment`` set): a text waiting for its first labels has none yet; a
text waiting to be labelled again (its vocabulary changed) counts with its previous labels meanwhile.
Units are items, or the distinct contacts or accounts behind them (items without one left out).

Counts of items (by responses, the keywords, the competitor mentions) are read from the day aggregates
(``FeedbackDayFigures``, ``FeedbackTermDayFigures``) when ``_from_day_figures`` says they give the same
numbers; otherwise, and for distinct contacts or accounts, from the feedback and terms themselves.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Case, Count, Max, Q, QuerySet, Sum, Value, When

from perception.selectors.cached import VOICE_KINDS, period_cached
from records.aggregates import next_month
from records.figures import pct
from records.labelling import configured_terms
from records.models import (
    Account,
    Feedback,
    FeedbackDayFigures,
    FeedbackTerm,
    FeedbackTermDayFigures,
    FeedbackTermMonthFigures,
    RecordsDirty,
)

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
    ).exclude(account_id__in=_deleted_accounts(query))  # a hashed list, not a join to every account
    if query.channel:
        rows = rows.filter(channel=query.channel)
    if query.account is not None:
        rows = rows.filter(account=query.account)
    if query.segment is not None:
        rows = rows.filter(account_id__in=query.segment.account_ids)
    return rows


def _deleted_accounts(query: VoiceQuery) -> QuerySet[Account, Any]:
    return Account.objects.filter(workspace=query.workspace, deleted=True).values("id")


def _from_day_figures(query: VoiceQuery) -> bool:
    """Whether counts of items may be read from the day aggregates: they hold the whole workspace's labelled
    feedback per day, channel and sentiment, so no filter narrowing it otherwise (an account, a segment of
    accounts), and no day of the period marked for their refresh (a batch or a labelling not yet counted
    there: the rows themselves are current)."""
    if query.account is not None or query.segment is not None:
        return False
    return not RecordsDirty.objects.filter(
        workspace=query.workspace,
        kind=RecordsDirty.Kind.FEEDBACK_DAY,
        key__gte=query.period.start.isoformat(),  # ISO dates sort as text
        key__lte=query.period.end.isoformat(),
    ).exists()


def day_figures(query: VoiceQuery) -> QuerySet[FeedbackDayFigures]:
    """The period's (and channel's) rows of ``FeedbackDayFigures``."""
    rows = FeedbackDayFigures.objects.filter(
        workspace=query.workspace, day__gte=query.period.start, day__lte=query.period.end
    )
    return rows.filter(channel=query.channel) if query.channel else rows


def whole_months(start: date, end: date) -> tuple[date, date] | None:
    """The first days of the first and last calendar months lying wholly in ``start``–``end``; None: none."""
    first = start if start.day == 1 else next_month(start.replace(day=1))
    end_month = end.replace(day=1)
    last = (
        end_month
        if next_month(end_month) - timedelta(days=1) == end
        else (end_month - timedelta(days=1)).replace(day=1)
    )
    return (first, last) if first <= last else None


def term_figures(query: VoiceQuery, kinds: list[str], fields: list[str]) -> list[dict[str, Any]]:
    """The items of each term of ``kinds`` in the period (and channel), per ``fields``: its whole months
    from ``FeedbackTermMonthFigures``, its other days from ``FeedbackTermDayFigures``."""
    start, end = query.period.start, query.period.end
    days = FeedbackTermDayFigures.objects.filter(workspace=query.workspace, kind__in=kinds)
    parts: list[QuerySet[Any]]
    months = whole_months(start, end)
    if months is None:
        parts = [days.filter(day__gte=start, day__lte=end)]
    else:
        first, last = months
        parts = [
            days.filter(Q(day__gte=start, day__lt=first) | Q(day__gte=next_month(last), day__lte=end)),
            FeedbackTermMonthFigures.objects.filter(
                workspace=query.workspace, kind__in=kinds, month__gte=first, month__lte=last
            ),
        ]
    summed: Counter[tuple[Any, ...]] = Counter()
    for rows in parts:
        if query.channel:
            rows = rows.filter(channel=query.channel)
        for *key, items in rows.values_list(*fields).annotate(items=Sum("items")).order_by():
            summed[tuple(key)] += items
    return [{**dict(zip(fields, key, strict=True)), "items": items} for key, items in summed.items()]


def labelled_feedback(query: VoiceQuery) -> QuerySet[Feedback]:
    return feedback_in_period(query).exclude(sentiment="")


def _units[M: (Feedback, FeedbackTerm)](rows: QuerySet[M], by: str) -> QuerySet[M]:
    """Only the items (or their terms) that have a unit of ``by``."""
    if by == "contacts":
        return rows.exclude(contact="")
    if by == "accounts":
        return rows.filter(account__isnull=False)
    return rows


def terms_in_period(query: VoiceQuery, kinds: list[str]) -> QuerySet[FeedbackTerm]:
    """The terms of ``kinds`` of the feedback ``feedback_in_period`` keeps, read from the terms alone (they
    carry the feedback's day, channel, account and deleted flag)."""
    terms = FeedbackTerm.objects.filter(
        workspace=query.workspace,
        kind__in=kinds,
        received_on__gte=query.period.start,
        received_on__lte=query.period.end,
        deleted=False,
    ).exclude(account_id__in=_deleted_accounts(query))
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


def _term_units(query: VoiceUnitQuery, fast: bool) -> dict[tuple[str, str], int]:
    """Per (kind, term) of the intents and competitors: the distinct units whose items have it (an item
    lists a term once, so by responses its rows)."""
    kinds: list[str] = [FeedbackTerm.Kind.INTENT, FeedbackTerm.Kind.COMPETITOR]
    if fast:
        return {(row["kind"], row["term"]): row["items"] for row in term_figures(query, kinds, ["kind", "term"])}
    terms = _units(terms_in_period(query, kinds), query.by)
    if query.by == "responses":
        counted = terms.values("kind", "term").annotate(units=Count("id")).order_by()
        return {(row["kind"], row["term"]): row["units"] for row in counted}
    # The distinct (kind, term, unit) triples, then counted per term: hashed, where COUNT(DISTINCT …)
    # sorts the period's terms.
    sql, params = terms.values("kind", "term", TERM_UNIT_FIELDS[query.by]).distinct().order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT q.kind, q.term, COUNT(*) FROM ({sql}) q GROUP BY q.kind, q.term", params)
        return {(kind, term): units for kind, term, units in cursor.fetchall()}


def _sentiment_units(query: VoiceUnitQuery, fast: bool) -> tuple[int, dict[str, int]]:
    """The units, and per sentiment the distinct units with an item of it ((unit, sentiment) pairs)."""
    if fast:
        summed = day_figures(query).values("sentiment").annotate(items=Sum("items")).order_by()
        by_sentiment = {row["sentiment"]: row["items"] for row in summed}
        return sum(by_sentiment.values()), by_sentiment
    # One statement, one pass and one grouping: per unit, whether it has an item of each sentiment; then
    # the units, and those having each (four distinct counts sorted the month's rows four times).
    per_unit = (
        _units(labelled_feedback(query), query.by)
        .values(UNIT_FIELDS[query.by])
        .annotate(
            **{
                f"has_{s.value}": Max(Case(When(sentiment=s.value, then=Value(1)), default=Value(0)))
                for s in SENTIMENTS
            }
        )
        .order_by()
    )
    counted = per_unit.aggregate(units=Count("*"), **{s.value: Sum(f"has_{s.value}") for s in SENTIMENTS})
    return counted.pop("units"), {name: units or 0 for name, units in counted.items()}


def _cached[T](name: str, query: VoiceQuery, compute: Callable[[], T], *extra: Any) -> T:
    """``compute()``, cached until the workspace's feedback or accounts change (``records.versions``): a
    batch or an import of either, and every labelling, renew their versions. The configured intents and competitors
    are part of the key, so an edit shows at once (the new names, counted 0 until the texts are labelled
    again). With a segment (whose accounts follow the aggregates), every read is computed."""
    if query.segment is not None:
        return compute()
    intents, competitors = configured_terms(query.workspace)
    return period_cached(
        f"voice-{name}", VOICE_KINDS, query, compute, query.channel, tuple(intents), tuple(competitors), *extra
    )


def voice(query: VoiceUnitQuery) -> Voice:
    return _cached("voice", query, lambda: _voice(query), query.by)


def _voice(query: VoiceUnitQuery) -> Voice:
    fast = _from_day_figures(query)
    units, by_sentiment = _sentiment_units(query, fast and query.by == "responses")
    intents, competitors = configured_terms(query.workspace)
    term_units = _term_units(query, fast and query.by == "responses")
    intent, competitor = FeedbackTerm.Kind.INTENT, FeedbackTerm.Kind.COMPETITOR
    return Voice(
        units=units,
        sentiment=_shares([(s.value, by_sentiment.get(s.value, 0)) for s in SENTIMENTS]),
        intents=_most_first({name: term_units.get((intent, name), 0) for name in intents}),
        competitors=_shares(_most_first({name: term_units.get((competitor, name), 0) for name in competitors})),
        keywords=keyword_rows(query, VOICE_KEYWORDS, fast),  # items, whatever the unit
    )


def _term_items(query: VoiceQuery, kind: str, fields: list[str], fast: bool) -> list[dict[str, Any]]:
    """The items listing each term of ``kind``, per ``fields`` (``term`` and more)."""
    if fast:
        return term_figures(query, [kind], fields)
    return list(terms_in_period(query, [kind]).values(*fields).annotate(items=Count("id")).order_by())


def keyword_rows(query: VoiceQuery, limit: int, fast: bool | None = None) -> list[KeywordRow]:
    """The keywords of the period's feedback, most frequent first (ties by keyword), at most ``limit``.
    ``fast``: ``_from_day_figures(query)``, when the caller knows it."""
    if fast is None:
        fast = _from_day_figures(query)
    counted = _term_items(query, FeedbackTerm.Kind.KEYWORD, ["term", "channel", "sentiment"], fast)
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
    return _cached("keywords", query, lambda: keyword_rows(query, query.limit), query.limit)


@dataclass(frozen=True)
class CompetitorMentions:
    competitor: str
    mentions: int  # items naming it
    positive: int
    neutral: int
    negative: int


def competitor_mentions(query: VoiceQuery) -> list[CompetitorMentions]:
    """Every configured competitor: the items naming it, by sentiment; most mentioned first, ties by name."""
    counted = _term_items(query, FeedbackTerm.Kind.COMPETITOR, ["term", "sentiment"], _from_day_figures(query))
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
            rows = rows.filter(id__in=terms_in_period(query, [kind]).filter(term=term).values("feedback_id"))
    # The page's accounts in a second query: joined, every item of the period was joined before the
    # newest were picked (at a million texts, 5,800 joins for a page of 50).
    return rows.prefetch_related("account").order_by("-received_at", "-id")
