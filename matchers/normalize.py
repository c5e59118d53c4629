"""Folding text for matching while keeping the way back to the original.

``fold(text)`` lower-cases, strips accents (é→e, œ→oe), turns curly apostrophes
into ``'``, every kind of space into `` ``, removes soft hyphens and zero-width
characters, and keeps for each folded character the index of the original
character it came from.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_REMOVED = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e"}
_APOSTROPHES = {"\u2019", "\u2018", "\u02bc", "\u00b4", "\u0060", "\u2032", "\uff07"}
_HYPHENS = {"\u2010", "\u2011", "\u2212", "\ufe63", "\uff0d"}
_SPECIAL = {
    "œ": "oe",
    "Œ": "oe",
    "æ": "ae",
    "Æ": "ae",
    "ß": "ss",
    "ø": "o",
    "Ø": "o",
    "ł": "l",
    "Ł": "l",
}

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
    offsets: tuple[int, ...] | None  # None: aligned with the original, but for ``shifts``
    # with ``offsets`` None, pieces of the original cut by :meth:`pick`: for each,
    # (first folded index, original index minus folded index), in order
    shifts: tuple[tuple[int, int], ...] = ()

    def original(self, start: int, end: int) -> tuple[int, int]:
        """Map a folded [start, end) back to the original text."""
        if self.offsets is not None:
            return self.offsets[start], self.offsets[end - 1] + 1
        if not self.shifts:
            return start, end
        return start + self._shift(start), end + self._shift(end - 1)

    def source(self, index: int) -> int:
        """The index in the original text of folded character ``index``."""
        if self.offsets is not None:
            return self.offsets[index]
        return index + self._shift(index) if self.shifts else index

    def _shift(self, index: int) -> int:
        return self.shifts[bisect.bisect_right(self.shifts, (index, math.inf)) - 1][1]

    def pick(self, ranges: Sequence[tuple[int, int]]) -> Folded:
        """Only the ``ranges`` of this folded text (sorted, disjoint), joined by a NUL
        that no rule reads as a word separator; offsets still point into the
        original text."""
        if len(ranges) == 1 and ranges[0] == (0, len(self.text)):
            return self
        if self.offsets is None and not self.shifts:  # aligned: one shift a piece
            shifts = []
            length = 0
            for start, end in ranges:
                shifts.append((length, start - length))
                length += end - start + 1
            text = "\x00".join(self.text[start:end] for start, end in ranges)
            return Folded(text, None, tuple(shifts))
        positions = self.offsets
        if positions is None:
            positions = tuple(self.original(i, i + 1)[0] for i in range(len(self.text)))
        return _joined(
            (self.text[start:end], positions[start:end], positions[start]) for start, end in ranges
        )


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


SPLIT = 0  # byte standing for a character whose fold is not one character
SYMBOL = 1  # byte standing for a character folded to itself, neither letter nor space
_SEPARATORS = frozenset(" \t\n'-,")  # the characters the rules read between words


def _byte_table() -> tuple[bytes, bytes]:
    """Latin-1 byte -> the byte of its character's fold, and the bytes that fold to
    no character or to more than one with a letter or a separator in it.

    On a text without those bytes, the folded bytes read as :func:`fold` does,
    except that « » © °…, which no rule reads, all become :data:`SYMBOL`.
    """
    table = bytearray(256)
    for byte in range(256):
        char = chr(byte)
        folded = char.lower() if byte < 0x80 and not _NEEDS_FOLDING.match(char) else fold_char(char)
        if len(folded) == 1 and folded.isascii():
            table[byte] = ord(folded)
        elif not folded or any(c.isalnum() or c in _SEPARATORS for c in folded):
            table[byte] = SPLIT  # soft hyphen, æ, ß, ¼…
        else:
            table[byte] = SYMBOL
    table[SPLIT] = table[SYMBOL] = SYMBOL  # so that SPLIT only ever stands for one of those
    return bytes(table), bytes(b for b in range(256) if table[b] == SPLIT)


_LATIN1_TABLE, _LATIN1_SPLIT = _byte_table()
# The characters beyond Latin-1 of everyday French text, each with a Latin-1
# stand-in that folds alike: a separator, a symbol no rule reads, or (œ) a
# character standing for two letters.
_STAND_INS = {
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": "\x01",
    "\u201d": "\x01",
    "\u2013": "\x01",
    "\u2014": "\x01",
    "\u2026": "\x01",
    "\u20ac": "\x01",
    "\u202f": " ",
    "\u2009": " ",
    "œ": "\xad",
    "Œ": "\xad",
}
_SPELLED_OUT = tuple((c, r) for c, r in _SPECIAL.items() if len(r) > 1 or ord(c) > 0xFF)
# beyond Latin-1 and the General Punctuation block (’ “ ” – — … and zero-width spaces)
_BEYOND_PUNCTUATION = re.compile("[^\x00-\xff\u2000-\u206f]")


def _latin1(text: str) -> bytes | None:
    """``text`` in Latin-1, everyday characters beyond it replaced by their
    stand-ins (one for one, so positions hold); None if others are left."""
    while True:
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError as error:
            stand_in = _STAND_INS.get(text[error.start])
            if stand_in is None:
                return None
            text = text.replace(text[error.start], stand_in)


def byte_fold(text: str) -> tuple[bytes, bool]:
    """One folded byte per character of ``text`` (C speed), and whether each
    character had a byte of its own (Latin-1, or ’ “ ” – — … and the like).

    A position in the bytes is a position in ``text``, so ASCII anchors found
    here locate the windows worth folding. Other characters become ``?``, and
    those folding to nothing or to more than one character :data:`SPLIT`: an
    anchor written across one of them is only seen by :func:`loose_fold`.
    """
    encoded = _latin1(text)
    if encoded is not None:
        return encoded.translate(_LATIN1_TABLE), True
    return text.encode("latin-1", "replace").translate(_LATIN1_TABLE), False


def loose_fold(text: str) -> bytes:
    """The folded bytes with every character that folds to nothing dropped, so a
    word cut by a soft hyphen or a zero-width space is whole again; œ, æ, ß, ł are
    spelled out and, when the text has characters beyond Latin-1 other than
    punctuation (ＣＥＧＥＰ, ā, emoji…), they are decomposed (NFKD) first. Positions
    do not match ``text``: for a yes/no anchor check only."""
    for char, replacement in _SPELLED_OUT:
        if char in text:
            text = text.replace(char, replacement)
    encoded = _latin1(text)
    if encoded is None:
        if _BEYOND_PUNCTUATION.search(text):
            text = unicodedata.normalize("NFKD", text)
        encoded = text.encode("latin-1", "ignore")
    return encoded.translate(_LATIN1_TABLE, _LATIN1_SPLIT)


def word_edge(char: str) -> bool:
    """Can ``char`` be inside a word? (a letter or digit, or nothing once folded)"""
    return char.isalnum() or (not char.isascii() and not fold_char(char))


# Runs of characters :func:`word_edge` accepts, found at C speed: letters and
# digits (``[^\W_]`` is exactly ``str.isalnum``), the characters removed by the
# fold and the combining accents (U+034F, the grapheme joiner, is kept by the
# fold). Rarer characters that fold to nothing end a run and are checked one by one.
_WORD_RUN = re.compile("(?:[^\\W_]|[" + "".join(sorted(_REMOVED)) + "\u0300-\u034e\u0350-\u036f])+")


def word_end(text: str, index: int) -> int:
    """The end of the word ``text[index]`` is in: the first position from
    ``index`` on where :func:`word_edge` is false (or the end of ``text``)."""
    while True:
        run = _WORD_RUN.match(text, index)
        if run is not None:
            index = run.end()
        if index < len(text) and word_edge(text[index]):
            index += 1  # a rarer character that folds to nothing
        else:
            return index


def word_start(text: str, index: int) -> int:
    """The start of the word ending at ``index``: the last position up to
    ``index`` after a character where :func:`word_edge` is false (or 0).

    Read backwards in growing chunks, so a word of any length costs its length.
    """
    chunk = 64
    while index > 0 and word_edge(text[index - 1]):
        low = max(0, index - chunk)
        run = _WORD_RUN.match(text[low:index][::-1])
        length = run.end() if run is not None else 0
        index -= length
        if index == low:
            chunk *= 2
        elif not length:  # a rarer character that folds to nothing
            index -= 1
    return index


def fold_windows(text: str, windows: Sequence[tuple[int, int]]) -> Folded:
    """Fold only the ``windows`` of ``text`` (sorted, disjoint [start, end) pairs),
    joined by a NUL that no rule reads as a word separator; offsets point into
    the whole ``text``."""
    if len(windows) == 1 and windows[0] == (0, len(text)):
        return fold(text)
    pieces: list[tuple[str, Sequence[int], int]] = []
    for start, end in windows:
        piece = fold(text[start:end])
        if piece.offsets is None:
            pieces.append((piece.text, range(start, end), start))
        else:
            pieces.append((piece.text, [start + offset for offset in piece.offsets], start))
    return _joined(pieces)


def _joined(pieces: Iterable[tuple[str, Sequence[int], int]]) -> Folded:
    """Folded pieces, each with the original index of each of its characters,
    joined by a NUL that no rule reads as a word separator; the NUL points at the
    original index given with the piece after it."""
    parts: list[str] = []
    offsets: list[int] = []
    for text, positions, at in pieces:
        if parts:
            parts.append("\x00")
            offsets.append(at)
        parts.append(text)
        offsets.extend(positions)
    return Folded("".join(parts), tuple(offsets))


def quick_fold(text: str) -> str:
    """A fast fold without offsets (C-level), for keys: the normalised titles of
    the deduplication, the fingerprints of a page's paragraphs.

    It agrees with :func:`fold` on letters, digits, apostrophes, hyphens and
    spaces; other non-ASCII symbols are dropped instead of kept, so it may
    join words that ``fold`` keeps apart (never a problem for a key).
    """
    if not text.isascii():
        for char, replacement in _QUICK_REPLACE:
            if char in text:
                text = text.replace(char, replacement)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.lower()
