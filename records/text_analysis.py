"""Offline labelling of CRM customer-feedback texts (Chinese and English): the "voice of the customer".

Each text gets a language (``zh`` or ``en``), a sentiment, the workspace's intents and competitors found in
it, and up to five keywords. Everything runs offline: Chinese segmentation and keyword weights come from
``jieba`` (its dictionary and IDF table ship inside the package); the sentiment lexicons are written out
below. docs/text-analysis.md explains the choices and the accuracy measured on
tests/records/data/labelled_feedback.jsonl; bench/text_bench.py re-runs the comparison.

Pure Python, no Django imports: callers (records/services.py, the Celery task) pass in a :class:`Vocabulary`.

Every step is linear in the text's length (no regex with nested quantifiers, no backtracking over
alternatives of unbounded length), so a 5000-character text of any content labels in milliseconds.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import jieba
from jieba.analyse import default_tfidf

__all__ = [
    "DEFAULT_COMPETITORS",
    "DEFAULT_INTENTS",
    "Labels",
    "SentimentScorer",
    "Vocabulary",
    "detect_language",
    "label",
    "label_many",
    "term_in_text",
    "warm_up",
]

LANGUAGE_ZH: Final = "zh"
LANGUAGE_EN: Final = "en"
POSITIVE: Final = "positive"
NEUTRAL: Final = "neutral"
NEGATIVE: Final = "negative"
MAX_KEYWORDS: Final = 5

# jieba logs "Building prefix dict ..." at INFO on its first use; that is noise in a worker's log.
jieba.setLogLevel(logging.WARNING)


# --- Vocabulary and results ------------------------------------------------------------------------------


# The vocabulary, the result type and the defaults live in records.vocabulary, which loads no jieba: the web
# process reads the defaults (the settings page, the voice's lists) without paying for the analysis.
from records.vocabulary import DEFAULT_COMPETITORS, DEFAULT_INTENTS, Labels, Vocabulary  # noqa: E402

# --- Scripts and the matching rule -----------------------------------------------------------------------

# Chinese characters: the CJK Unified Ideographs blocks (basic, extension A, compatibility, and the
# supplementary planes' extensions B-G). Kana and Hangul are not Chinese characters.
_CJK_CLASS: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_CHAR_RE: Final = re.compile(f"[{_CJK_CLASS}]")
_CJK_RUN_RE: Final = re.compile(f"[{_CJK_CLASS}]+")
# A Latin-script word: a run of ASCII or Latin-1/Latin Extended-A/B letters.
_LATIN_WORD_RE: Final = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+")
# The characters that may not stand directly beside a whole-word match (the contract: a-z and 0-9, after
# lowercasing, so A-Z too).
_WORD_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _has_cjk(text: str) -> bool:
    return _CJK_CHAR_RE.search(text) is not None


def detect_language(text: str) -> str:
    """``zh`` when Chinese is the main script, else ``en``.

    "Mainly" is counted in word-sized units: each Chinese character is one unit and each run of Latin letters
    (a word) is one unit, because a Chinese character carries about as much as an English word (Chinese
    words are 1-2 characters), whereas counting letters would let two English words outweigh a Chinese
    sentence. A text is ``zh`` when its Chinese characters are at least half the units (ties go to ``zh``):
    "这个 dashboard 太慢了" (5 vs 1) and "我们在用 Salesforce 做 pipeline 管理" (7 vs 2) are ``zh``;
    "Please call 王经理 tomorrow about the renewal." (3 vs 6) is ``en``. Digits, punctuation and other
    scripts do not count; a text with neither script is ``en``.
    """
    chinese_chars = len(_CJK_CHAR_RE.findall(text))
    if chinese_chars == 0:
        return LANGUAGE_EN
    latin_words = len(_LATIN_WORD_RE.findall(text))
    return LANGUAGE_ZH if chinese_chars >= latin_words else LANGUAGE_EN


def _whole_word_in(term: str, text: str) -> bool:
    """Whether lowercased ``term`` occurs in lowercased ``text`` with no a-z/0-9 character directly beside it.

    ``str.find`` from each previous hit onwards: linear in practice, and no regex to go wrong on odd input.
    """
    start = text.find(term)
    end_of_text = len(text)
    while start != -1:
        end = start + len(term)
        before_ok = start == 0 or text[start - 1] not in _WORD_CHARS
        after_ok = end == end_of_text or text[end] not in _WORD_CHARS
        if before_ok and after_ok:
            return True
        start = text.find(term, start + 1)
    return False


@dataclass(frozen=True)
class _Term:
    """A configured term prepared once: lowercased, and whether it matches as a substring (has Chinese)."""

    lowered: str
    substring: bool

    @classmethod
    def of(cls, term: str) -> _Term:
        lowered = term.strip().lower()
        return cls(lowered=lowered, substring=_has_cjk(lowered))

    def found_in(self, lowered_text: str) -> bool:
        if not self.lowered or self.lowered not in lowered_text:
            return False
        return self.substring or _whole_word_in(self.lowered, lowered_text)


def term_in_text(term: str, text: str) -> bool:
    """The contract's matching rule for intent keywords and competitor names/aliases.

    Case-insensitive. A term containing a Chinese character matches as a substring; any other term matches
    as a whole word: no a-z or 0-9 character directly beside it ("Acme" matches "acme's" and "(ACME)", not
    "acmez"; "HubSpot" matches "用了HubSpot以后"). An empty or blank term matches nothing.
    """
    return _Term.of(term).found_in(text.lower())


@dataclass(frozen=True)
class _CompiledVocabulary:
    """A :class:`Vocabulary` with every term prepared once, for labelling many texts."""

    intents: tuple[tuple[str, tuple[_Term, ...]], ...]
    competitors: tuple[tuple[str, tuple[_Term, ...]], ...]

    @classmethod
    def of(cls, vocabulary: Vocabulary) -> _CompiledVocabulary:
        intents = tuple(
            (name, tuple(_Term.of(keyword) for keyword in keywords)) for name, keywords in vocabulary.intents.items()
        )
        competitors = tuple(
            (name, tuple(_Term.of(term) for term in (name, *aliases))) for name, aliases in vocabulary.competitors
        )
        return cls(intents=intents, competitors=competitors)

    def intents_in(self, lowered_text: str) -> list[str]:
        return [name for name, terms in self.intents if any(term.found_in(lowered_text) for term in terms)]

    def competitors_in(self, lowered_text: str) -> list[str]:
        return [name for name, terms in self.competitors if any(term.found_in(lowered_text) for term in terms)]


# --- Tokens ----------------------------------------------------------------------------------------------

# Latin words (with an inner apostrophe or hyphen: "doesn't", "sign-on"), numbers, and the punctuation that
# ends a clause (kept as tokens: negation and "but" work within clauses).
_LATIN_TOKEN_RE: Final = re.compile(r"[a-z0-9\u00c0-\u024f]+(?:['\-][a-z0-9\u00c0-\u024f]+)*|[.,;:!?，。；：！？、…\n]")
_CLAUSE_ENDS: Final = frozenset(".,;:!?，。；：！？、…\n")
_APOSTROPHES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\uff07": "'"})


def _tokens(text: str) -> list[str]:
    """Lowercased tokens in order: jieba words for Chinese runs, regex words for the rest.

    Splitting by script first keeps jieba on the Chinese (it would cut "doesn't" at the apostrophe) and
    keeps the clause punctuation between runs as tokens.
    """
    lowered = text.lower().translate(_APOSTROPHES)
    tokens: list[str] = []
    position = 0
    for run in _CJK_RUN_RE.finditer(lowered):
        tokens.extend(_LATIN_TOKEN_RE.findall(lowered, position, run.start()))
        tokens.extend(jieba.lcut(run.group(), HMM=True))
        position = run.end()
    tokens.extend(_LATIN_TOKEN_RE.findall(lowered, position))
    return tokens


# Characters jieba often glues to the word they modify ("太难用", "又坏了", "真棒", "全乱"), and the
# particles it glues after one ("坏了"). Splitting them off lets the degree/negation rules see them.
_GLUED_PREFIXES: Final = frozenset("太很真全又更最超不没")
_GLUED_SUFFIXES: Final = frozenset("了的啊呢吧啦")


def _split_glued(token: str, known: Mapping[str, float]) -> list[str]:
    """Split an unknown Chinese token into a degree/negation prefix, its core and a trailing particle.

    Known tokens (lexicon words such as 不错, 太棒了, negators, intensifiers) are left whole. At most one
    prefix and one suffix come off, so the work per token is constant.
    """
    if len(token) < 2 or token in known or token in NEGATORS or token in INTENSIFIERS:
        return [token]
    parts: list[str] = []
    if token[0] in _GLUED_PREFIXES and len(token) >= 2:
        parts.append(token[0])
        token = token[1:]
    suffix = ""
    if len(token) >= 2 and token[-1] in _GLUED_SUFFIXES and token not in known:
        token, suffix = token[:-1], token[-1]
    parts.append(token)
    if suffix:
        parts.append(suffix)
    return parts


# --- Sentiment -------------------------------------------------------------------------------------------

# Our own CRM-feedback lexicon: word -> weight (about -2..+2). Written from what support cases, survey
# comments and call notes say, in both languages; English inflections are listed where the suffix rules in
# _lookup do not reach. Words whose sentiment depends on context in CRM texts are left out on purpose:
# "cancel" (a meeting or a subscription), "like" ("would like a quote"), 麻烦 ("please" in requests),
# 取消, 问/问题 as a plain question.
EN_LEXICON: Final[dict[str, float]] = {
    # positive
    "great": 1.5, "good": 1.0, "excellent": 2.0, "fantastic": 2.0, "amazing": 2.0, "awesome": 2.0,
    "wonderful": 1.5, "brilliant": 2.0, "superb": 2.0, "perfect": 2.0, "perfectly": 2.0, "best": 1.5,
    "love": 1.5, "loves": 1.5, "loved": 1.5, "enjoy": 1.5, "happy": 1.5, "glad": 1.5, "pleased": 1.5,
    "satisfied": 1.5, "thrilled": 2.0, "delighted": 2.0, "impressed": 1.5, "impressive": 1.5,
    "helpful": 1.5, "useful": 1.0, "valuable": 1.0, "easy": 1.0, "smooth": 1.0, "smoothly": 1.0,
    "fast": 1.0, "faster": 1.0, "quick": 0.5, "quickly": 0.5, "reliable": 1.0, "reliably": 1.0,
    "stable": 1.0, "clear": 0.5, "intuitive": 1.0, "nice": 1.0, "appreciate": 1.0, "appreciated": 1.0,
    "thanks": 0.5, "thank": 0.5, "grateful": 1.0, "recommend": 1.5, "responsive": 1.0, "friendly": 1.0,
    "patient": 1.0, "professional": 1.0, "fair": 0.5, "solved": 1.0, "resolved": 1.0, "fixed": 1.0, "fix": 0.5,
    "works": 1.0, "worked": 1.0, "work": 0.5, "working": 0.5, "improved": 1.0, "improvement": 1.0,
    "saves": 1.0, "efficient": 1.0, "painless": 1.5, "lifesaver": 2.0, "kudos": 2.0, "charm": 1.0,
    "powerful": 1.0, "flexible": 1.0, "convenient": 1.0, "positive": 1.0, "success": 1.0,
    "successful": 1.0, "worth": 1.0, "accurate": 1.0, "well": 0.5, "better": 0.5, "fine": 0.5,
    "okay": 0.0, "ok": 0.0,
    # negative
    "bad": -1.5, "terrible": -2.0, "awful": -2.0, "horrible": -2.0, "poor": -1.5, "worse": -1.5,
    "worst": -2.0, "slow": -1.5, "slower": -1.5, "broken": -1.5, "broke": -1.5, "breaks": -1.5,
    "breaking": -1.5, "bug": -1.0, "buggy": -1.5, "crash": -1.5, "crashes": -1.5, "crashed": -1.5,
    "error": -1.0, "fail": -1.5, "failed": -1.5, "failing": -1.5, "failure": -1.5, "issue": -0.5,
    "problem": -0.5, "wrong": -1.0, "disappointed": -2.0, "disappointing": -2.0, "frustrated": -2.0,
    "frustrating": -2.0, "annoying": -1.5, "angry": -2.0, "unhappy": -2.0, "unacceptable": -2.0,
    "useless": -2.0, "unusable": -2.0, "confusing": -1.5, "confused": -1.0, "complicated": -1.0,
    "difficult": -1.0, "hard": -1.0, "expensive": -1.0, "overpriced": -1.5, "mess": -1.5,
    "nightmare": -2.0, "waste": -1.5, "lost": -1.0, "lose": -1.0, "missing": -1.0, "irrelevant": -1.0,
    "inaccurate": -1.5, "outage": -1.5, "downtime": -1.0, "delay": -1.0, "delayed": -1.0, "stuck": -1.5,
    "complain": -1.0, "complaint": -1.0, "complaints": -1.0, "churn": -1.5, "regret": -1.5,
    "tired": -1.5, "sorry": -0.5, "unfortunately": -1.0, "urgent": -1.0, "urgently": -1.0,
    "asap": -0.5, "escalate": -1.0, "waiting": -0.5, "keeps": -0.5, "constantly": -0.5,
    "threatened": -1.5, "refund": -1.0, "blocking": -1.0, "blocked": -1.0, "stopped": -1.0,
    "stop": -0.5, "worried": -1.5, "concerned": -1.0, "timeout": -1.0, "unable": -0.75,
    "cannot": -0.75, "can't": -0.75, "nobody": -1.0, "empty": -0.5, "duplicated": -1.0,
    "ugly": -1.5, "clunky": -1.5, "laggy": -1.5, "glitch": -1.0,
}  # fmt: skip

ZH_LEXICON: Final[dict[str, float]] = {
    # positive
    "好": 1.0, "很好": 1.5, "好用": 1.5, "不错": 1.5, "满意": 1.5, "喜欢": 1.5, "感谢": 0.5, "谢谢": 0.5,
    "多谢": 0.5, "棒": 2.0, "太棒了": 2.0, "很棒": 2.0, "赞": 1.5, "点赞": 1.5, "优秀": 2.0, "专业": 1.0,
    "耐心": 1.0, "及时": 1.0, "很快": 1.0, "快速": 1.0, "迅速": 1.0, "高效": 1.5, "稳定": 1.0, "顺利": 1.5,
    "顺手": 1.5, "方便": 1.0, "简洁": 1.0, "容易": 0.5, "清楚": 1.0, "清晰": 1.0, "直观": 1.0, "合理": 1.0,
    "实惠": 1.0, "推荐": 1.0, "值得": 1.0, "解决": 1.0, "修好": 1.0, "改善": 1.0, "提升": 1.0, "提高": 1.0,
    "节省": 1.0, "省": 0.5, "愉快": 1.5, "开心": 1.5, "高兴": 1.5, "惊喜": 1.5, "给力": 1.5, "一流": 2.0,
    "完美": 2.0, "漂亮": 1.0, "周到": 1.5, "好评": 1.5, "正面": 1.0, "受益匪浅": 2.0, "一目了然": 1.5,
    "正常": 0.5, "一切正常": 1.0, "成功": 1.0, "准确": 1.0, "流畅": 1.5, "好看": 1.0, "靠谱": 1.5,
    "强大": 1.0, "灵活": 1.0, "期待": 1.0, "有用": 1.0, "实用": 1.0, "一致": 0.5, "帮助": 0.5, "放心": 1.0,
    # negative
    "慢": -1.5, "太慢": -2.0, "很慢": -2.0, "卡": -1.0, "很卡": -1.5, "卡顿": -1.5, "差": -1.5,
    "很差": -2.0, "失败": -1.5, "错误": -1.0, "出错": -1.5, "报错": -1.5, "问题": -0.5, "故障": -1.5,
    "闪退": -2.0, "宕机": -2.0, "坏": -1.5, "崩溃": -2.0, "失望": -2.0, "不满": -2.0, "不满意": -2.0, "生气": -2.0,
    "愤怒": -2.0, "着急": -1.5, "急": -1.0, "投诉": -1.5, "抱怨": -1.5, "难用": -2.0, "难": -1.0,
    "复杂": -1.0, "混乱": -1.5, "乱": -1.0, "丢": -1.5, "丢失": -1.5, "贵": -1.0, "离谱": -2.0,
    "超期": -1.5, "延期": -1.0, "拖": -1.0, "拖延": -1.5, "误差": -1.0, "退款": -1.0, "超时": -1.5,
    "浪费": -1.5, "垃圾": -2.0, "烂": -2.0, "糟糕": -2.0, "坑": -1.5, "不好": -1.5, "不行": -1.5,
    "不如": -1.0, "不愿意": -1.0, "影响": -1.0, "严重": -1.0, "退订": -1.0, "担心": -1.0, "困扰": -1.5,
    "无语": -2.0, "答非所问": -1.5, "尽快": -0.5, "bug": -1.0, "麻烦事": -1.0, "不了": -1.0,
    "不专业": -1.5, "收不到": -1.0, "打不开": -1.0, "对不上": -1.0,
}  # fmt: skip

# Negators flip the next sentiment word within a few tokens of the same clause: "not bad", "不太满意",
# "没有问题", "doesn't work". A flipped negative counts half as positive ("not bad" is milder than "good").
NEGATORS: Final = frozenset(
    {
        "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "without", "zero", "cannot",
        "hardly", "barely", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "wont", "cant",
        "不", "没", "没有", "无", "未", "别", "非", "不是", "不太", "不够", "不能", "没什么", "没人", "无法",
        "从未", "从不", "毫无", "并不", "不再", "没能", "尚未", "还没", "不会",
    }
)  # fmt: skip
_NEGATION_WINDOW: Final = 3

# Degree words scale the next sentiment word. "too"/"太"/"有点" also mark excess on their own: "too many
# clicks", "太浅", "有点高" are complaints even when the adjective is not in the lexicon.
INTENSIFIERS: Final[dict[str, float]] = {
    "very": 1.5, "really": 1.5, "so": 1.3, "extremely": 2.0, "super": 1.5, "too": 1.5, "totally": 1.5,
    "completely": 1.5, "absolutely": 1.5, "highly": 1.5, "quite": 1.2, "pretty": 1.2, "still": 1.5,
    "much": 1.2, "slightly": 0.5, "somewhat": 0.7, "bit": 0.6, "little": 0.6,
    "很": 1.5, "非常": 2.0, "太": 1.5, "特别": 1.5, "十分": 1.5, "极其": 2.0, "超级": 1.5, "挺": 1.2,
    "比较": 1.1, "有点": 0.8, "有些": 0.8, "更": 1.2, "最": 1.5, "越来越": 1.3, "完全": 1.5, "根本": 1.5,
    "一直": 1.5, "总是": 1.5, "经常": 1.5, "又": 1.3, "还是": 1.3, "老是": 1.5, "真": 1.3, "全": 1.2,
}  # fmt: skip
EXCESS_MARKERS: Final[dict[str, float]] = {"too": -1.0, "太": -1.0, "有点": -0.5, "有些": -0.5}

# "but" and its kin: the clause after the contrast is what the writer means ("Thanks, but the export still
# fails"); what comes before counts half, what comes after half again as much.
CONTRASTS: Final = frozenset(
    {"but", "however", "though", "although", "yet", "但", "但是", "可是", "不过", "然而", "只是"}
)
_BEFORE_CONTRAST: Final = 0.5
_AFTER_CONTRAST: Final = 1.5


def _inability(token: str) -> bool:
    """Chinese potential complements of failure: 收不到, 对不上, 打不开 (V不C), and 不了 after a verb."""
    return len(token) == 3 and token[1] == "不" and _has_cjk(token)


@dataclass(frozen=True)
class SentimentScorer:
    """Lexicon + negation + degree + contrast scoring over tokens of either language.

    ``threshold``: a text is positive when its score is at least this, negative at most minus this.
    """

    lexicon: Mapping[str, float]
    threshold: float = 0.5
    use_rules: bool = True

    def _lookup(self, token: str) -> float | None:
        weight = self.lexicon.get(token)
        if weight is not None or not token.isascii():
            return weight
        # Plain English inflections: "fails" -> "fail", "crashed" -> "crash", "loading" -> "load".
        for suffix in ("s", "es", "ed", "d", "ing", "ly"):
            if token.endswith(suffix) and len(token) > len(suffix) + 2:
                weight = self.lexicon.get(token[: -len(suffix)])
                if weight is not None:
                    return weight
        return None

    def _lookup_chinese_tail(self, token: str) -> float | None:
        """An unknown Chinese compound ending in a lexicon word of two or more characters: 服务周到 -> 周到."""
        for start in range(1, len(token) - 1):
            weight = self.lexicon.get(token[start:])
            if weight is not None:
                return weight
        return None

    def score(self, tokens: Sequence[str]) -> float:
        if not self.use_rules:
            return sum(self._lookup(token) or 0.0 for token in tokens)
        tokens = [part for token in tokens for part in _split_glued(token, self.lexicon)]
        total = 0.0
        contrast_seen = False
        before_contrast = 0.0
        negation_left = 0  # tokens still inside the last negator's scope
        degree = 1.0
        pending_excess = 0.0  # "too"/"太" waiting to see whether a sentiment word follows
        for token in tokens:
            if token in _CLAUSE_ENDS:
                total += pending_excess
                pending_excess, negation_left, degree = 0.0, 0, 1.0
                continue
            if token in CONTRASTS:
                total += pending_excess
                before_contrast += total
                total, pending_excess, negation_left, degree = 0.0, 0.0, 0, 1.0
                contrast_seen = True
                continue
            if token in NEGATORS or token.endswith("n't"):
                negation_left = _NEGATION_WINDOW
                weight = self._lookup(token)  # "nobody", "cannot" carry weight of their own
                if weight:
                    total += weight
                continue
            if token in INTENSIFIERS:
                degree *= INTENSIFIERS[token]
                pending_excess += EXCESS_MARKERS.get(token, 0.0)
                continue
            weight = self._lookup(token)
            if weight is None and _inability(token):
                weight = -1.0
            if weight is None and len(token) >= 3 and _has_cjk(token):
                weight = self._lookup_chinese_tail(token)
            if weight is None:
                if negation_left:
                    negation_left -= 1
                continue
            if weight:
                weight *= degree
                if negation_left:
                    weight = -weight if weight > 0 else -0.5 * weight
                total += weight
                pending_excess = 0.0
            negation_left, degree = 0, 1.0
        total += pending_excess
        if contrast_seen:
            return _BEFORE_CONTRAST * before_contrast + _AFTER_CONTRAST * total
        return total

    def sentiment(self, tokens: Sequence[str]) -> str:
        score = self.score(tokens)
        if score >= self.threshold:
            return POSITIVE
        if score <= -self.threshold:
            return NEGATIVE
        return NEUTRAL


_SCORER: Final = SentimentScorer(lexicon={**EN_LEXICON, **ZH_LEXICON})


# --- Keywords --------------------------------------------------------------------------------------------

EN_STOP_WORDS: Final = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here
    here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself
    let's me more most mustn't my myself no nor not of off on once only or other ought our ours ourselves
    out over own same shan't she she'd she'll she's should shouldn't so some such than that that's the
    their theirs them themselves then there there's these they they'd they'll they're they've this those
    through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when
    when's where where's which while who who's whom why why's with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves just will shall may might must also still yet get got
    gets getting one two three us via per etc ie eg re hi hello hey dear thanks thank please regards best
    cheers ok okay yes yeah sure kind kindly like would could lot lots much many really even ever every
    since now then today tomorrow yesterday again back way new""".split()  # noqa: SIM905 (a word list reads better as text)
)
# Chinese function words of two or more characters (single characters are never keywords, see below),
# plus the politeness that opens and closes CRM messages.
ZH_STOP_WORDS: Final = frozenset(
    """我们 你们 他们 她们 它们 自己 这个 那个 这些 那些 这样 那样 这么 那么 这里 那里 这次 那次 什么 怎么
    怎样 为什么 如何 哪里 哪个 可以 可能 能够 应该 需要 已经 还是 还有 就是 但是 不过 可是 然后 所以 因为
    如果 虽然 而且 并且 或者 以及 还是 一下 一些 一点 一个 一直 现在 目前 之前 之后 以后 以前 时候 的话
    没有 不是 不能 不会 是否 能不能 有没有 请问 您好 你好 谢谢 感谢 麻烦 辛苦 收到 好的 一起 大家 比较
    非常 特别 十分 真的 其实 然而 另外 关于 对于 通过 进行 表示 觉得 认为 知道 这边 那边 我司 贵司 各位
    起来 出来 下去 上来 一切 所有 每次 每个 还要 还会 也是 都是 只是 只有 不用 不要 就是 而已""".split()  # noqa: SIM905
)


# Chinese numbers with at most one measure word (三天, 二十个, 一份) are quantities, not topics. The pattern
# is a single character class then an optional character: no backtracking to speak of.
_ZH_QUANTITY_RE: Final = re.compile("[零〇一二两三四五六七八九十百千万亿几半]+[个份次天年月日周号点位张条件本台倍遍]?")


def _is_keyword_candidate(token: str) -> bool:
    if token in EN_STOP_WORDS or token in ZH_STOP_WORDS:
        return False
    if _has_cjk(token):
        # Single Chinese characters are mostly particles and pronouns (的, 了, 我); jieba.analyse drops them too.
        return len(token) >= 2 and _ZH_QUANTITY_RE.fullmatch(token) is None
    # A Latin keyword must hold a letter and two characters ("a", "x" are not keywords; "q3" is).
    return len(token) >= 2 and any("a" <= char <= "z" or char > "\u00bf" for char in token)


# jieba's IDF table (ships with jieba): rare words weigh more. Words it does not know (English, product
# names) get its median, so in a Chinese text an English term ranks like an ordinary Chinese word.
_IDF: Final[Mapping[str, float]] = default_tfidf.idf_freq
_MEDIAN_IDF: Final = float(default_tfidf.median_idf)


def _keywords(tokens: Iterable[str], language: str) -> list[str]:
    """Up to five distinct content words, most significant first.

    Chinese (and mixed) texts: TF-IDF with jieba's IDF table, as jieba.analyse.extract_tags does, but over
    the tokens already cut for the sentiment (one segmentation, not two). English texts: term frequency, ties
    broken by first appearance: with stop words gone, what a short CRM message repeats or says first is its
    topic, and no English IDF table ships in a package we already depend on.
    """
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for position, token in enumerate(tokens):
        if _is_keyword_candidate(token):
            counts[token] += 1
            first_seen.setdefault(token, position)
    if language == LANGUAGE_ZH:

        def significance(word: str) -> tuple[float, int]:
            return (-counts[word] * _IDF.get(word, _MEDIAN_IDF), first_seen[word])
    else:

        def significance(word: str) -> tuple[float, int]:
            return (-float(counts[word]), first_seen[word])

    return sorted(counts, key=significance)[:MAX_KEYWORDS]


# --- Labelling -------------------------------------------------------------------------------------------


def _label(text: str, vocabulary: _CompiledVocabulary) -> Labels:
    lowered = text.lower()
    language = detect_language(text)
    tokens = _tokens(text)
    return Labels(
        language=language,
        sentiment=_SCORER.sentiment(tokens),
        intents=vocabulary.intents_in(lowered),
        competitors=vocabulary.competitors_in(lowered),
        keywords=_keywords(tokens, language),
    )


def label(text: str, vocabulary: Vocabulary) -> Labels:
    """Label one text. For many texts use :func:`label_many`, which prepares the vocabulary once."""
    return _label(text, _CompiledVocabulary.of(vocabulary))


def label_many(texts: Sequence[str], vocabulary: Vocabulary) -> list[Labels]:
    """Label each text exactly as :func:`label` would, preparing the vocabulary's terms once."""
    compiled = _CompiledVocabulary.of(vocabulary)
    return [_label(text, compiled) for text in texts]


def iter_labels(texts: Iterable[str], vocabulary: Vocabulary) -> Iterator[Labels]:
    """Like :func:`label_many` for a stream (an iterator over a queryset) without holding every result."""
    compiled = _CompiledVocabulary.of(vocabulary)
    for text in texts:
        yield _label(text, compiled)


def warm_up() -> None:
    """Load jieba's dictionary now (about 0.5-1 s, once per process) rather than on the first text.

    Call it when a worker process starts (Celery's ``worker_process_init``) so that the first task does not
    pay the load.
    """
    jieba.initialize()
    _tokens("预热")
