"""Folding text for matching while keeping the way back to the original.

``fold(text)`` lower-cases, strips accents (é→e, œ→oe), turns curly apostrophes
into ``'``, every kind of space into `` ``, removes soft hyphens and zero-width
characters, and keeps for each folded character the index of the original
character it came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_REMOVED = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e"}
_APOSTROPHES = {"\u2019", "\u2018", "\u02bc", "\u00b4", "\u0060", "\u2032", "\uff07"}
_HYPHENS = {"\u2010", "\u2011", "\u2212", "\ufe63", "\uff0d"}
_SPECIAL = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o", "Ø": "o", "ł": "l"}

_cache: dict[str, str] = {}


def fold_char(char: str) -> str:
    """The folded form of one character (possibly empty or two characters)."""
    cached = _cache.get(char)
    if cached is not None:
        return cached
    if char in _REMOVED:
        out = ""
    elif char in _APOSTROPHES:
        out = "'"
    elif char in _HYPHENS:
        out = "-"
    elif char in _SPECIAL:
        out = _SPECIAL[char]
    elif char.isspace() or unicodedata.category(char) == "Zs":
        out = "\n" if char in "\n\r\u2028\u2029\x0b\x0c\x85" else " "
    else:
        decomposed = unicodedata.normalize("NFKD", char)
        out = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    _cache[char] = out
    return out


@dataclass(frozen=True, slots=True)
class Folded:
    """Folded text plus, when it differs, the original index of each character."""

    text: str
    offsets: tuple[int, ...] | None  # None: the folded text is aligned with the original

    def original(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded [start, end) back to the original text."""
        if self.offsets is None:
            return start, end
        return self.offsets[start], self.offsets[end - 1] + 1


_ASCII_SPECIAL = re.compile(r"[`\r\x0b\x0c]")


def fold(text: str) -> Folded:
    if text.isascii() and not _ASCII_SPECIAL.search(text):
        return Folded(text.lower(), None)
    out: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = fold_char(char) if not ("a" <= char <= "z" or char == " ") else char
        if folded:
            out.append(folded)
            offsets.extend([index] * len(folded))
    return Folded("".join(out), tuple(offsets))


def fold_plain(text: str) -> str:
    """The folded text alone (for configured forms and keywords)."""
    return fold(text).text
