"""Chart JSON of the Perception tab (``core.charts``), each for the query of the page it sits on. The
voice of the customer: sentiment and competitor shares (doughnuts), responses by intent (bars) and the
keywords as a word cloud coloured by sentiment (``static/perception/perception.js`` draws the doughnuts
and the cloud)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from core.charts import CHARTJS_COLORS, WorkspaceChartView, rgb
from perception.queries import TrendQuery
from perception.selectors import metrics
from perception.selectors import voice as selectors
from perception.voice_queries import VoiceUnitQuery

# Sentiment is read by colour at a glance: green, grey, red, everywhere on the tab.
SENTIMENT_COLORS = {"positive": (34, 197, 94), "neutral": (148, 163, 184), "negative": (239, 68, 68)}


def sentiment_labels() -> dict[str, str]:
    return {"positive": gettext("Positive"), "neutral": gettext("Neutral"), "negative": gettext("Negative")}


class VoiceChart(WorkspaceChartView):
    query_class = VoiceUnitQuery

    def load(self) -> None:
        self.voice = selectors.voice(self.query)


class SentimentChart(VoiceChart):
    def get_labels(self) -> list[str]:
        names = sentiment_labels()
        return [names[share.name] for share in self.voice.sentiment]

    def get_datasets(self) -> list[dict[str, Any]]:
        if not self.voice.units:
            return []
        colors = [SENTIMENT_COLORS[share.name] for share in self.voice.sentiment]
        return [
            {
                "label": gettext("Sentiment"),
                "data": [share.count for share in self.voice.sentiment],
                "backgroundColor": [rgb(color, 0.8) for color in colors],
                "borderColor": "#fff",
            }
        ]


class CompetitorChart(VoiceChart):
    def get_labels(self) -> list[str]:
        return [share.name for share in self.voice.competitors if share.count]

    def get_datasets(self) -> list[dict[str, Any]]:
        shares = [share for share in self.voice.competitors if share.count]
        if not shares:
            return []
        colors = [CHARTJS_COLORS[index % len(CHARTJS_COLORS)] for index in range(len(shares))]
        return [
            {
                "label": gettext("Competitor mentions"),
                "data": [share.count for share in shares],
                "backgroundColor": [rgb(color, 0.8) for color in colors],
                "borderColor": "#fff",
            }
        ]


class IntentChart(VoiceChart):
    def get_labels(self) -> list[str]:
        return [name for name, _count in self.voice.intents]

    def get_datasets(self) -> list[dict[str, Any]]:
        if not any(count for _name, count in self.voice.intents):
            return []
        color = CHARTJS_COLORS[0]
        return [
            {
                "label": gettext("Responses"),
                "data": [count for _name, count in self.voice.intents],
                "backgroundColor": rgb(color, 0.5),
                "borderColor": rgb(color),
            }
        ]


class KeywordCloud(VoiceChart):
    def get_labels(self) -> list[str]:
        return [row.keyword for row in self.voice.keywords]

    def get_datasets(self) -> list[dict[str, Any]]:
        if not self.voice.keywords:
            return []
        return [
            {
                "label": gettext("Keywords"),
                "data": [row.frequency for row in self.voice.keywords],
                "color": [rgb(SENTIMENT_COLORS[row.sentiment]) for row in self.voice.keywords],
            }
        ]


class TrendChart(WorkspaceChartView):
    """The scores and the churn by month (%), one line each; the table beside it has every metric."""

    query_class = TrendQuery
    LINES = ("nps", "csat_pct", "customer_churn_pct", "renewal_rate_pct")

    def load(self) -> None:
        self.months = metrics.trend(self.query)

    def get_labels(self) -> list[str]:
        return [row.month.isoformat() for row in self.months]

    def get_datasets(self) -> list[dict[str, Any]]:
        names = {
            "nps": gettext("NPS"),
            "csat_pct": gettext("CSAT"),
            "customer_churn_pct": gettext("Customer churn"),
            "renewal_rate_pct": gettext("Renewal rate"),
        }
        if not any(row.values[key] is not None for row in self.months for key in self.LINES):
            return []
        datasets = []
        for index, key in enumerate(self.LINES):
            color = CHARTJS_COLORS[index % len(CHARTJS_COLORS)]
            datasets.append(
                {
                    "label": names[key],
                    "data": [row.values[key] for row in self.months],
                    "backgroundColor": rgb(color, 0.5),
                    "borderColor": rgb(color),
                    "spanGaps": True,
                }
            )
        return datasets
