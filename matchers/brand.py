"""The brand matcher: does a text name the institution, and where?

Everything about the brand comes from the ``brand:`` block of config.yaml. From
``brand.name`` ("Cégep de Drummondville") the matcher derives:

- the *kind* word ("cégep", plural "cégeps") and the *place* ("drummondville");
- the official pattern: kind, optional connector (de, du, d', of), place —
  any case, accents missing or wrong, hyphens, line breaks, extra spaces, and
  typos of the place (one edit for short words, two for long ones: a letter
  missing, doubled, swapped or wrong);
- the English order: place then kind ("Drummondville CEGEP");
- coordinations: "les cégeps de Victoriaville et de Drummondville";
- hashtags of the name written as one word (#cegepdedrummondville).

``brand.aliases`` add whole forms (the legal name, "Cégep de Drummond", "cégep
drummondvillois"), ``brand.handles`` add @handles, #hashtags and web domains
(e-mail addresses at them included), and ``brand.exclude`` lists phrases that
cancel any match they overlap — never the whole text.

Matching compares word tokens of the folded text (see :mod:`matchers.normalize`),
so "cégep" and "Drummondville" in the same text but not side by side are never
a match. To be fast, it never folds a whole text character by character:

1. the text becomes one folded byte per character (C speed), where the few
   *anchors* every match contains ("cegep", "drumm"…) are looked for — most
   texts stop here;
2. a quick look at the bytes around each anchor tells whether any rule could
   match there (the city alone, with no misspelt kind word before it, stops);
   in a text with many anchors, those where none can are set aside;
3. only windows around the anchors are tokenised — cut from the byte fold,
   which reads as the exact fold there, else folded with offsets — and at each
   token only the rules its anchor may start are tried;
4. characters that fold oddly (soft hyphens and zero-width spaces inside
   words, letters beyond Latin-1) send the text to the exact fold of the whole
   text whenever they might hide an anchor, so the result is always the one
   folding the whole text gives (a test checks it).

Time stays linear in the text's length whatever the text (a test and
``benchmarks/bench_pathological.py`` check it on "cegep" repeated without
spaces, the name repeated, soft hyphens between its letters…): overlapping
windows are merged with each edge widened to a whole word once, however long
the word; the anchors' checks read a bounded stretch of bytes each and a word
looked for in the whole text is looked for once; the best of overlapping
findings are picked with a byte array, not by comparing every pair; no pattern
can try a run of spaces two ways.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import AnyStr

from rapidfuzz.distance import OSA

from matchers.base import MatchResult, Span
from matchers.normalize import (
    SPLIT,
    Folded,
    byte_fold,
    fold,
    fold_plain,
    fold_windows,
    loose_fold,
    word_end,
    word_start,
)

CONNECTORS = frozenset({"de", "du", "d", "des", "of", "la", "l"})
LIST_WORDS = frozenset({"de", "du", "d", "des", "et", "ou", "and", "or", "of", "la", "l", "the"})

_TOKEN = re.compile(r"[a-z0-9]+")
_SPLIT = re.compile(r"([a-z0-9]+)")
_WEAK_SEP = re.compile(r"[ \t\n'\-]{1,12}")
_LIST_SEP = re.compile(r"[ \t\n'\-,]{1,12}")
# \r\n folds to two \n; written so that no run of spaces can be split two ways
# (a long run would make a failing fullmatch try every split)
_CUT_WORD = re.compile(r"-[ \t]*\n(?:[ \t]*\n)?[ \t]*")
_CUT_BYTES = re.compile(rb"-[ \t]*\n")
_WORD_BYTES = re.compile(rb"[a-z0-9]+")
_LIST_WINDOW = 14
_AFTER = 30  # characters kept after an anchor other than the kind word
_WINDOW = 150  # characters of context kept on both sides of the kind word
# Up to this many anchors in a text, the quick look stops at the first where a
# rule may match (as many checks as rules tried it would spare); beyond, it checks
# them all, so that rules are tried only where they may match.
_FEW_HITS = 16

# What may be found near an anchor: flags of the rules worth trying at a token.
_KIND = 1  # the kind word opens the name, a coordination or an alias
_PLACE = 2  # the place opens the English order ("Drummondville CEGEP")
_BARE = 4  # a one-word handle or hashtag
_ALIAS = 8  # alias number k has the flag _ALIAS << k

RULE_NAME = "nom"
RULE_ENGLISH = "ordre anglais"
RULE_COORDINATION = "coordination"
RULE_ALIAS = "alias"
RULE_HANDLE = "identifiant"
RULE_HASHTAG = "mot-clic"
RULE_DOMAIN = "domaine"


def max_edits(word: str) -> int:
    """Typos tolerated in a word: none below 5 letters, 1 up to 9, 2 from 10."""
    if len(word) < 5:
        return 0
    return 1 if len(word) < 10 else 2


# What a rule needs near its anchor, checked on the bytes before folding: None
# (nothing more), _KIND_BEFORE (a word that may be a misspelt kind word before
# it) or the words an alias takes exactly (all somewhere in the text).
_KIND_BEFORE = (b"kind before",)
_KIND_NEAR = (b"kind near",)  # a word of the place or of an alias near the kind word
_Check = tuple[bytes, ...] | None


# A cheap test of the token a phrase may start with: length bounds, and the word
# it must begin when that word is taken exactly.
_Gate = tuple[int, int, str | None]
# A word of a phrase as :meth:`BrandMatcher._phrase_at` reads it: the word, the
# typos it tolerates, and what it is (_WORD, _CONNECTOR or _KIND_WORD).
_Spelled = tuple[tuple[str, int, int], ...]
_WORD, _CONNECTOR, _KIND_WORD = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Hit:
    first: int  # first token index
    last: int  # last token index (inclusive)
    edits: int


@dataclass(frozen=True, slots=True)
class _Found:
    start: int  # folded offsets
    end: int
    form: str
    rule: str
    score: int


class _Text:
    """A folded text split into word tokens, with the separators between them.

    Token ``i`` is ``words[i]`` at ``starts[i]:ends[i]`` of the folded text;
    ``seps[i]`` is the text between it and token ``i + 1``. Built by one
    ``re.split`` and one running sum, both at C speed.
    """

    def __init__(self, original: str, folded: Folded, dead: dict[str, set[int]] | None = None):
        self.original = original
        self.folded = folded
        # for an anchor, the places (in the original) where no rule it opens can match
        self.dead = dead or {}
        self._has: dict[str, bool] = {}
        # is a word cut by a hyphen at a line end somewhere? (then tokens may join)
        self.cut = _CUT_WORD.search(folded.text) is not None
        self.possible: dict[int, bool] = {}  # may alias number k match here? (BrandMatcher)
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
        """Is ``word`` anywhere in the folded text? (cached)"""
        known = self._has.get(word)
        if known is None:
            known = self._has[word] = word in self.folded.text
        return known

    def capitalised(self, index: int) -> bool:
        start, _ = self.folded.original(self.starts[index], self.starts[index] + 1)
        char = self.original[start]
        return char.isupper() or char.isdigit()

    def word_at(self, index: int, target: str, tolerance: int) -> tuple[int, int] | None:
        """Does the word at ``index`` read ``target``? (last token index, edits).

        A word cut by a hyphen at the end of a line ("Drum-⏎mondville") is
        joined with the next token before comparing.
        """
        words = self.words
        text = words[index]
        if text == target:
            return index, 0
        size, goal = len(text), len(target)
        best: tuple[int, int] | None = None
        if tolerance and abs(size - goal) <= tolerance:
            edits = OSA.distance(text, target, score_cutoff=tolerance)
            if edits <= tolerance:
                best = (index, edits)
                if edits == 0:
                    return best
        if (
            size < goal
            and index + 1 < len(words)
            and abs(size + len(words[index + 1]) - goal) <= tolerance
            and _CUT_WORD.fullmatch(self.seps[index])
        ):
            edits = OSA.distance(text + words[index + 1], target, score_cutoff=tolerance)
            if edits <= tolerance and (best is None or edits < best[1]):
                best = (index + 1, edits)
        return best

    def weak_after(self, index: int) -> bool:
        """Is token ``index`` followed by another, with only a weak separator between?"""
        if index + 1 >= len(self.words):
            return False
        sep = self.seps[index]
        return sep == " " or _WEAK_SEP.fullmatch(sep) is not None


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A configured form as a sequence of words; connectors are optional."""

    form: str
    words: tuple[str, ...]

    @classmethod
    def of(cls, form: str) -> _Phrase | None:
        words = tuple(_TOKEN.findall(fold_plain(form)))
        return cls(form, words) if words else None


class BrandMatcher:
    """Finds the brand's names in a text; build it with :meth:`from_brand`."""

    def __init__(
        self,
        *,
        name: str,
        aliases: Sequence[str] = (),
        handles: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ):
        words = _TOKEN.findall(fold_plain(name))
        if not words:
            raise ValueError("brand name has no word")
        self.name = name
        self.kind = words[0]
        self.kind_display = name.split()[0].lower()
        rest = words[1:]
        while rest and rest[0] in CONNECTORS:
            rest = rest[1:]
        self.place: tuple[str, ...] = tuple(rest) or (words[-1],)
        self._place_spelled = tuple((word, max_edits(word)) for word in self.place)
        self.kind_forms = frozenset({self.kind, self.kind + "s", self.kind + "x"})
        self._tolerances: dict[str, int] = {}
        self._kind_tolerance = 1 if len(self.kind) >= 5 else 0
        self._kind_typos = (
            _one_edit(self.kind) | _one_edit(self.kind + "s")
            if self._kind_tolerance
            else frozenset()
        )
        self.aliases = [p for p in map(_Phrase.of, aliases) if p]
        self._alias_gates = [self._first_word_gates(p.words) for p in self.aliases]
        self._alias_spelled = [self._spelled(p.words) for p in self.aliases]
        self._alias_cache: dict[int, list[tuple[int, _Phrase, tuple[_Gate, _Gate], _Spelled]]] = {}
        self._alias_needs = [self._exact_words(p.words) for p in self.aliases]
        self.exclusions = [p for p in map(_Phrase.of, exclude) if p]
        self._exclusion_gates = [self._first_word_gates(p.words) for p in self.exclusions]
        self._exclusion_spelled = [self._spelled(p.words) for p in self.exclusions]
        self._exclusion_needs = [self._exact_words(p.words) for p in self.exclusions]
        self._handle_patterns: list[tuple[re.Pattern[str], str, str, int]] = []
        self._handle_anchors: set[str] = set()
        self._pattern_anchors: list[str] = []
        bare: dict[str, str] = {}
        for handle in handles:
            self._add_handle(handle, bare)
        joined_place = "".join(self.place)
        for joined in {self.kind + "".join(words[1:]), self.kind + joined_place}:
            bare.setdefault(joined, "#" + joined)
        self._bare_handles = bare
        self._anchors, self._checks = self._make_anchors()
        self._reach = {a: self._chars_around(a, uses) for a, uses in self._anchors.items()}
        self._offsets = {a: _offsets(uses) for a, uses in self._anchors.items()}
        self._prepare_windows()
        self._prepare_quick_look()

    def _prepare_windows(self) -> None:
        """The anchors to look for in the byte fold, with their windows."""
        # Finding an anchor that contains another is redundant: search the minimal
        # ones, with windows wide enough for every anchor that contains them.
        self._window_spec: list[tuple[bytes, int, int]] = []
        # for each of those, the anchors containing it: (anchor, its bytes, where, checks)
        self._containing: list[list[tuple[str, bytes, int, tuple[_Check, ...]]]] = []
        for small in self._anchors:
            if not small.isascii():
                self._window_spec = []  # only ASCII anchors can be found in bytes
                break
            if any(other != small and other in small for other in self._anchors):
                continue
            before = after = 0
            containing = []
            for anchor, (wide_before, wide_after) in self._reach.items():
                for at in _occurrences(anchor, small):
                    before = max(before, wide_before + at)
                    after = max(after, wide_after + len(anchor) - at - len(small))
                    containing.append((anchor, anchor.encode(), at, self._checks[anchor]))
            self._window_spec.append((small.encode("ascii"), before, after))
            self._containing.append(containing)
        self._anchor_bytes = [anchor for anchor, _, _ in self._window_spec]

    def _prepare_quick_look(self) -> None:
        """What :meth:`_quick_look` compares the words near an anchor with."""
        self._kind_bytes = frozenset(w.encode() for w in self.kind_forms | self._kind_typos)
        self._kind_bytes_exact = self.kind.encode()
        near: dict[bytes, int] = {w.encode(): max_edits(w) for w in self.place}
        kind_aliases = [p.words for p in self.aliases if self.kind in p.words]
        for phrase_words in kind_aliases:
            near.update((w.encode(), t) for w, t in self._near_targets(phrase_words))
        # by length: the targets a word of that length may be within tolerance of
        self._targets: dict[int, list[tuple[bytes, int]]] = {}
        for target, tolerance in near.items():
            for size in range(len(target) - tolerance, len(target) + tolerance + 1):
                self._targets.setdefault(size, []).append((target, tolerance))
        # an alias's words may all stand on either side of the kind word
        self._words_before = max([len(self.place) + 2, *(len(w) for w in kind_aliases)])
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

    def _first_word_gates(self, words: Sequence[str]) -> tuple[_Gate, _Gate]:
        """Cheap tests of the token a phrase may start with, in a text without and
        with words cut at a line end: its length bounds (a connector, or a word
        cut at a line end, can only be shorter) and, for a word taken exactly,
        the word it must be, or begin when cut."""
        first = words[0]
        if first in CONNECTORS:
            gate: _Gate = (1, max(len(c) for c in CONNECTORS), None)
            return gate, gate
        if first == self.kind:
            gate = (len(first), len(first) + 1, None)
            return gate, gate
        tolerance = self._tolerance(first)
        exact = None if tolerance else first
        return (len(first) - tolerance, len(first) + tolerance, exact), (
            1,
            len(first) + tolerance,
            exact,
        )

    def _spelled(self, words: Sequence[str]) -> _Spelled:
        """A phrase's words as :meth:`_phrase_at` reads them."""
        return tuple(
            (
                word,
                self._tolerance(word),
                _CONNECTOR if word in CONNECTORS else _KIND_WORD if word == self.kind else _WORD,
            )
            for word in words
        )

    def _tolerance(self, word: str) -> int:
        """Typos tolerated in a word of an alias or exclusion: only in the place's
        words and in long words (cached)."""
        tolerance = self._tolerances.get(word)
        if tolerance is None:
            tolerance = max_edits(word) if word in self.place or len(word) >= 8 else 0
            self._tolerances[word] = tolerance
        return tolerance

    @classmethod
    def from_brand(cls, brand: object) -> BrandMatcher:
        """Build from a ``BrandConfig`` (anything with name/aliases/handles/exclude)."""
        return cls(
            name=getattr(brand, "name"),  # noqa: B009
            aliases=tuple(getattr(brand, "aliases", ())),
            handles=tuple(getattr(brand, "handles", ())),
            exclude=tuple(getattr(brand, "exclude", ())),
        )

    def _add_handle(self, handle: str, bare: dict[str, str]) -> None:
        text = fold_plain(handle.strip())
        body = text.lstrip("@#")
        if not body:
            return
        if "." in body and not text.startswith(("@", "#")):
            domain = body.split("//")[-1].removeprefix("www.").strip("/")
            pattern = re.compile(r"(?<![a-z0-9\-])" + re.escape(domain) + r"(?![a-z0-9])")
            self._handle_patterns.append((pattern, handle, RULE_DOMAIN, 95))
            self._pattern_anchors.append(domain)
            self._handle_anchors.add(domain)
            return
        body = re.sub(r"[^a-z0-9_]", "", body)
        pattern = re.compile(r"[@#]" + re.escape(body) + r"(?![a-z0-9_])")
        self._handle_patterns.append((pattern, handle, RULE_HANDLE, 95))
        self._pattern_anchors.append(body)
        self._handle_anchors.add(body)
        if len(body) >= 10:
            bare.setdefault(body, handle)

    def _make_anchors(
        self,
    ) -> tuple[dict[str, list[tuple[int, int, int]]], dict[str, tuple[_Check, ...]]]:
        """Anchor substrings, each with the rules worth trying near it: (flags, first
        and last token, counted from the token holding the anchor, where a match
        of those rules may start); and, for each, the checks :meth:`_quick_look`
        makes on the bytes around it before any folding.

        Every rule needs, inside the match, the kind word spelled right, the
        exact place (a misspelt kind word is only accepted before the exact
        place), a word of an alias or a handle.
        """
        anchors: dict[str, list[tuple[int, int, int]]] = {}
        all_checks: dict[str, tuple[_Check, ...]] = {}

        def add(anchor: str, flags: int, first: int, last: int = 0, check: _Check = None) -> None:
            if anchor:
                anchors.setdefault(anchor, []).append((flags, first, last))
                checks = all_checks.get(anchor, ())
                if check not in checks:  # the same check twice tells nothing more
                    all_checks[anchor] = (*checks, check)

        # "cégep de …", "cégeps de … et de …", #cegepdrummond
        add(self.kind, _KIND | _BARE, 0, 0, _KIND_NEAR)
        add(self.kind, _PLACE, -len(self.place) - 2, -1, _KIND_NEAR)  # "Drummondville's CEGEP"
        # "Cgep de Drummondville": a misspelt kind word, two connectors between
        add(self.place[0], _KIND, -3, -1, _KIND_BEFORE)
        for number, phrase in enumerate(self.aliases):
            # the kind word, else the place, else the longest word (five letters of it)
            if self.kind in phrase.words:
                anchor = self.kind
            elif self.place[0] in phrase.words:
                anchor = self.place[0][:5]
            else:
                anchor = max(phrase.words, key=len)[:5]
            check: _Check
            if anchor == self.kind:  # its other words are looked for near the kind word
                check = _KIND_NEAR if self._near_targets(phrase.words) else None
            else:  # the words it takes exactly must be somewhere in the text
                check = tuple(word.encode() for word in self._exact_words(phrase.words)) or None
            add(anchor, _ALIAS << number, -len(phrase.words), 0, check)
        for anchor in self._handle_anchors:
            add(anchor, _BARE, 0)
        for body in self._bare_handles:
            add(body[:8], _BARE, 0)
        return anchors, all_checks

    def _chars_around(self, anchor: str, uses: Sequence[tuple[int, int, int]]) -> tuple[int, int]:
        """Characters of context a match needs before and after ``anchor``."""
        if anchor == self.kind:  # it may open or close a list of names
            return _WINDOW, _WINDOW
        words_before = max(-first for _, first, _ in uses)
        return words_before * 12 + 20, _AFTER

    def _starts(self, doc: _Text) -> dict[int, int]:
        """Token indices where a match may start, each with the rules worth trying."""
        text = doc.folded.text
        starts = doc.starts
        last_token = len(starts) - 1
        wanted: dict[int, int] = {}
        for anchor, offsets in self._offsets.items():
            previous = -1
            dead = doc.dead.get(anchor)
            for position in _find_all(text, anchor):
                if dead and doc.folded.source(position) in dead:
                    continue  # the quick look ruled out every rule it opens there
                index = bisect.bisect_right(starts, position) - 1
                if index == previous:
                    continue  # the same token again (a run without spaces)
                previous = index
                for offset, flags in offsets:
                    at = index + offset
                    if 0 <= at <= last_token:
                        wanted[at] = wanted.get(at, 0) | flags
        return wanted

    def _ranges(self, text: str) -> list[tuple[int, int]]:
        """Stretches of the folded ``text`` around the anchors, on word edges."""
        spans = []
        for anchor, (before, after) in self._reach.items():
            for position in _find_all(text, anchor):
                spans.append((position - before, position + len(anchor) + after))
        return _merge(spans, text)

    def _folded(self, text: str) -> _Text | None:
        """``text`` folded where the brand may be named; None when it cannot be.

        Anchors are found in a byte fold of the text, at C speed (most texts stop
        there); the windows around them are then cut from that same byte fold
        when it is exact there, else folded one by one.
        """
        if not self._window_spec:  # anchors beyond ASCII: fold it all
            return self._folded_whole(text)
        aligned, known = byte_fold(text)
        loose = None
        if not known:  # a character with no byte of its own (ā, ＣＥＧＥＰ, emoji…)
            loose = loose_fold(text)
            if not any(anchor in loose for anchor in self._anchor_bytes):
                return None
        elif SPLIT in aligned:  # a soft hyphen, œ, æ, ß…
            loose = loose_fold(text)
        hits = []
        for spec, anchor in enumerate(self._anchor_bytes):
            # _find_all inlined: this loop runs on every text (a call costs 4 %)
            position = aligned.find(anchor)
            while position != -1:
                hits.append((spec, position))
                position = aligned.find(anchor, position + len(anchor))
        if not hits and loose is None:
            return None  # most texts end here
        if loose is not None and any(
            loose.count(anchor) > aligned.count(anchor) for anchor, _, _ in self._window_spec
        ):
            return self._folded_whole(text)  # an anchor written across a soft hyphen…
        dead = self._quick_look(aligned, known, loose, hits) if hits else None
        if dead is None:
            return None
        spans = []
        for spec, position in hits:
            anchor, before, after = self._window_spec[spec]
            spans.append((position - before, position + len(anchor) + after))
        windows = _merge(spans, text)
        if loose is None or not any(
            _inexact(aligned, start, end, known) for start, end in windows
        ):  # the byte fold reads as the exact fold there
            return _Text(text, Folded(aligned.decode("latin-1"), None).pick(windows), dead)
        return _Text(text, fold_windows(text, windows), dead)

    def _quick_look(
        self, aligned: bytes, known: bool, loose: bytes | None, hits: list[tuple[int, int]]
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
        if _CUT_BYTES.search(aligned):
            return {}  # a word cut at a line end may hide anything
        # are the words of a check all in the text? looked for once a text
        present: dict[tuple[bytes, ...], bool] = {}
        dead: list[tuple[str, int]] = []
        alive = False
        few = len(hits) <= _FEW_HITS  # then sparing the other checks saves more
        mixed = loose is not None  # else the byte fold reads as the exact fold throughout
        containing = self._containing
        if not few and loose is None:  # only the anchors the text holds
            containing = [[c for c in spec if c[1] in aligned] for spec in containing]
        for spec, position in hits:
            for anchor, spelled, at, checks in containing[spec]:
                start = position - at
                if start < 0:
                    continue
                if not aligned.startswith(spelled, start):
                    if loose is None:
                        continue
                    if not _inexact(aligned, start, start + len(anchor) + 8, known):
                        continue  # else a removed character may be inside the anchor
                for check in checks:  # does one pass?
                    if check is None:
                        break
                    if check is _KIND_BEFORE:
                        if self._kind_before(aligned, known, mixed, start):
                            break
                    elif check is _KIND_NEAR:
                        if self._kind_near(aligned, known, mixed, start):
                            break
                    else:
                        words = present.get(check)
                        if words is None:
                            words = present[check] = all(w in (loose or aligned) for w in check)
                        if words:
                            break
                else:
                    dead.append((anchor, start))
                    continue
                alive = True
            if alive and few:
                break
        if not alive:
            return None
        positions: dict[str, set[int]] = {}
        for anchor, start in dead:
            positions.setdefault(anchor, set()).add(start)
        return positions

    def _exact_words(self, words: Sequence[str]) -> tuple[str, ...]:
        """The words of a phrase any match of it contains as they are (no typo
        tolerated, not an optional connector), four letters or more."""
        return tuple(
            word
            for word in words
            if len(word) >= 4 and word not in CONNECTORS and not self._tolerance(word)
        )

    def _near_targets(self, words: Sequence[str]) -> list[tuple[str, int]]:
        """The words of a phrase, beyond the kind word and connectors, that a match
        needs near the kind word, each with the typos it tolerates."""
        return [
            (word, self._tolerance(word))
            for word in words
            if word != self.kind and word not in CONNECTORS
        ]

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

    def _folded_whole(self, text: str) -> _Text | None:
        folded = fold(text)
        ranges = self._ranges(folded.text)
        return _Text(text, folded.pick(ranges)) if ranges else None

    # --- public ------------------------------------------------------------------

    def match(self, text: str) -> MatchResult:
        # Anchors are looked for in a byte fold of the text (most texts stop
        # there); only the windows around them are folded exactly, with offsets,
        # and only the rules each anchor may start are tried.
        return self._judge(text, self._folded(text))

    def _judge(self, text: str, doc: _Text | None) -> MatchResult:
        """The verdict on ``text``, folded as ``doc``."""
        if doc is None:
            return _NO_MATCH
        found = list(self._find(doc, self._starts(doc)))
        if not found:
            return _NO_MATCH
        excluded = self._excluded_ranges(doc, found)
        spans = []
        for item in _best_non_overlapping(_outside(found, excluded)):
            start, end = doc.folded.original(item.start, item.end)
            spans.append(
                Span(
                    start=start,
                    end=end,
                    text=text[start:end],
                    form=item.form,
                    rule=item.rule,
                    score=item.score,
                )
            )
        return MatchResult(spans=tuple(sorted(spans, key=lambda s: s.start)))

    def explain(self, text: str) -> MatchResult:
        """Like :meth:`match`, plus, when nothing matches, the closest candidate and why."""
        result = self.match(text)
        if result.matched:
            return result
        doc = _Text(text, fold(text))
        found: list[_Found] = []
        if any(  # the findings only matter to tell one cancelled by an exclusion
            _may_hold(doc, needs, spelled)
            for needs, spelled in zip(self._exclusion_needs, self._exclusion_spelled, strict=True)
        ):
            found = list(self._find(doc, self._starts(doc)))
        near = self._near_miss(doc, found, self._excluded_ranges(doc, found))
        return MatchResult(near_miss=near)

    # --- finding -----------------------------------------------------------------

    def _find(self, doc: _Text, starts: dict[int, int]) -> Iterable[_Found]:
        words, seps = doc.words, doc.seps
        cut = doc.cut
        # the cheap tests of _kind_at and _place_at, inlined: this loop runs on
        # every token near an anchor
        kind_forms, kind_typos = self.kind_forms, self._kind_typos
        place_word, place_tolerance = self._place_spelled[0]
        place_low, place_high = len(place_word) - place_tolerance, len(place_word) + place_tolerance
        for index, flags in starts.items():
            word = words[index]
            if flags & _KIND and (word in kind_forms or word in kind_typos or "\n" in seps[index]):
                kind = self._kind_at(doc, index)
                if kind is not None:
                    yield from self._after_kind(doc, index, kind)
            if flags & _PLACE and (cut or place_low <= len(word) <= place_high):
                place = self._place_at(doc, index)
                if place is not None:
                    english = self._after_place(doc, place)
                    if english is not None:
                        yield english
            if flags >= _ALIAS:
                for number, phrase, gates, spelled in self._flagged_aliases(flags):
                    if not _opens(gates[cut], word) or not self._alias_may_match(doc, number):
                        continue  # the first word cannot be it, or a word is missing
                    hit = self._phrase_at(doc, index, spelled)
                    if hit is not None:
                        yield self._found(doc, hit, phrase.form, RULE_ALIAS, 95)
            if flags & _BARE:
                bare = self._bare_handles.get(words[index])
                if bare is not None:
                    rule = RULE_HASHTAG if bare.startswith("#") else RULE_HANDLE
                    yield self._found(doc, _Hit(index, index, 0), bare, rule, 90)
        folded = doc.folded.text
        for anchor, (pattern, form, rule, score) in zip(
            self._pattern_anchors, self._handle_patterns, strict=True
        ):
            if anchor in folded:
                for m in pattern.finditer(folded):
                    yield _Found(m.start(), m.end(), form, rule, score)

    def _alias_may_match(self, doc: _Text, number: int) -> bool:
        """May alias ``number`` match in ``doc``? (see :func:`_may_hold`; cached)"""
        may = doc.possible.get(number)
        if may is None:
            needs, spelled = self._alias_needs[number], self._alias_spelled[number]
            may = doc.possible[number] = _may_hold(doc, needs, spelled)
        return may

    def _found(self, doc: _Text, hit: _Hit, form: str, rule: str, score: int) -> _Found:
        return _Found(
            doc.starts[hit.first],
            doc.ends[hit.last],
            form,
            rule,
            max(50, score - 5 * hit.edits),
        )

    def _flagged_aliases(
        self, flags: int
    ) -> list[tuple[int, _Phrase, tuple[_Gate, _Gate], _Spelled]]:
        """The aliases whose flags are set: number, phrase, first-word gates (see
        :meth:`_first_word_gates`), and words as :meth:`_phrase_at` reads them
        (cached)."""
        bits = flags // _ALIAS
        aliases = self._alias_cache.get(bits)
        if aliases is None:
            aliases = self._alias_cache[bits] = [
                (number, *alias)
                for number, alias in enumerate(
                    zip(self.aliases, self._alias_gates, self._alias_spelled, strict=True)
                )
                if bits >> number & 1
            ]
        return aliases

    def _kind_at(self, doc: _Text, index: int) -> tuple[int, int, bool] | None:
        """(last token, edits, plural) when the word at ``index`` is the kind word."""
        text = doc.words[index]
        if text in self.kind_forms:
            return index, 0, text != self.kind
        if text not in self._kind_typos and "\n" not in doc.seps[index]:
            return None  # neither one typo away nor cut at a line end
        if not doc.has(self.place[0]):  # a misspelt kind word needs the exact place
            return None
        for form in (self.kind, self.kind + "s"):
            hit = doc.word_at(index, form, self._kind_tolerance)
            if hit is not None:
                return hit[0], hit[1], form != self.kind
        return None

    def _place_at(self, doc: _Text, index: int) -> _Hit | None:
        word, tolerance = self._place_spelled[0]
        if (
            not doc.cut
            and index < len(doc.words)
            and abs(len(doc.words[index]) - len(word)) > tolerance
        ):
            return None  # too short or too long to be the place's first word
        edits = 0
        position = index
        for number, (word, tolerance) in enumerate(self._place_spelled):
            if number:
                if not doc.weak_after(position):
                    return None
                position += 1
            if position >= len(doc.words):
                return None
            hit = doc.word_at(position, word, tolerance)
            if hit is None:
                return None
            position, more = hit
            edits += more
        return _Hit(index, position, edits)

    def _skip_connectors(self, doc: _Text, index: int) -> int | None:
        """The token after ``index`` and up to two connectors, or None at a hard separator."""
        position = index
        for _ in range(3):
            if not doc.weak_after(position):
                return None
            position += 1
            if doc.words[position] not in CONNECTORS:
                return position
        return None

    def _after_kind(self, doc: _Text, index: int, kind: tuple[int, int, bool]) -> Iterable[_Found]:
        last, kind_edits, plural = kind
        nxt = self._skip_connectors(doc, last)
        if nxt is not None:
            place = self._place_at(doc, nxt)
            if place is not None and not (kind_edits and place.edits):
                hit = _Hit(index, place.last, kind_edits + place.edits)
                yield self._found(doc, hit, self.name, RULE_NAME, 100)
                return
        if plural and kind_edits == 0:
            end = self._list_reaches(doc, last, 1)
            if end is not None:
                hit = _Hit(index, end.last, end.edits)
                yield self._found(doc, hit, self.name, RULE_COORDINATION, 85)
            start = self._list_reaches(doc, index, -1)
            if start is not None:
                hit = _Hit(start.first, last, start.edits)
                yield self._found(doc, hit, self.name, RULE_COORDINATION, 85)

    def _after_place(self, doc: _Text, place: _Hit) -> _Found | None:
        """English order: "Drummondville CEGEP", "Drummondville's CEGEP"."""
        last = place.last
        if doc.weak_after(last):
            nxt = last + 1
            if doc.words[nxt] == "s" and doc.seps[last] == "'" and doc.weak_after(nxt):
                nxt += 1
            if doc.words[nxt] in self.kind_forms:
                hit = _Hit(place.first, nxt, place.edits)
                return self._found(doc, hit, self.name, RULE_ENGLISH, 95)
        return None

    def _list_reaches(self, doc: _Text, index: int, step: int) -> _Hit | None:
        """Walk a list of names from the kind word at ``index`` to the place.

        Forward (``step`` 1): "cégeps de Victoriaville, de Granby et de
        Drummondville"; backward (-1): "Drummondville and Victoriaville CEGEPs".
        Connectors and capitalised names may stand between; at least one other
        name must, or it is not a list.
        """
        words = doc.words
        position = index
        saw_name = False
        for _ in range(_LIST_WINDOW):
            gap = position if step > 0 else position - 1
            if not 0 <= gap < len(words) - 1 or not _LIST_SEP.fullmatch(doc.seps[gap]):
                return None
            position += step
            place = self._place_at(doc, position)
            if place is not None and place.last != index:
                return place if saw_name else None
            if words[position] in LIST_WORDS:
                continue
            if doc.capitalised(position):
                saw_name = True
                continue
            return None
        return None

    def _phrase_at(self, doc: _Text, index: int, phrase: _Spelled) -> _Hit | None:
        words = doc.words
        position = index
        edits = 0
        first = True
        for word, tolerance, what in phrase:
            if not first:
                if not doc.weak_after(position):
                    return None
                position += 1
            if what == _CONNECTOR:
                if words[position] in CONNECTORS:
                    first = False
                    continue
                if first:
                    return None
                position -= 1  # the optional connector is absent: compare the same token
                continue
            hit: tuple[int, int] | None
            if what == _KIND_WORD:  # spelled right inside an alias (it is the anchor)
                hit = (position, 0) if words[position] in self.kind_forms else None
            else:
                hit = doc.word_at(position, word, tolerance)
            if hit is None:
                return None
            position, more = hit
            edits += more
            first = False
        return _Hit(index, position, edits)

    def _excluded_ranges(self, doc: _Text, found: Sequence[_Found]) -> list[tuple[int, int, str]]:
        """Exclusion phrases that overlap one of ``found`` (only those are looked for)."""
        starts = doc.starts
        ranges = []
        words = doc.words
        cut = doc.cut
        tokens = None  # the first and last token of each finding
        for phrase, gates, needs, spelled in zip(
            self.exclusions,
            self._exclusion_gates,
            self._exclusion_needs,
            self._exclusion_spelled,
            strict=True,
        ):
            if not _may_hold(doc, needs, spelled):
                continue  # a word it takes is missing
            if tokens is None:
                tokens = [
                    (
                        bisect.bisect_right(starts, item.start) - 1,
                        bisect.bisect_left(starts, item.end) - 1,
                    )
                    for item in found
                ]
            indices: set[int] = set()
            for first, last in tokens:
                indices.update(range(max(0, first - len(phrase.words) - 2), last + 1))
            for index in sorted(indices):
                if not _opens(gates[cut], words[index]):
                    continue  # the first word cannot be it
                hit = self._phrase_at(doc, index, spelled)
                if hit is not None:
                    start, end = doc.starts[hit.first], doc.ends[hit.last]
                    ranges.append((start, end, phrase.form))
        return ranges

    # --- explaining --------------------------------------------------------------

    def _near_miss(
        self, doc: _Text, found: list[_Found], excluded: list[tuple[int, int, str]]
    ) -> str | None:
        folded = doc.folded.text
        for item in found:
            for start, end, form in excluded:
                if item.start < end and start < item.end:
                    return (
                        f"« {_original(doc, item.start, item.end)} » annulé par l'exclusion "
                        f"« {form} »"
                    )
        for index in range(len(doc.words)):
            place = self._place_at(doc, index)
            if place is not None:
                shown = _original(doc, doc.starts[place.first], doc.ends[place.last])
                return (
                    f"« {shown} » ressemble au lieu du nom, mais aucun « {self.kind_display} » ne "
                    f"l'accompagne : c'est le lieu, pas l'établissement"
                )
        for index in range(len(doc.words)):
            if self._kind_at(doc, index) is not None:
                stop = min(len(folded), doc.ends[index] + 40)
                shown = _original(doc, doc.starts[index], stop)
                return (
                    f"« {shown} » : le mot « {self.kind_display} » n'est pas suivi du lieu du nom"
                )
        return None


def _offsets(uses: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """An anchor's uses as (token offset, all the flags set there), the offsets
    in the order the uses first reach them (so tokens are tried in the same order)."""
    merged: dict[int, int] = {}
    for flags, first, last in uses:
        for offset in range(first, last + 1):
            merged[offset] = merged.get(offset, 0) | flags
    return list(merged.items())


def _may_hold(doc: _Text, needs: Sequence[str], spelled: _Spelled) -> bool:
    """May a phrase match somewhere in ``doc``? Not when a word it takes exactly
    (``needs``) is missing from the text, or no token has the length of a word it
    takes with typos, unless a word is cut at a line end (tokens then join)."""
    return doc.cut or (
        all(doc.has(word) for word in needs)
        and all(
            doc.has_length(len(word) - tolerance, len(word) + tolerance)
            for word, tolerance, what in spelled
            if what == _WORD and tolerance
        )
    )


def _opens(gate: _Gate, word: str) -> bool:
    """Can a phrase with this first-word ``gate`` start at the token ``word``?"""
    low, high, exact = gate
    return low <= len(word) <= high and (exact is None or exact.startswith(word))


def _one_edit(word: str) -> frozenset[str]:
    """Every token one edit (OSA) away from ``word``: a letter missing, added,
    wrong, or two neighbours swapped."""
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return frozenset(
        [a + b[1:] for a, b in cuts if b]
        + [a + b[1] + b[0] + b[2:] for a, b in cuts if len(b) > 1]
        + [a + c + b[1:] for a, b in cuts if b for c in letters]
        + [a + c + b for a, b in cuts for c in letters]
    )


def _inexact(aligned: bytes, start: int, end: int, known: bool) -> bool:
    """Does ``aligned[start:end]``, part of a byte fold, differ from the exact fold?
    It does where a character folds to nothing or to two letters (SPLIT) or, in a
    text where some characters had no byte of their own (``known`` false), where
    one is ``?``."""
    return aligned.find(SPLIT, start, end) != -1 or (
        not known and aligned.find(b"?", start, end) != -1
    )


def _find_all(text: AnyStr, part: AnyStr) -> list[int]:
    """The positions of ``part`` in ``text``, left to right, not overlapping."""
    found = []
    position = text.find(part)
    while position != -1:
        found.append(position)
        position = text.find(part, position + len(part))
    return found


def _occurrences(text: str, part: str) -> list[int]:
    """Every position of ``part`` in ``text``, overlapping ones included."""
    return [at for at in range(len(text) - len(part) + 1) if text.startswith(part, at)]


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
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


_NO_MATCH = MatchResult()


def _original(doc: _Text, start: int, end: int) -> str:
    begin, stop = doc.folded.original(start, end)
    return " ".join(doc.original[begin:stop].split())


def _best_non_overlapping(found: list[_Found]) -> list[_Found]:
    """Keep the strongest, then longest, of overlapping findings.

    The folded characters already kept are marked in a byte array, so each
    finding is checked against all those kept in the time of its own length.
    """
    kept: list[_Found] = []
    taken = bytearray(max((f.end for f in found), default=0))
    for item in sorted(found, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        if taken.find(1, item.start, item.end) == -1:
            kept.append(item)
            taken[item.start : item.end] = b"\x01" * (item.end - item.start)
    return kept


def _outside(found: list[_Found], ranges: Sequence[tuple[int, int, str]]) -> list[_Found]:
    """The findings that overlap none of ``ranges`` (folded [start, end) pairs)."""
    if not ranges:
        return found
    covered = bytearray(max(end for _, end, _ in ranges))
    for start, end, _ in ranges:
        covered[start:end] = b"\x01" * (end - start)
    return [f for f in found if covered.find(1, f.start, f.end) == -1]
