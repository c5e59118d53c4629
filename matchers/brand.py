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

A text goes through four stages, one module each:

1. :mod:`matchers.forms` — the brand's forms, folded, built once from config;
   :mod:`matchers.anchors` — the short substrings every match contains
   ("cegep", "drumm"…), each with the rules it opens;
2. :mod:`matchers.prefilter` — where the anchors stand, found in a byte fold
   of the text at C speed (most texts stop there), and the windows around
   them, folded;
3. :mod:`matchers.tokens` — those windows as word tokens;
4. :mod:`matchers.rules` — at the tokens each anchor points to, the rules it
   opens; then, here, exclusions cancel what they overlap and the best of
   overlapping findings are kept.

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

from collections.abc import Sequence
from typing import TYPE_CHECKING

from matchers.anchors import find_anchors
from matchers.base import MatchResult, Span
from matchers.forms import BrandForms
from matchers.normalize import fold
from matchers.prefilter import Prefilter
from matchers.rules import ExcludedRange, Finding, TokenRules
from matchers.tokens import Tokens

if TYPE_CHECKING:
    from veille.config import BrandConfig

_NO_MATCH = MatchResult()  # the verdict on most texts, built once


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
        self.forms = BrandForms.build(name=name, aliases=aliases, handles=handles, exclude=exclude)
        anchors = find_anchors(self.forms)
        self.prefilter = Prefilter(self.forms, anchors)
        self._rules = TokenRules(self.forms, anchors)

    @classmethod
    def from_brand(cls, brand: BrandConfig) -> BrandMatcher:
        """Build from the ``brand:`` block of config.yaml."""
        return cls(
            name=brand.name,
            aliases=tuple(brand.aliases),
            handles=tuple(brand.handles),
            exclude=tuple(brand.exclude),
        )

    def match(self, text: str) -> MatchResult:
        """Where ``text`` names the brand; no span when it does not."""
        return self._verdict(text, self.prefilter.look(text))

    def reference_match(self, text: str) -> MatchResult:
        """What :meth:`match` must answer, found the slow way: the whole text
        folded character by character and every rule tried at every anchor —
        no byte fold, no quick look, no windows cut from the bytes.

        The byte prefilter, its quick look and the windows only save time; tests
        compare :meth:`match` with this on texts full of characters that fold
        oddly.
        """
        return self._verdict(text, self.prefilter.look_whole(text))

    def explain(self, text: str) -> MatchResult:
        """Like :meth:`match`, plus, when nothing matches, the closest candidate and why."""
        result = self.match(text)
        if result.matched:
            return result
        doc = Tokens(text, fold(text))
        found: list[Finding] = []
        if self._rules.exclusions_may_hold(doc):
            # the findings only matter to tell one cancelled by an exclusion
            found = self._rules.find(doc)
        near = self._rules.near_miss(doc, found, self._rules.excluded(doc, found))
        return MatchResult(near_miss=near)

    def _verdict(self, text: str, doc: Tokens | None) -> MatchResult:
        """The verdict on ``text``, of which the prefilter kept ``doc``."""
        if doc is None:
            return _NO_MATCH
        found = self._rules.find(doc)
        if not found:
            return _NO_MATCH
        excluded = self._rules.excluded(doc, found)
        spans = []
        for item in _best_non_overlapping(_outside(found, excluded)):
            start, end = doc.folded.original(item.start, item.end)
            spans.append(
                Span(
                    start=start,
                    end=end,
                    text=text[start:end],
                    form=item.form,
                    rule=item.rule.value,
                    score=item.score,
                )
            )
        return MatchResult(spans=tuple(sorted(spans, key=lambda s: s.start)))


def _best_non_overlapping(found: list[Finding]) -> list[Finding]:
    """Keep the strongest, then longest, of overlapping findings.

    The folded characters already kept are marked in a byte array, so each
    finding is checked against all those kept in the time of its own length.
    """
    kept: list[Finding] = []
    taken = bytearray(max((f.end for f in found), default=0))
    for item in sorted(found, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        if taken.find(1, item.start, item.end) == -1:
            kept.append(item)
            taken[item.start : item.end] = b"\x01" * (item.end - item.start)
    return kept


def _outside(found: list[Finding], ranges: Sequence[ExcludedRange]) -> list[Finding]:
    """The findings that overlap none of ``ranges``."""
    if not ranges:
        return found
    covered = bytearray(max(end for _, end, _ in ranges))
    for start, end, _ in ranges:
        covered[start:end] = b"\x01" * (end - start)
    return [f for f in found if covered.find(1, f.start, f.end) == -1]
