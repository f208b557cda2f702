"""A workspace's vocabulary for labelling feedback (intents by keyword, competitors by name and alias),
the labels a text gets, and the defaults a workspace starts with. Kept apart from
``records.text_analysis`` so that reading them loads no segmentation dictionary (only a worker labels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Vocabulary:
    """A workspace's configured terms. Order matters: results list intents and competitors in this order."""

    intents: Mapping[str, Sequence[str]]  # intent name -> keywords (any language)
    competitors: Sequence[tuple[str, Sequence[str]]]  # (name, aliases)


@dataclass(frozen=True)
class Labels:
    language: str  # "zh" | "en"
    sentiment: str  # "positive" | "neutral" | "negative"
    intents: list[str] = field(default_factory=list)
    competitors: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


DEFAULT_INTENTS: dict[str, list[str]] = {
    "request": [
        "please",
        "could you",
        "can you",
        "would like",
        "need",
        "request",
        "请",
        "麻烦",
        "帮忙",
        "希望",
        "需要",
    ],
    "complaint": [
        "complaint",
        "complain",
        "disappointed",
        "unacceptable",
        "not working",
        "doesn't work",
        "still",
        "broken",
        "fails",
        "投诉",
        "不满",
        "失望",
        "太慢",
        "无法",
        "一直",
        "还是没有",
    ],
    "purchase": [
        "buy",
        "purchase",
        "quote",
        "pricing",
        "price",
        "licence",
        "license",
        "seats",
        "购买",
        "采购",
        "报价",
        "增购",
        "价格",
    ],
    "renewal": ["renew", "renewal", "renewing", "extend the contract", "续约", "续费", "续签", "到期"],
    "cancellation": [
        "cancel",
        "cancellation",
        "terminate",
        "churn",
        "unsubscribe",
        "取消",
        "退订",
        "解约",
        "终止",
        "不再续",
    ],
    # No "?": under the matching rule a punctuation term needs no a-z/0-9 beside it, so "ready?" would miss.
    "question": [
        "how do",
        "how can",
        "how long",
        "how much",
        "what is",
        "what's",
        "why",
        "where can",
        "do you",
        "is there",
        "is it possible",
        "请问",
        "吗",
        "如何",
        "怎么",
        "是否",
        "能不能",
    ],
}

DEFAULT_COMPETITORS: list[tuple[str, list[str]]] = [
    ("Salesforce", ["SFDC", "赛富时"]),
    ("HubSpot", []),
    ("Zoho", ["卓豪"]),
    ("Microsoft Dynamics", ["Dynamics 365", "MS Dynamics"]),
    ("Pipedrive", []),
    ("纷享销客", ["Fxiaoke"]),
    ("销售易", ["Neocrm"]),
]
