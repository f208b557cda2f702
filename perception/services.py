"""The Perception tab's views computed ahead (docs/perception.md#speed).

Its answers are cached until the records they read change (``records.versions``); the first view after
a write would pay the whole computation (at 100,000 accounts, up to two seconds for a year's trend).
After each such write a worker computes what the tab opens with, then the same for every preset of the
period picker, so that a view reached by a click is a cache read too. A range typed by hand, a filter or
another breakdown computes on its first view.
"""

from __future__ import annotations

from collections.abc import Iterator

from core.queries import PRESET_SLUGS
from perception.queries import BreakdownQuery, SummaryQuery, TrendQuery
from perception.selectors import metrics
from perception.selectors import voice as voice_selectors
from perception.voice_queries import VOICE_UNITS, KeywordQuery, VoiceUnitQuery
from tenancy.models import Workspace

# The keywords the voice page lists (and so the warm-up computes).
PAGE_KEYWORDS = 50


def _picker_params(workspace: Workspace) -> Iterator[dict[str, str]]:
    """The parameters of the default view, then of each preset of another period (a preset naming the
    default's days, "last 30 days", is the same answer and is skipped)."""
    yield {}
    seen = {BreakdownQuery.parse({}, workspace=workspace).period}
    for slug in PRESET_SLUGS:
        period = BreakdownQuery.parse({"period": slug}, workspace=workspace).period
        if period not in seen:
            seen.add(period)
            yield {"period": slug}


def default_views_warm(*, workspace: Workspace) -> int:
    """Compute (and so cache) what the Overview and Voice pages show with no parameter and with each
    preset period: the summary, trend and breakdown by industry, the voice by each unit and keywords.
    Those already cached for the current records cost a cache read each. Returns the periods warmed."""
    periods = 0
    for params in _picker_params(workspace):
        overview = BreakdownQuery.parse(params, workspace=workspace)
        metrics.summary(overview.derive(SummaryQuery))
        metrics.trend(overview.derive(TrendQuery))
        metrics.breakdown(overview)
        voice = VoiceUnitQuery.parse(params, workspace=workspace)
        for unit in VOICE_UNITS:  # the page's switch: responses (its default), contacts, accounts
            voice_selectors.voice(voice.derive(VoiceUnitQuery, by=unit))
        voice_selectors.keywords(voice.derive(KeywordQuery, limit=PAGE_KEYWORDS))
        periods += 1
    return periods
