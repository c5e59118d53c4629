"""The anchors: short substrings every match contains, and what each one opens.

Every rule needs, inside the match, the kind word spelled right ("cegep"), the
exact place (a misspelt kind word is only accepted before the exact place), a
word of an alias or a handle. So a text holding none of these substrings names
nothing, and where one stands, only the rules it opens are worth trying, from
a few tokens before it. For each anchor this module says:

- which rules it opens, and from which tokens around it (:class:`AnchorUse`);
- what the bytes around it must hold for one of those rules to match, checked
  by the prefilter's quick look before any folding (:class:`Need`,
  :class:`WordsInText`);
- how many characters of context a match needs around it (:class:`Reach`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, IntFlag
from typing import AnyStr, NamedTuple

from matchers.forms import BrandForms

_AFTER = 30  # characters kept after an anchor other than the kind word
_WINDOW = 150  # characters of context kept on both sides of the kind word


class RuleFlag(IntFlag):
    """The rules worth trying at a token, as bits of an ``int``.

    Alias number k has the bit ``ALIAS << k``. The tables hold plain ``int``
    values (an operation on an ``IntFlag`` runs in Python, 50 times slower).
    """

    KIND_FIRST = 1  # the kind word opens the name, a coordination or an alias
    PLACE_FIRST = 2  # the place opens the English order ("Drummondville CEGEP")
    BARE_HANDLE = 4  # a one-word handle or hashtag
    ALIAS = 8


class Need(Enum):
    """What a rule needs near its anchor, beyond the anchor itself."""

    NOTHING = "nothing"  # the anchor may be enough
    KIND_BEFORE = "kind before"  # a word that may be a misspelt kind word before it
    KIND_NEAR = "kind near"  # a word of the place or of an alias near the kind word


class WordsInText(NamedTuple):
    """The words an alias takes exactly: all must be somewhere in the text."""

    words: tuple[bytes, ...]


Check = Need | WordsInText


class AnchorUse(NamedTuple):
    """Rules an anchor opens, and the tokens where a match of them may start,
    counted from the token holding the anchor."""

    flags: int  # RuleFlag bits
    first: int
    last: int


class Reach(NamedTuple):
    """Characters of context a match needs around an anchor."""

    before: int
    after: int


class TokenOffset(NamedTuple):
    """A token, counted from the one holding an anchor, where rules may start."""

    offset: int
    flags: int  # RuleFlag bits: every rule the anchor opens there


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchor substring, folded, and everything it opens."""

    text: str
    checks: tuple[Check, ...]  # the quick look passes if one of them does
    reach: Reach
    offsets: tuple[TokenOffset, ...]  # in the order the uses first reach them


def find_anchors(forms: BrandForms) -> tuple[Anchor, ...]:
    """The anchors of ``forms``, each with the rules worth trying near it and the
    checks the quick look makes on the bytes around it."""
    uses: dict[str, list[AnchorUse]] = {}
    all_checks: dict[str, tuple[Check, ...]] = {}

    def add(
        anchor: str, flags: int, first: int, last: int = 0, check: Check = Need.NOTHING
    ) -> None:
        if anchor:
            uses.setdefault(anchor, []).append(AnchorUse(int(flags), first, last))
            checks = all_checks.get(anchor, ())
            if check not in checks:  # the same check twice tells nothing more
                all_checks[anchor] = (*checks, check)

    kind, place = forms.kind, forms.place_words
    kind_first, place_first, bare = RuleFlag.KIND_FIRST, RuleFlag.PLACE_FIRST, RuleFlag.BARE_HANDLE
    # "cégep de …", "cégeps de … et de …", #cegepdrummond
    add(kind, kind_first | bare, 0, 0, Need.KIND_NEAR)
    add(kind, place_first, -len(place) - 2, -1, Need.KIND_NEAR)  # "Drummondville's CEGEP"
    # "Cgep de Drummondville": a misspelt kind word, two connectors between
    add(place[0], kind_first, -3, -1, Need.KIND_BEFORE)
    for number, phrase in enumerate(forms.aliases):
        # the kind word, else the place, else the longest word (five letters of it)
        if kind in phrase.words:
            anchor = kind
        elif place[0] in phrase.words:
            anchor = place[0][:5]
        else:
            anchor = max(phrase.words, key=len)[:5]
        check: Check
        if anchor == kind:  # its other words are looked for near the kind word
            check = Need.KIND_NEAR if phrase.beside_kind else Need.NOTHING
        elif phrase.needs:  # the words it takes exactly must be somewhere in the text
            check = WordsInText(tuple(word.encode() for word in phrase.needs))
        else:
            check = Need.NOTHING
        add(anchor, RuleFlag.ALIAS << number, -len(phrase.words), 0, check)
    for anchor in forms.handle_anchors:
        add(anchor, bare, 0)
    for body in forms.bare_handles:
        add(body[:8], bare, 0)
    return tuple(
        Anchor(
            text=anchor,
            checks=all_checks[anchor],
            reach=_reach(anchor, anchor_uses, kind),
            offsets=_offsets(anchor_uses),
        )
        for anchor, anchor_uses in uses.items()
    )


def _reach(anchor: str, uses: Sequence[AnchorUse], kind: str) -> Reach:
    """Characters of context a match needs before and after ``anchor``."""
    if anchor == kind:  # it may open or close a list of names
        return Reach(_WINDOW, _WINDOW)
    words_before = max(-use.first for use in uses)
    return Reach(words_before * 12 + 20, _AFTER)


def _offsets(uses: Sequence[AnchorUse]) -> tuple[TokenOffset, ...]:
    """An anchor's uses as token offsets, each with all the flags set there, in
    the order the uses first reach them (so tokens are tried in the same order)."""
    merged: dict[int, int] = {}
    for flags, first, last in uses:
        for offset in range(first, last + 1):
            merged[offset] = merged.get(offset, 0) | flags
    return tuple(TokenOffset(offset, flags) for offset, flags in merged.items())


def find_all(text: AnyStr, part: AnyStr) -> list[int]:
    """The positions of ``part`` in ``text``, left to right, not overlapping."""
    found = []
    position = text.find(part)
    while position != -1:
        found.append(position)
        position = text.find(part, position + len(part))
    return found
