"""A folded text as word tokens, and how a token compares with a word.

Matching compares word tokens of the folded text (see :mod:`matchers.normalize`),
so "cégep" and "Drummondville" in the same text but not side by side are never
a match. Only the separators the rules read as weak (spaces, a line break, an
apostrophe, a hyphen) let a form run on from one token to the next.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import NamedTuple

from rapidfuzz.distance import OSA

from matchers.normalize import Folded

_SPLIT = re.compile(r"([a-z0-9]+)")
WEAK_SEPARATOR = re.compile(r"[ \t\n'\-]{1,12}")  # between two words of one form
LIST_SEPARATOR = re.compile(r"[ \t\n'\-,]{1,12}")  # between two names of a list
# A word cut by a hyphen at a line end ("Drum-⏎mondville"). \r\n folds to two
# \n; written so that no run of spaces can be split two ways (a long run would
# make a failing fullmatch try every split)
CUT_WORD = re.compile(r"-[ \t]*\n(?:[ \t]*\n)?[ \t]*")


CUT_WORD_BYTES = re.compile(CUT_WORD.pattern.encode())  # the same, in a byte fold


def find_across_cuts(text: str, part: str) -> list[tuple[int, int]]:
    """Where ``part`` stands in ``text`` once every word cut by a hyphen at a line end
    is joined again ("ce-⏎gep de drum-⏎mondville" holds "cegep" at 0–6 and
    "drummondville" at 11–26): its spans in ``text``, left to right, not overlapping."""
    joined: list[str] = []
    segments: list[tuple[int, int]] = []  # where each piece starts: joined, in text
    size = last = 0
    for cut in CUT_WORD.finditer(text):
        segments.append((size, last))
        joined.append(text[last : cut.start()])
        size += cut.start() - last
        last = cut.end()
    segments.append((size, last))
    joined.append(text[last:])
    whole = "".join(joined)
    firsts = [first for first, _ in segments]

    def in_text(position: int) -> int:  # a character of ``whole`` in ``text``
        first, start = segments[bisect.bisect_right(firsts, position) - 1]
        return start + position - first

    found = []
    position = whole.find(part)
    while position != -1:
        found.append((in_text(position), in_text(position + len(part) - 1) + 1))
        position = whole.find(part, position + len(part))
    return found


class WordHit(NamedTuple):
    """A word read at a token: the last token it takes, and the typos in it."""

    last: int  # the token after the first one when the word is cut at a line end
    edits: int


class Tokens:
    """A folded text split into word tokens, with the separators between them.

    Token ``i`` is ``words[i]`` at ``starts[i]:ends[i]`` of the folded text;
    ``seps[i]`` is the text between it and token ``i + 1``. Built by one
    ``re.split`` and one running sum, both at C speed.
    """

    def __init__(
        self, original: str, folded: Folded, ruled_out: Mapping[str, set[int]] | None = None
    ):
        self.original = original
        self.folded = folded
        # for an anchor, the places (in the original) where no rule it opens can match
        self.ruled_out = ruled_out or {}
        self._has: dict[str, bool] = {}
        # is a word cut by a hyphen at a line end somewhere? (then tokens may join)
        self.cut = CUT_WORD.search(folded.text) is not None
        self.alias_possible: dict[int, bool] = {}  # may alias number k match here? (rules)
        self._lengths: set[int] | None = None
        parts = _SPLIT.split(folded.text)  # separator, word, separator, …, separator
        bounds = list(accumulate(map(len, parts)))
        self.words: list[str] = parts[1::2]
        self.seps: list[str] = parts[2::2]
        self.starts: list[int] = bounds[0:-1:2]
        self.ends: list[int] = bounds[1::2]

    def has_length(self, low: int, high: int) -> bool:
        """Is a token ``low`` to ``high`` characters long? (lengths cached)"""
        if self._lengths is None:
            self._lengths = set(map(len, self.words))
        return any(size in self._lengths for size in range(low, high + 1))

    def has(self, word: str) -> bool:
        """Is ``word`` anywhere in the folded text, words cut at a line end joined
        again? (cached)"""
        known = self._has.get(word)
        if known is None:
            text = self.folded.text
            known = word in text or (self.cut and word in CUT_WORD.sub("", text))
            self._has[word] = known
        return known

    def capitalised(self, index: int) -> bool:
        """Does token ``index`` start with a capital letter or a digit in the original?"""
        start, _ = self.folded.original(self.starts[index], self.starts[index] + 1)
        char = self.original[start]
        return char.isupper() or char.isdigit()

    def word_at(self, index: int, target: str, tolerance: int) -> WordHit | None:
        """Does the word at ``index`` read ``target``, within ``tolerance`` typos?

        A word cut by a hyphen at the end of a line ("Drum-⏎mondville") is
        joined with the next token before comparing.
        """
        words = self.words
        text = words[index]
        if text == target:
            return WordHit(index, 0)
        size, goal = len(text), len(target)
        best: WordHit | None = None
        if tolerance and abs(size - goal) <= tolerance:
            edits = OSA.distance(text, target, score_cutoff=tolerance)
            if edits <= tolerance:
                best = WordHit(index, edits)
                if edits == 0:
                    return best
        if (
            size < goal
            and index + 1 < len(words)
            and abs(size + len(words[index + 1]) - goal) <= tolerance
            and CUT_WORD.fullmatch(self.seps[index])
        ):
            edits = OSA.distance(text + words[index + 1], target, score_cutoff=tolerance)
            if edits <= tolerance and (best is None or edits < best.edits):
                best = WordHit(index + 1, edits)
        return best

    def weak_after(self, index: int) -> bool:
        """Is token ``index`` followed by another, with only a weak separator between?"""
        if index + 1 >= len(self.words):
            return False
        sep = self.seps[index]
        return sep == " " or WEAK_SEPARATOR.fullmatch(sep) is not None

    def shown(self, start: int, end: int) -> str:
        """The original text of the folded ``[start, end)``, on one line."""
        begin, stop = self.folded.original(start, end)
        return " ".join(self.original[begin:stop].split())
