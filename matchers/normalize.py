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
_NEEDS_FOLDING = re.compile(r"[^\x00-\x5f\x61-\x7f]|[\r\x0b\x0c]")


def fold(text: str) -> Folded:
    """Fold ``text``; plain ASCII runs are lower-cased in bulk, other characters one by one."""
    if text.isascii() and not _ASCII_SPECIAL.search(text):
        return Folded(text.lower(), None)
    out: list[str] = []
    offsets: list[int] = []
    position = 0
    for found in _NEEDS_FOLDING.finditer(text):
        index = found.start()
        if index > position:
            out.append(text[position:index].lower())
            offsets.extend(range(position, index))
        folded = fold_char(text[index])
        if folded:
            out.append(folded)
            offsets.extend([index] * len(folded))
        position = index + 1
    if position < len(text):
        out.append(text[position:].lower())
        offsets.extend(range(position, len(text)))
    return Folded("".join(out), tuple(offsets))


def fold_plain(text: str) -> str:
    """The folded text alone (for configured forms and keywords)."""
    return fold(text).text


_QUICK_REPLACE = (
    *((char, "'") for char in sorted(_APOSTROPHES)),
    *((char, "-") for char in sorted(_HYPHENS)),
    *_SPECIAL.items(),
    ("\u2014", ";"),
    ("\u2013", ";"),
)


def _latin1_table() -> tuple[bytes, bytes]:
    table = bytearray(range(256))
    for byte in range(0x41, 0x5B):
        table[byte] = byte + 32
    drop = bytearray()
    for byte in range(0x80, 0x100):
        folded = quick_fold(bytes([byte]).decode("latin-1"))
        if len(folded) == 1:
            table[byte] = ord(folded)
        elif bytes([byte]).decode("latin-1").isspace():
            table[byte] = 0x20
        else:
            drop.append(byte)
    return bytes(table), bytes(drop)


_LATIN1_TABLE: tuple[bytes, bytes] | None = None


def latin1_fold(text: str) -> bytes | None:
    """The fastest fold, for a negative prefilter only: Latin-1 letters folded to ASCII
    bytes, every other character dropped (so "ł" or "ā" vanish instead of becoming
    "l" or "a": a misspelling of the brand with such a letter is not looked for).
    None when the text has French œ/Œ, which only :func:`quick_fold` folds right."""
    global _LATIN1_TABLE
    if "œ" in text or "Œ" in text:
        return None
    if _LATIN1_TABLE is None:
        _LATIN1_TABLE = _latin1_table()
    table, drop = _LATIN1_TABLE
    return text.encode("latin-1", "ignore").translate(table, drop)


def quick_fold(text: str) -> str:
    """A fast fold without offsets (C-level), for prefiltering only.

    It agrees with :func:`fold` on letters, digits, apostrophes, hyphens and
    spaces; other non-ASCII symbols are dropped instead of kept, so it may
    join words that ``fold`` keeps apart — acceptable for a prefilter, whose
    positives are always confirmed on the exact fold.
    """
    if not text.isascii():
        for char, replacement in _QUICK_REPLACE:
            if char in text:
                text = text.replace(char, replacement)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.lower()
