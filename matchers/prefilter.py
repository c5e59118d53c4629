"""The prefilter: where, if anywhere, a text may name the brand, found at C speed.

It never folds a whole text character by character:

1. the text becomes one folded byte per character (:func:`byte_fold`), where
   the anchors (see :mod:`matchers.anchors`) are looked for with ``bytes.find``
   — most texts stop here;
2. a quick look at the bytes around each anchor tells whether any rule could
   match there (the city alone, with no misspelt kind word before it, stops);
   in a text with many anchors, those where none can are ruled out;
3. only windows around the anchors are kept, merged and widened to whole
   words — cut from the byte fold, which reads as the exact fold there, else
   folded with offsets (:func:`fold_windows`);
4. characters that fold oddly (soft hyphens and zero-width spaces inside
   words, letters beyond Latin-1) send the text to the exact fold of the whole
   text whenever they might hide an anchor, so the result is always the one
   :meth:`Prefilter.look_whole` gives (a test checks it).

Time stays linear in the text's length: overlapping windows are merged with
each edge widened to a whole word once, however long the word; the anchors'
checks read a bounded stretch of bytes each, and a word looked for in the
whole text is looked for once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rapidfuzz.distance import OSA

from matchers.anchors import Anchor, Check, Need, WordsInText, find_all
from matchers.forms import BrandForms
from matchers.normalize import (
    SPLIT,
    Folded,
    byte_fold,
    fold,
    fold_windows,
    loose_fold,
    word_end,
    word_start,
)
from matchers.tokens import CUT_WORD, CUT_WORD_BYTES, Tokens, find_across_cuts

_WORD_BYTES = re.compile(rb"[a-z0-9]+")
# Up to this many anchors in a text, the quick look stops at the first where a
# rule may match (as many checks as rules tried it would spare); beyond, it checks
# them all, so that rules are tried only where they may match.
_FEW_HITS = 16
# The checks the quick look compares with, bound once (an enum member costs a
# lookup each time it is named)
_NOTHING, _KIND_BEFORE, _KIND_NEAR = Need.NOTHING, Need.KIND_BEFORE, Need.KIND_NEAR


class ContainingAnchor(NamedTuple):
    """An anchor that contains an anchor looked for in the byte fold."""

    anchor: str
    spelled: bytes  # ``anchor`` in bytes
    at: int  # where the anchor looked for stands in it
    checks: tuple[Check, ...]


class SearchedAnchor(NamedTuple):
    """An anchor looked for in the byte fold: one that contains no other.

    Finding an anchor that contains another is redundant: the minimal ones are
    searched, with windows wide enough for every anchor containing them.
    """

    anchor: bytes
    before: int  # characters of context kept before it
    after: int  # and after it
    containing: tuple[ContainingAnchor, ...]


# A searched anchor and its positions in the byte fold of a text, left to right
# (a plain tuple: one is built for each anchor found in each text).
AnchorHits = tuple[SearchedAnchor, list[int]]


class Prefilter:
    """Finds the stretches of a text where the brand may be named, and gives
    them folded, as :class:`Tokens`: quickly (:meth:`look`) or by folding the
    whole text (:meth:`look_whole`, the reference)."""

    def __init__(self, forms: BrandForms, anchors: Sequence[Anchor]):
        self._anchors = anchors
        self._searched = _searched_anchors(anchors)
        self._anchor_bytes = [searched.anchor for searched in self._searched]
        self._quick = _QuickLook(forms)

    def look(self, text: str) -> Tokens | None:
        """The stretches of ``text`` where the brand may be named, as tokens; None
        when it cannot be named in it. ``Tokens.ruled_out`` holds the anchors
        where the quick look ruled out every rule they open.

        Anchors are found in a byte fold of the text, at C speed (most texts stop
        there); the windows around them are then cut from that same byte fold
        when it is exact there, else folded one by one.
        """
        if not self._searched:  # anchors beyond ASCII: fold it all
            return self.look_whole(text)
        aligned, known = byte_fold(text)
        loose = None
        if not known:  # a character with no byte of its own (ā, ＣＥＧＥＰ, emoji…)
            loose = loose_fold(text)
            if not any(anchor in loose for anchor in self._anchor_bytes):
                return self.look_whole(text) if self._anchor_across_cut(loose) else None
        elif SPLIT in aligned:  # a soft hyphen, œ, æ, ß…
            loose = loose_fold(text)
        if self._anchor_across_cut(aligned if loose is None else loose):
            return self.look_whole(text)  # "cé-⏎gep de drum-⏎mondville": rare, read whole
        hits: list[AnchorHits] = []
        for number, anchor in enumerate(self._anchor_bytes):
            # find_all inlined: this loop runs on every text (a call costs 4 %)
            position = aligned.find(anchor)
            if position != -1:
                positions = []
                while position != -1:
                    positions.append(position)
                    position = aligned.find(anchor, position + len(anchor))
                hits.append((self._searched[number], positions))
        if not hits and loose is None:
            return None  # most texts end here
        if loose is not None and any(
            loose.count(anchor) > aligned.count(anchor) for anchor in self._anchor_bytes
        ):
            return self.look_whole(text)  # an anchor written across a soft hyphen…
        ruled_out = self._quick.around(aligned, known, loose, hits) if hits else None
        if ruled_out is None:
            return None
        spans = []
        for (anchor, before, after, _), positions in hits:
            for position in positions:
                spans.append((position - before, position + len(anchor) + after))
        windows = merge_windows(spans, text)
        if loose is None or not any(
            _inexact(aligned, start, end, known) for start, end in windows
        ):  # the byte fold reads as the exact fold there
            return Tokens(text, Folded(aligned.decode("latin-1"), None).pick(windows), ruled_out)
        return Tokens(text, fold_windows(text, windows), ruled_out)

    def _anchor_across_cut(self, folded: bytes) -> bool:
        """Is an anchor written across a word cut at a line end in this byte fold?"""
        if CUT_WORD_BYTES.search(folded) is None:
            return False
        joined = CUT_WORD_BYTES.sub(b"", folded)
        return any(joined.count(anchor) > folded.count(anchor) for anchor in self._anchor_bytes)

    def look_whole(self, text: str) -> Tokens | None:
        """Like :meth:`look`, but found in the exact fold of the whole text:
        windows around every anchor, none ruled out. Slower than :meth:`look`,
        and what it must give."""
        folded = fold(text)
        cut = CUT_WORD.search(folded.text) is not None
        spans = []
        for anchor in self._anchors:
            before, after = anchor.reach
            if cut:  # words cut at a line end: an anchor may be written across a cut
                for start, end in find_across_cuts(folded.text, anchor.text):
                    spans.append((start - before, end + after))
                continue
            for position in find_all(folded.text, anchor.text):
                spans.append((position - before, position + len(anchor.text) + after))
        windows = merge_windows(spans, folded.text)
        return Tokens(text, folded.pick(windows)) if windows else None


def merge_windows(spans: Iterable[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Spans clipped to ``text`` and widened to whole words, merged when they touch.

    Each edge is widened once, where it ends up in the result: a merged window
    ends on a word edge, so a span starting after that end starts in another
    word, and one starting before it only may push the end further. Overlapping
    spans in one long word (a run without spaces) thus cost the word's length
    once, not once each.
    """
    merged: list[tuple[int, int]] = []
    first = reach = edge = -1  # the open window: its start, furthest end, word end there
    for start, end in sorted(spans):
        start, end = max(0, start), min(end, len(text))
        if start > reach:
            if edge < reach:  # widened only when a span may start beyond it
                edge = word_end(text, reach)
            if start > edge:
                if first >= 0:
                    merged.append((first, edge))
                first = word_start(text, start)
        reach = max(reach, end)
    if first >= 0:
        merged.append((first, word_end(text, reach) if edge < reach else edge))
    return merged


def _searched_anchors(anchors: Sequence[Anchor]) -> tuple[SearchedAnchor, ...]:
    """The anchors to look for in the byte fold, with their windows; none when
    one is beyond ASCII (only ASCII anchors can be found in bytes)."""
    searched = []
    texts = [anchor.text for anchor in anchors]
    for small in texts:
        if not small.isascii():
            return ()
        if any(other != small and other in small for other in texts):
            continue
        before = after = 0
        containing = []
        for anchor in anchors:
            wide_before, wide_after = anchor.reach
            for at in _occurrences(anchor.text, small):
                before = max(before, wide_before + at)
                after = max(after, wide_after + len(anchor.text) - at - len(small))
                containing.append(
                    ContainingAnchor(anchor.text, anchor.text.encode(), at, anchor.checks)
                )
        searched.append(SearchedAnchor(small.encode("ascii"), before, after, tuple(containing)))
    return tuple(searched)


class _QuickLook:
    """The checks made on the bytes around an anchor before any folding."""

    def __init__(self, forms: BrandForms):
        self._kind_bytes = frozenset(w.encode() for w in forms.kind_forms | forms.kind_typos)
        self._kind_bytes_exact = forms.kind.encode()
        near: dict[bytes, int] = {w.word.encode(): w.tolerance for w in forms.place}
        kind_aliases = [p for p in forms.aliases if forms.kind in p.words]
        for phrase in kind_aliases:
            near.update((w.word.encode(), w.tolerance) for w in phrase.beside_kind)
        # by length: the targets a word of that length may be within tolerance of
        self._targets: dict[int, list[tuple[bytes, int]]] = {}
        for target, tolerance in near.items():
            for size in range(len(target) - tolerance, len(target) + tolerance + 1):
                self._targets.setdefault(size, []).append((target, tolerance))
        # an alias's words may all stand on either side of the kind word
        self._words_before = max([len(forms.place) + 2, *(len(p.words) for p in kind_aliases)])
        self._words_after = self._words_before
        self._bytes_before = max(72, 12 * self._words_before + 24)
        # a run of letters as long as the shortest target, at least
        shortest = min(self._targets, default=0)
        self._long_word = re.compile(b"[a-z0-9]{%d}" % shortest) if shortest > 1 else None
        # any target spelled right (those containing another are found with it)
        spelled = sorted(near, key=len)
        self._spelled_targets = [
            t for n, t in enumerate(spelled) if not any(s in t for s in spelled[:n])
        ]

    def around(
        self, aligned: bytes, known: bool, loose: bytes | None, hits: Sequence[AnchorHits]
    ) -> dict[str, set[int]] | None:
        """A quick, conservative look at the bytes around each anchor found: may a
        rule it opens match there? None when none can anywhere (the city alone,
        mostly); else, for each anchor, positions where none can, so that no rule
        is tried from there (a text of « cégep de » repeated is not tried token by
        token for the one « Drummondville » at its end). In a text with few
        anchors, the look stops at the first where a rule may match.

        ``known`` tells whether every character of the text had a byte of its own
        in ``aligned`` (else some are ``?``); ``loose`` (see :func:`loose_fold`) is
        given when some did not, or fold to nothing or to two letters.
        """
        if CUT_WORD_BYTES.search(aligned):
            return {}  # a word cut at a line end may hide anything
        # are the words of a check all in the text?
        present: dict[Check, bool] = {}
        ruled_out: list[tuple[str, int]] = []  # anchor, where it starts
        alive = False
        count = 0
        for _, positions in hits:
            count += len(positions)
        few = count <= _FEW_HITS  # then sparing the other checks saves more
        mixed = loose is not None  # else the byte fold reads as the exact fold throughout
        for searched, positions in hits:
            containing: Iterable[ContainingAnchor] = searched.containing
            if not few and loose is None:  # only the anchors the text holds
                containing = [c for c in containing if c.spelled in aligned]
            for position in positions:
                for anchor, spelled, at, checks in containing:
                    start = position - at
                    if start < 0:
                        continue
                    if not aligned.startswith(spelled, start):
                        if loose is None:
                            continue
                        if not _inexact(aligned, start, start + len(anchor) + 8, known):
                            continue  # else a removed character may be inside the anchor
                    for check in checks:  # does one pass?
                        if check is _NOTHING:
                            break
                        if check is _KIND_BEFORE:
                            if self._kind_before(aligned, known, mixed, start):
                                break
                        elif check is _KIND_NEAR:
                            if self._kind_near(aligned, known, mixed, start):
                                break
                        else:  # looked for once a text
                            words = present.get(check)
                            if words is None:
                                assert isinstance(check, WordsInText)
                                words = present[check] = all(
                                    w in (loose or aligned) for w in check.words
                                )
                            if words:
                                break
                    else:
                        ruled_out.append((anchor, start))
                        continue
                    alive = True
                if alive and few:
                    return _by_anchor(ruled_out)
        return _by_anchor(ruled_out) if alive else None

    def _kind_near(self, aligned: bytes, known: bool, mixed: bool, position: int) -> bool:
        """May a rule match around the kind word at ``position``? Only a plural, a
        longer word (a handle…) or a word of the place or of an alias near a
        singular kind word lets one. (Yes at once when one of those words is
        spelled right nearby, no at once when no word nearby is as long as the
        shortest of them. ``mixed``: may the byte fold differ from the exact fold
        somewhere?)"""
        kind = self._kind_bytes_exact
        stop = position + len(kind)
        if aligned[stop : stop + 1].isalnum() or not aligned.startswith(kind, position):
            return True  # a longer word (a plural, a handle…), or not the kind word
        start = max(0, position - self._bytes_before)
        end = position + 12 * self._words_after + 24
        if mixed and _inexact(aligned, start, end, known):
            return True
        if self._long_word is not None and not self._long_word.search(aligned, start, end):
            return False  # no word near is long enough to be a target, even cut short
        for target in self._spelled_targets:
            if aligned.find(target, start, end) != -1:
                return True  # spelled right: a rule may match (the rules will tell)
        return self._near_target(
            _WORD_BYTES.findall(aligned, stop, end)[: self._words_after]
        ) or self._near_target(_WORD_BYTES.findall(aligned, start, position)[-self._words_before :])

    def _near_target(self, words: Iterable[bytes]) -> bool:
        """Is one of ``words`` a word of the place or of an alias, within its typos?"""
        for word in words:
            for target, tolerance in self._targets.get(len(word), ()):
                if (
                    word == target
                    or OSA.distance(word, target, score_cutoff=tolerance) <= tolerance
                ):
                    return True
        return False

    def _kind_before(self, aligned: bytes, known: bool, mixed: bool, position: int) -> bool:
        """May one of the three words before ``position`` be a misspelt kind word?
        (``mixed``: may the byte fold differ from the exact fold somewhere?)"""
        start = max(0, position - 64)
        if mixed and _inexact(aligned, start, position, known):
            return True
        if aligned.find(self._kind_bytes_exact, start, position) != -1:
            return True  # the kind word spelled right: a rule may match (the rules will tell)
        words = _WORD_BYTES.findall(aligned, start, position)[-3:]
        return any(word in self._kind_bytes for word in words)


def _by_anchor(places: Iterable[tuple[str, int]]) -> dict[str, set[int]]:
    """(anchor, position) pairs as the positions of each anchor."""
    positions: dict[str, set[int]] = {}
    for anchor, start in places:
        positions.setdefault(anchor, set()).add(start)
    return positions


def _inexact(aligned: bytes, start: int, end: int, known: bool) -> bool:
    """Does ``aligned[start:end]``, part of a byte fold, differ from the exact fold?
    It does where a character folds to nothing or to two letters (SPLIT) or, in a
    text where some characters had no byte of their own (``known`` false), where
    one is ``?``."""
    return aligned.find(SPLIT, start, end) != -1 or (
        not known and aligned.find(b"?", start, end) != -1
    )


def _occurrences(text: str, part: str) -> list[int]:
    """Every position of ``part`` in ``text``, overlapping ones included."""
    return [at for at in range(len(text) - len(part) + 1) if text.startswith(part, at)]
