"""The Perception tab's default views computed ahead (docs/perception.md#speed).

Its answers are cached until the workspace's records change (``records.versions``); the first view after
a write would pay the whole computation (at 100,000 accounts, most of a second for the metrics). After
each write a worker computes what the tab opens with, so that first view is a cache read too.
"""

from __future__ import annotations

from perception.queries import BreakdownQuery, SummaryQuery, TrendQuery
from perception.selectors import metrics
from perception.selectors import voice as voice_selectors
from perception.voice_queries import KeywordQuery, VoiceUnitQuery
from tenancy.models import Workspace

# The keywords the voice page lists (and so the warm-up computes).
PAGE_KEYWORDS = 50


def default_views_warm(*, workspace: Workspace) -> None:
    """Compute (and so cache) what the Overview and Voice pages show with no parameter: the default
    period's summary, trend and breakdown by industry, and its voice by responses and keywords. Those
    already cached for the current records version cost a cache read each."""
    overview = BreakdownQuery.parse({}, workspace=workspace)
    metrics.summary(overview.derive(SummaryQuery))
    metrics.trend(overview.derive(TrendQuery))
    metrics.breakdown(overview)
    voice = VoiceUnitQuery.parse({}, workspace=workspace)
    voice_selectors.voice(voice)
    voice_selectors.keywords(voice.derive(KeywordQuery, limit=PAGE_KEYWORDS))
