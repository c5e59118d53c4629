"""The token rules: which forms of the brand start at the tokens near an anchor.

The rules, each tried only at the tokens an anchor opens it at (see
:mod:`matchers.anchors`):

- the official pattern: kind, optional connectors, place — typos of the place
  (one edit for short words, two for long ones), or a misspelt kind word before
  the exact place ("Cgep de Drummondville");
- the English order: place then kind ("Drummondville CEGEP");
- coordinations: "les cégeps de Victoriaville et de Drummondville";
- the aliases, word by word; the one-word handles and hashtags; the handle
  and domain patterns.

Exclusion phrases are looked for only around what the rules found, and
:meth:`TokenRules.near_miss` tells why a text that almost names the brand
does not.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from matchers.anchors import Anchor, RuleFlag, find_all
from matchers.base import Rule
from matchers.forms import CONNECTORS, LIST_WORDS, BrandForms, Phrase, SpelledWord, WordRole
from matchers.tokens import LIST_SEPARATOR, Tokens, find_across_cuts

_LIST_WINDOW = 14  # tokens a list of names may run over
# Bound once: naming an enum member costs a lookup, and an operation on an
# IntFlag runs in Python; these are read for every token near an anchor.
_KIND_FIRST, _PLACE_FIRST = int(RuleFlag.KIND_FIRST), int(RuleFlag.PLACE_FIRST)
_BARE_HANDLE, _ALIAS = int(RuleFlag.BARE_HANDLE), int(RuleFlag.ALIAS)
_CONNECTOR, _KIND = WordRole.CONNECTOR, WordRole.KIND


@dataclass(frozen=True, slots=True)
class Finding:
    """A form of the brand found by a rule, at folded offsets."""

    start: int
    end: int
    form: str
    rule: Rule
    score: int


class ExcludedRange(NamedTuple):
    """An exclusion phrase found in the folded text."""

    start: int
    end: int
    form: str


@dataclass(frozen=True, slots=True)
class TokenRun:
    """Tokens read as (part of) a form."""

    first: int  # first token index
    last: int  # last token index (inclusive)
    edits: int  # typos


class KindHit(NamedTuple):
    """The kind word read at a token."""

    last: int  # last token (the next one when cut at a line end)
    edits: int
    plural: bool


class TokenRules:
    """Tries the rules of one brand's :class:`BrandForms` on :class:`Tokens`."""

    def __init__(self, forms: BrandForms, anchors: Sequence[Anchor]):
        self._forms = forms
        self._anchors = anchors
        self._kind = forms.kind
        self._kind_forms = forms.kind_forms
        self._kind_typos = forms.kind_typos
        self._kind_tolerance = forms.kind_tolerance
        self._place = forms.place
        self._aliases = forms.aliases
        # by the alias bits of a token's flags: (number, alias) of those set
        self._alias_cache: dict[int, list[tuple[int, Phrase]]] = {}

    def find(self, doc: Tokens) -> list[Finding]:
        """Every form found in ``doc``, overlapping ones included."""
        return list(self._find(doc, self._starts(doc)))

    def _starts(self, doc: Tokens) -> dict[int, int]:
        """Token indices where a match may start, each with the rules worth trying
        (:class:`RuleFlag` bits)."""
        text = doc.folded.text
        starts = doc.starts
        last_token = len(starts) - 1
        wanted: dict[int, int] = {}
        for anchor in self._anchors:
            previous = -1
            ruled_out = doc.ruled_out.get(anchor.text)
            found = (
                [start for start, _ in find_across_cuts(text, anchor.text)]
                if doc.cut
                else find_all(text, anchor.text)
            )
            for position in found:
                if ruled_out and doc.folded.source(position) in ruled_out:
                    continue  # the quick look ruled out every rule it opens there
                index = bisect.bisect_right(starts, position) - 1
                if index == previous:
                    continue  # the same token again (a run without spaces)
                previous = index
                for offset, flags in anchor.offsets:
                    at = index + offset
                    if 0 <= at <= last_token:
                        wanted[at] = wanted.get(at, 0) | flags
        return wanted

    def _find(self, doc: Tokens, starts: dict[int, int]) -> Iterable[Finding]:
        words, seps = doc.words, doc.seps
        cut = doc.cut
        # the cheap tests of _kind_at and _place_at, inlined: this loop runs on
        # every token near an anchor
        kind_forms, kind_typos = self._kind_forms, self._kind_typos
        place_word, place_tolerance, _ = self._place[0]
        place_low, place_high = len(place_word) - place_tolerance, len(place_word) + place_tolerance
        for index, flags in starts.items():
            word = words[index]
            if flags & _KIND_FIRST and (
                word in kind_forms or word in kind_typos or "\n" in seps[index]
            ):
                kind = self._kind_at(doc, index)
                if kind is not None:
                    yield from self._after_kind(doc, index, kind)
            if flags & _PLACE_FIRST and (cut or place_low <= len(word) <= place_high):
                place = self._place_at(doc, index)
                if place is not None:
                    english = self._after_place(doc, place)
                    if english is not None:
                        yield english
            if flags >= _ALIAS:
                for number, phrase in self._flagged_aliases(flags // _ALIAS):
                    gate = phrase.gate_when_cut if cut else phrase.gate
                    if not gate.admits(word) or not self._alias_may_match(doc, number):
                        continue  # the first word cannot be it, or a word is missing
                    hit = self._phrase_at(doc, index, phrase.spelled)
                    if hit is not None:
                        yield _found(doc, hit, phrase.form, Rule.ALIAS, 95)
            if flags & _BARE_HANDLE:
                bare = self._forms.bare_handles.get(word)
                if bare is not None:
                    yield _found(doc, TokenRun(index, index, 0), bare.form, bare.rule, 90)
        folded = doc.folded.text
        for handle in self._forms.handle_patterns:
            if handle.anchor in folded:
                for m in handle.pattern.finditer(folded):
                    yield Finding(m.start(), m.end(), handle.form, handle.rule, handle.score)

    def _alias_may_match(self, doc: Tokens, number: int) -> bool:
        """May alias ``number`` match in ``doc``? (see :func:`_may_hold`; cached)"""
        may = doc.alias_possible.get(number)
        if may is None:
            may = doc.alias_possible[number] = _may_hold(doc, self._aliases[number])
        return may

    def _flagged_aliases(self, bits: int) -> list[tuple[int, Phrase]]:
        """The aliases whose bits are set, with their numbers (cached)."""
        aliases = self._alias_cache.get(bits)
        if aliases is None:
            aliases = self._alias_cache[bits] = [
                (number, alias) for number, alias in enumerate(self._aliases) if bits >> number & 1
            ]
        return aliases

    def _kind_at(self, doc: Tokens, index: int) -> KindHit | None:
        """The kind word at ``index``, if it is there."""
        text = doc.words[index]
        if text in self._kind_forms:
            return KindHit(index, 0, text != self._kind)
        if text not in self._kind_typos and "\n" not in doc.seps[index]:
            return None  # neither one typo away nor cut at a line end
        if not doc.has(self._place[0].word):  # a misspelt kind word needs the exact place
            return None
        for form in (self._kind, self._kind + "s"):
            hit = doc.word_at(index, form, self._kind_tolerance)
            if hit is not None:
                return KindHit(hit.last, hit.edits, form != self._kind)
        return None

    def _place_at(self, doc: Tokens, index: int) -> TokenRun | None:
        word, tolerance, _ = self._place[0]
        if (
            not doc.cut
            and index < len(doc.words)
            and abs(len(doc.words[index]) - len(word)) > tolerance
        ):
            return None  # too short or too long to be the place's first word
        edits = 0
        position = index
        for number, (word, tolerance, _) in enumerate(self._place):
            if number:
                if not doc.weak_after(position):
                    return None
                position += 1
            if position >= len(doc.words):
                return None
            if doc.words[position] == word:
                continue  # spelled right (most often): nothing to compare
            hit = doc.word_at(position, word, tolerance)
            if hit is None:
                return None
            position, more = hit
            edits += more
        return TokenRun(index, position, edits)

    def _skip_connectors(self, doc: Tokens, index: int) -> int | None:
        """The token after ``index`` and up to two connectors, or None at a hard separator."""
        position = index
        for _ in range(3):
            if not doc.weak_after(position):
                return None
            position += 1
            if doc.words[position] not in CONNECTORS:
                return position
        return None

    def _after_kind(self, doc: Tokens, index: int, kind: KindHit) -> Iterable[Finding]:
        """The official pattern or a coordination, from the kind word at ``index``."""
        last, kind_edits, plural = kind
        nxt = self._skip_connectors(doc, last)
        if nxt is not None:
            place = self._place_at(doc, nxt)
            if place is not None and not (kind_edits and place.edits):
                hit = TokenRun(index, place.last, kind_edits + place.edits)
                yield _found(doc, hit, self._forms.name, Rule.NAME, 100)
                return
        if plural and kind_edits == 0:
            end = self._list_reaches(doc, last, 1)
            if end is not None:
                hit = TokenRun(index, end.last, end.edits)
                yield _found(doc, hit, self._forms.name, Rule.COORDINATION, 85)
            start = self._list_reaches(doc, index, -1)
            if start is not None:
                hit = TokenRun(start.first, last, start.edits)
                yield _found(doc, hit, self._forms.name, Rule.COORDINATION, 85)

    def _after_place(self, doc: Tokens, place: TokenRun) -> Finding | None:
        """English order: "Drummondville CEGEP", "Drummondville's CEGEP"."""
        last = place.last
        if doc.weak_after(last):
            nxt = last + 1
            if doc.words[nxt] == "s" and doc.seps[last] == "'" and doc.weak_after(nxt):
                nxt += 1
            if doc.words[nxt] in self._kind_forms:
                hit = TokenRun(place.first, nxt, place.edits)
                return _found(doc, hit, self._forms.name, Rule.ENGLISH_ORDER, 95)
            if doc.cut:  # the kind word cut at a line end ("Drummondville CÉ-⏎GEP")
                for form in (self._kind, self._kind + "s"):
                    kind = doc.word_at(nxt, form, 0)
                    if kind is not None:
                        hit = TokenRun(place.first, kind.last, place.edits)
                        return _found(doc, hit, self._forms.name, Rule.ENGLISH_ORDER, 95)
        return None

    def _list_reaches(self, doc: Tokens, index: int, step: int) -> TokenRun | None:
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
            if not 0 <= gap < len(words) - 1 or not LIST_SEPARATOR.fullmatch(doc.seps[gap]):
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

    def _phrase_at(self, doc: Tokens, index: int, phrase: Sequence[SpelledWord]) -> TokenRun | None:
        """The words of ``phrase``, read from the token at ``index``."""
        words = doc.words
        position = index
        edits = 0
        first = True
        for word, tolerance, role in phrase:
            if not first:
                if not doc.weak_after(position):
                    return None
                position += 1
            if role is _CONNECTOR:
                if words[position] in CONNECTORS:
                    first = False
                    continue
                if first:
                    return None
                position -= 1  # the optional connector is absent: compare the same token
                continue
            first = False
            if role is _KIND:  # spelled right inside an alias (it is the anchor)
                if words[position] not in self._kind_forms:
                    return None
            elif words[position] != word:  # else spelled right: nothing to compare
                hit = doc.word_at(position, word, tolerance)
                if hit is None:
                    return None
                position, more = hit
                edits += more
        return TokenRun(index, position, edits)

    def excluded(self, doc: Tokens, found: Sequence[Finding]) -> list[ExcludedRange]:
        """Exclusion phrases that overlap one of ``found`` (only those are looked for)."""
        starts = doc.starts
        ranges = []
        words = doc.words
        cut = doc.cut
        tokens = None  # the first and last token of each finding
        for phrase in self._forms.exclusions:
            if not _may_hold(doc, phrase):
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
            gate = phrase.gate_when_cut if cut else phrase.gate
            for index in sorted(indices):
                if not gate.admits(words[index]):
                    continue  # the first word cannot be it
                hit = self._phrase_at(doc, index, phrase.spelled)
                if hit is not None:
                    start, end = doc.starts[hit.first], doc.ends[hit.last]
                    ranges.append(ExcludedRange(start, end, phrase.form))
        return ranges

    def exclusions_may_hold(self, doc: Tokens) -> bool:
        """May an exclusion phrase match somewhere in ``doc``? (see :func:`_may_hold`)"""
        return any(_may_hold(doc, phrase) for phrase in self._forms.exclusions)

    def near_miss(
        self, doc: Tokens, found: Sequence[Finding], excluded: Sequence[ExcludedRange]
    ) -> str | None:
        """Why ``doc`` does not name the brand, when it almost does: a finding
        cancelled by an exclusion, the place without the kind word, or the kind
        word without the place. None when nothing comes close."""
        folded = doc.folded.text
        kind_display = self._forms.kind_display
        for item in found:
            for start, end, form in excluded:
                if item.start < end and start < item.end:
                    return (
                        f"« {doc.shown(item.start, item.end)} » annulé par l'exclusion « {form} »"
                    )
        for index in range(len(doc.words)):
            place = self._place_at(doc, index)
            if place is not None:
                shown = doc.shown(doc.starts[place.first], doc.ends[place.last])
                return (
                    f"« {shown} » ressemble au lieu du nom, mais aucun « {kind_display} » ne "
                    f"l'accompagne : c'est le lieu, pas l'établissement"
                )
        for index in range(len(doc.words)):
            if self._kind_at(doc, index) is not None:
                stop = min(len(folded), doc.ends[index] + 40)
                shown = doc.shown(doc.starts[index], stop)
                return f"« {shown} » : le mot « {kind_display} » n'est pas suivi du lieu du nom"
        return None


def _found(doc: Tokens, hit: TokenRun, form: str, rule: Rule, score: int) -> Finding:
    """A finding over the tokens of ``hit``, its score lowered by its typos."""
    return Finding(
        doc.starts[hit.first],
        doc.ends[hit.last],
        form,
        rule,
        max(50, score - 5 * hit.edits),
    )


def _may_hold(doc: Tokens, phrase: Phrase) -> bool:
    """May ``phrase`` match somewhere in ``doc``? Not when a word it takes exactly
    is missing from the text, or no token has the length of a word it takes
    with typos, unless a word is cut at a line end (tokens then join)."""
    return doc.cut or (
        all(doc.has(word) for word in phrase.needs)
        and all(doc.has_length(low, high) for low, high in phrase.typo_lengths)
    )
