"""Likely duplicate accounts (API.md, clean house): names that differ only in case, width,
punctuation, spacing or a legal suffix ("Acme, Inc." and "ACME Inc"; "智云科技有限公司" and "智云科技")."""

from __future__ import annotations

import re
import unicodedata

LEGAL_WORDS = frozenset(
    ["ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "llc", "plc", "gmbh", "ag", "sa"]
)
# Longest first, so 股份有限公司 is dropped whole rather than leaving 股份.
LEGAL_ENDINGS = ("股份有限公司", "有限责任公司", "有限公司")
_SPACES = re.compile(r"\s+")


def duplicate_key(name: str) -> str:
    """NFKC, casefold, Unicode punctuation (P*) and symbols (S*) deleted, spaces collapsed, then legal
    suffixes dropped from the end as long as one is there."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PS")
    text = _SPACES.sub(" ", text).strip()
    while True:
        words = text.rsplit(" ", 1)
        if words[-1] in LEGAL_WORDS:
            text = words[0] if len(words) == 2 else ""
            continue
        ending = next((e for e in LEGAL_ENDINGS if text.endswith(e)), None)
        if ending is None:
            return text
        text = text[: -len(ending)].rstrip()
