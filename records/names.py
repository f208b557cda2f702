"""Likely duplicate accounts (API.md, clean house): names that differ only in case, width,
punctuation, spacing or a legal suffix ("Acme, Inc." and "ACME Inc"; "智云科技有限公司" and "智云科技")."""

from __future__ import annotations

import string
import unicodedata

LEGAL_WORDS = frozenset(
    ["ltd", "limited", "inc", "incorporated", "corp", "corporation", "co", "llc", "plc", "gmbh", "ag", "sa"]
)
# Longest first, so 股份有限公司 is dropped whole rather than leaving 股份.
LEGAL_ENDINGS = ("股份有限公司", "有限责任公司", "有限公司")
# ASCII text is its own NFKC, casefolds as lower(), and its P* and S* characters are exactly
# string.punctuation: most names take this path, at a tenth of the cost of the general one.
_ASCII_PUNCTUATION = str.maketrans("", "", string.punctuation)


class _DropPunctuationAndSymbols(dict[int, int | None]):
    """A ``str.translate`` table deleting Unicode punctuation (P*) and symbols (S*), filled as characters
    are met: the general path then costs one C-level lookup per character instead of a Python call.
    At most ``LIMIT`` characters are remembered, so odd input cannot grow it without bound."""

    LIMIT = 65_536

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code))[0] in "PS" else code
        if len(self) < self.LIMIT:
            self[code] = kept
        return kept


_DROP_PUNCTUATION_AND_SYMBOLS = _DropPunctuationAndSymbols()


def duplicate_key(name: str) -> str:
    """NFKC, casefold, Unicode punctuation (P*) and symbols (S*) deleted, spaces collapsed, then legal
    suffixes dropped from the end as long as one is there."""
    if name.isascii():
        text = name.lower().translate(_ASCII_PUNCTUATION)
    else:
        text = unicodedata.normalize("NFKC", name).casefold()
        text = text.translate(_DROP_PUNCTUATION_AND_SYMBOLS)
    text = " ".join(text.split())  # str.split() splits on exactly the characters \s matches
    while True:
        head, _, last = text.rpartition(" ")
        if last in LEGAL_WORDS:
            text = head
        elif text.endswith(LEGAL_ENDINGS):
            ending = next(e for e in LEGAL_ENDINGS if text.endswith(e))
            text = text[: -len(ending)].rstrip()
        else:
            return text
