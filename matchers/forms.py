"""The brand's forms: everything the matcher looks for, built once from config.yaml.

From ``brand.name`` ("Cégep de Drummondville") come the *kind* word ("cegep",
its plurals and its spellings one typo away) and the *place* ("drummondville",
each word with the typos it tolerates). ``brand.aliases`` and ``brand.exclude``
become :class:`Phrase` objects, ``brand.handles`` become @handle, #hashtag and
domain patterns, and the name written as one word becomes a hashtag.

Everything here is folded (see :mod:`matchers.normalize`) and computed once,
so that the later stages (:mod:`matchers.anchors`, :mod:`matchers.prefilter`,
:mod:`matchers.rules`) only compare.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from matchers.base import Rule
from matchers.normalize import fold_plain

CONNECTORS = frozenset({"de", "du", "d", "des", "of", "la", "l"})
LIST_WORDS = frozenset({"de", "du", "d", "des", "et", "ou", "and", "or", "of", "la", "l", "the"})

WORD = re.compile(r"[a-z0-9]+")  # a word of a folded text


def max_edits(word: str) -> int:
    """Typos tolerated in a word: none below 5 letters, 1 up to 9, 2 from 10."""
    if len(word) < 5:
        return 0
    return 1 if len(word) < 10 else 2


def one_edit(word: str) -> frozenset[str]:
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


class WordRole(Enum):
    """How a word of a phrase is compared with a token."""

    WORD = "word"  # as it is, or within the typos it tolerates
    CONNECTOR = "connector"  # any connector (de, du, d', of…), or none: it is optional
    KIND = "kind"  # the kind word or its plural, spelled right (it is the anchor)


class SpelledWord(NamedTuple):
    """A word of a phrase or of the place, as the rules compare it."""

    word: str
    tolerance: int  # typos tolerated
    role: WordRole


class FirstWordGate(NamedTuple):
    """A cheap test of the token a phrase may start with."""

    shortest: int
    longest: int
    exact: str | None  # the word it must be (or begin, when cut), when taken exactly

    def admits(self, token: str) -> bool:
        """Can a phrase with this gate start at ``token``?"""
        shortest, longest, exact = self  # unpacked at once: tried on many tokens
        return shortest <= len(token) <= longest and (exact is None or exact.startswith(token))


class LengthRange(NamedTuple):
    """The lengths a token may have to read a word within its typos."""

    shortest: int
    longest: int


@dataclass(frozen=True, slots=True)
class Phrase:
    """A configured alias or exclusion as a sequence of folded words."""

    form: str  # as configured
    words: tuple[str, ...]
    spelled: tuple[SpelledWord, ...]
    # the first-word gates in a text without and with words cut at a line end
    gate: FirstWordGate
    gate_when_cut: FirstWordGate
    # the words any match of it contains as they are (no typo tolerated, not an
    # optional connector), four letters or more
    needs: tuple[str, ...]
    # for each word it takes with typos, the lengths of a token that may read it
    typo_lengths: tuple[LengthRange, ...]
    # its words beyond the kind word and connectors, which a match needs near
    # the kind word
    beside_kind: tuple[SpelledWord, ...]


class HandlePattern(NamedTuple):
    """A handle or domain, looked for with a pattern in the folded text."""

    anchor: str  # the folded handle or domain, which the text must contain
    pattern: re.Pattern[str]
    form: str  # as configured
    rule: Rule
    score: int


class BareHandle(NamedTuple):
    """A handle or hashtag that counts as one word written bare ("cegepdrummond")."""

    form: str
    rule: Rule


@dataclass(frozen=True, slots=True)
class BrandForms:
    """The brand's forms, folded; build with :meth:`build`."""

    name: str  # as configured
    kind: str  # the kind word, folded: "cegep"
    kind_display: str  # as written in the name, lower-case: "cégep"
    kind_forms: frozenset[str]  # spelled right, singular or plural
    kind_tolerance: int
    kind_typos: frozenset[str]  # one typo away, singular or plural
    place: tuple[SpelledWord, ...]  # "drummondville"
    aliases: tuple[Phrase, ...]
    exclusions: tuple[Phrase, ...]
    handle_patterns: tuple[HandlePattern, ...]
    handle_anchors: frozenset[str]
    bare_handles: Mapping[str, BareHandle]  # by the token they are

    @property
    def place_words(self) -> tuple[str, ...]:
        return tuple(spelled.word for spelled in self.place)

    @classmethod
    def build(
        cls,
        *,
        name: str,
        aliases: Sequence[str] = (),
        handles: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> BrandForms:
        words = WORD.findall(fold_plain(name))
        if not words:
            raise ValueError("brand name has no word")
        kind = words[0]
        rest = words[1:]
        while rest and rest[0] in CONNECTORS:
            rest = rest[1:]
        place = tuple(rest) or (words[-1],)
        kind_tolerance = 1 if len(kind) >= 5 else 0
        build = _PhraseBuilder(kind, place)
        patterns: list[HandlePattern] = []
        anchors: set[str] = set()
        bare: dict[str, str] = {}
        for handle in handles:
            _add_handle(handle, patterns, anchors, bare)
        joined_place = "".join(place)
        for joined in {kind + "".join(words[1:]), kind + joined_place}:
            bare.setdefault(joined, "#" + joined)
        return cls(
            name=name,
            kind=kind,
            kind_display=name.split()[0].lower(),
            kind_forms=frozenset({kind, kind + "s", kind + "x"}),
            kind_tolerance=kind_tolerance,
            kind_typos=(one_edit(kind) | one_edit(kind + "s") if kind_tolerance else frozenset()),
            place=tuple(SpelledWord(word, max_edits(word), WordRole.WORD) for word in place),
            aliases=tuple(p for p in map(build.phrase, aliases) if p),
            exclusions=tuple(p for p in map(build.phrase, exclude) if p),
            handle_patterns=tuple(patterns),
            handle_anchors=frozenset(anchors),
            bare_handles={
                body: BareHandle(form, Rule.HASHTAG if form.startswith("#") else Rule.HANDLE)
                for body, form in bare.items()
            },
        )


class _PhraseBuilder:
    """Builds the phrases of one brand: which words tolerate typos depends on it."""

    def __init__(self, kind: str, place: tuple[str, ...]):
        self.kind = kind
        self.place = place
        self._tolerances: dict[str, int] = {}

    def phrase(self, form: str) -> Phrase | None:
        """``form`` as a phrase; None when it has no word."""
        words = tuple(WORD.findall(fold_plain(form)))
        if not words:
            return None
        gate, gate_when_cut = self._first_word_gates(words)
        spelled = tuple(
            SpelledWord(word, self._tolerance(word), self._role(word)) for word in words
        )
        return Phrase(
            form=form,
            words=words,
            spelled=spelled,
            gate=gate,
            gate_when_cut=gate_when_cut,
            needs=tuple(
                word
                for word in words
                if len(word) >= 4 and word not in CONNECTORS and not self._tolerance(word)
            ),
            typo_lengths=tuple(
                LengthRange(len(word) - tolerance, len(word) + tolerance)
                for word, tolerance, role in spelled
                if role is WordRole.WORD and tolerance
            ),
            beside_kind=tuple(
                SpelledWord(word, self._tolerance(word), WordRole.WORD)
                for word in words
                if word != self.kind and word not in CONNECTORS
            ),
        )

    def _role(self, word: str) -> WordRole:
        if word in CONNECTORS:
            return WordRole.CONNECTOR
        return WordRole.KIND if word == self.kind else WordRole.WORD

    def _first_word_gates(self, words: Sequence[str]) -> tuple[FirstWordGate, FirstWordGate]:
        """Cheap tests of the token a phrase may start with, in a text without and
        with words cut at a line end: its length bounds (a connector, or a word
        cut at a line end, can only be shorter) and, for a word taken exactly,
        the word it must be, or begin when cut."""
        first = words[0]
        if first in CONNECTORS:
            gate = FirstWordGate(1, max(len(c) for c in CONNECTORS), None)
            return gate, gate
        if first == self.kind:
            gate = FirstWordGate(len(first), len(first) + 1, None)
            return gate, gate
        tolerance = self._tolerance(first)
        exact = None if tolerance else first
        return (
            FirstWordGate(len(first) - tolerance, len(first) + tolerance, exact),
            FirstWordGate(1, len(first) + tolerance, exact),
        )

    def _tolerance(self, word: str) -> int:
        """Typos tolerated in a word of an alias or exclusion: only in the place's
        words and in long words (cached)."""
        tolerance = self._tolerances.get(word)
        if tolerance is None:
            tolerance = max_edits(word) if word in self.place or len(word) >= 8 else 0
            self._tolerances[word] = tolerance
        return tolerance


def _add_handle(
    handle: str, patterns: list[HandlePattern], anchors: set[str], bare: dict[str, str]
) -> None:
    """Add a configured handle: a domain (a dot, no @ or #) or an @handle/#hashtag,
    which a long enough one also matches written bare."""
    text = fold_plain(handle.strip())
    body = text.lstrip("@#")
    if not body:
        return
    if "." in body and not text.startswith(("@", "#")):
        domain = body.split("//")[-1].removeprefix("www.").strip("/")
        pattern = re.compile(r"(?<![a-z0-9\-])" + re.escape(domain) + r"(?![a-z0-9])")
        patterns.append(HandlePattern(domain, pattern, handle, Rule.DOMAIN, 95))
        anchors.add(domain)
        return
    body = re.sub(r"[^a-z0-9_]", "", body)
    pattern = re.compile(r"[@#]" + re.escape(body) + r"(?![a-z0-9_])")
    patterns.append(HandlePattern(body, pattern, handle, Rule.HANDLE, 95))
    anchors.add(body)
    if len(body) >= 10:
        bare.setdefault(body, handle)
