"""The brand matcher on hostile texts: same answers as on ordinary ones, in time
linear in the text's length.

The inputs (a short piece repeated: "cegep" without spaces, the name 50 times,
soft hyphens between its letters…) are those of
``benchmarks/bench_pathological.py``, which times them at 1 MB.
"""

from __future__ import annotations

import random
import time

import pytest

from benchmarks.bench_pathological import INPUTS, hostile
from matchers import BrandMatcher
from matchers.normalize import word_edge, word_end, word_start
from matchers.prefilter import merge_windows
from matchers.tokens import CUT_WORD

# input: (spans, rule of each, text of each (None: the repeated piece, stripped),
# what the near miss of explain() says (None: nothing)), on 50 repetitions
EXPECTED = {
    "cegep-run": (0, None, None, None),
    "name": (50, "nom", None, None),
    "drummondville-run": (0, None, None, None),
    "drumm-run": (0, None, None, None),
    "cegep-words": (0, None, None, "n'est pas suivi du lieu du nom"),
    "drummondville-words": (0, None, None, "« Drummondville » ressemble au lieu du nom"),
    # both words cut at a line end, fifty times
    "cut-name": (50, "nom", None, None),
    "hidden-letters": (50, "nom", None, None),
    "invisible-run": (1, "nom", "", None),  # "": the whole text
    "kind-then-place": (1, "nom", "cégep de Drummondville", None),
    "no-anchor": (0, None, None, None),
    "fullwidth-name": (50, "nom", None, None),
    "hashtag-run": (50, "identifiant", None, None),
    "excluded": (0, None, None, "annulé par l'exclusion « Voltigeurs de Drummondville »"),
    "coordination": (1, "coordination", "cégeps de Granby, et de Drummondville", None),
    "cut-then-spaces": (0, None, None, "« Cégep de Drum- » : le mot « cégep » n'est pas suivi"),
}


def test_every_input_has_its_expectation() -> None:
    assert set(EXPECTED) == set(INPUTS)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_hostile_inputs_give_the_usual_answers(matcher: BrandMatcher, name: str) -> None:
    head, piece, tail = INPUTS[name]
    text = head + piece * 50 + tail
    count, rule, shown, near = EXPECTED[name]
    result = matcher.match(text)
    assert len(result.spans) == count
    for span in result.spans:
        assert text[span.start : span.end] == span.text
        assert span.rule == rule
        assert span.text == (text if shown == "" else shown or piece.strip())
    explained = matcher.explain(text)
    if count:
        assert explained == result
    elif near is None:
        assert explained.near_miss is None
    else:
        assert explained.near_miss is not None and near in explained.near_miss


@pytest.mark.parametrize("name", list(INPUTS))
def test_hostile_inputs_take_linear_time(matcher: BrandMatcher, name: str) -> None:
    """200 kB of each input in well under 10 s (a few tenths of a second on a
    slow machine); before, 20 kB of "cegep" without spaces took 16 s and 20 kB
    of a word cut at a line end followed by spaces 5 s in explain()."""
    text = hostile(name, 200_000)
    started = time.perf_counter()
    result = matcher.match(text)
    explained = matcher.explain(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"{name}: {elapsed:.1f} s for 200 kB"
    assert explained.spans == result.spans


FRAGMENTS = [
    "cégep", "Cégep", "CÉGEP", "cégeps", "CEGEPs", "de", "du", "d'", "et", "and", "la", "of",
    "des", "Drummondville", "drummondville", "Drummonville", "Drumondville", "Drummond",
    "drummondvillois", "Victoriaville", "Granby", "Voltigeurs", "Collège", "Saint-Bernard",
    "UQTR", "@cegepdrummond", "#CegepDrummond", "cegepdrummond.ca", "Cgep", "Cégp", "cegepp",
    "'s", "CEGEP", "x", "Le", "au", "à", "Montréal", "la ville", "rue", "Cégep-de-Drummondville",
    "Collège d'enseignement général et professionnel",
]  # fmt: skip
RARE = ["Drum\u00admondville", "Cé\u200bgep", "ＣＥＧＥＰ", "cœur", "\u2019"]
SEPARATORS = [" ", " ", " ", ", ", "\n", " - ", "-", "", "  ", " et de ", "'", ". ", "\t"]


def test_the_quick_look_prunes_nothing_that_matches(matcher: BrandMatcher) -> None:
    """In a text with many anchors, the quick look marks those where no rule can
    match and no rule is tried there: the answer is still the one the whole
    text, folded and tried everywhere, gives."""
    rng = random.Random(8)
    pruned = 0
    for _ in range(250):
        parts = []
        for _ in range(rng.randint(20, 200)):
            parts.append(rng.choice(RARE if rng.random() < 0.01 else FRAGMENTS))
            parts.append(rng.choice(SEPARATORS))
        text = "".join(parts)
        doc = matcher.prefilter.look(text)
        pruned += doc is not None and bool(doc.ruled_out)
        assert matcher.match(text) == matcher.reference_match(text), text
    assert pruned > 50  # the pruning was at work


def test_word_edges_read_as_the_character_by_character_definition() -> None:
    rng = random.Random(3)
    alphabet = ["a", "é", "1", " ", "-", "_", "«", "\u00ad", "\u200b", "\u0301", "\u034f", "Ａ"]
    alphabet += ["\u0483", "\u1dc0", "\n"]  # combining marks beyond the usual block
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        index = rng.randint(0, len(text))
        end = index
        while end < len(text) and word_edge(text[end]):
            end += 1
        start = index
        while start > 0 and word_edge(text[start - 1]):
            start -= 1
        assert (word_start(text, index), word_end(text, index)) == (start, end), text


def test_the_fast_word_run_holds_only_word_characters() -> None:
    from matchers.normalize import _WORD_RUN

    assert all(
        word_edge(char)
        for char in map(chr, range(0x30000))
        if not (0xD800 <= ord(char) < 0xE000) and _WORD_RUN.fullmatch(char)
    )


def test_windows_merge_as_spans_widened_one_by_one() -> None:
    """Windows are widened to whole words once each, not once per anchor: the
    same windows as widening every span then merging those that touch."""

    def merged_one_by_one(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            start, end = max(0, start), min(end, len(text))
            while start > 0 and word_edge(text[start - 1]):
                start -= 1
            while end < len(text) and word_edge(text[end]):
                end += 1
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [(start, end) for start, end in merged]

    rng = random.Random(4)
    for _ in range(3000):
        text = "".join(rng.choice("aé x\u00ad-Ａ\n") for _ in range(rng.randint(1, 200)))
        spans = []
        for _ in range(rng.randint(0, 8)):
            at = rng.randrange(len(text))
            spans.append((at - rng.randint(0, 20), at + rng.randint(1, 20)))
        assert merge_windows(spans, text) == merged_one_by_one(spans, text), (text, spans)


def test_a_cut_word_before_a_long_run_of_spaces_is_read_at_once() -> None:
    """The pattern of a word cut at a line end is written so that no run of
    spaces can be split two ways: a failing match on a long run is linear."""
    started = time.perf_counter()
    assert CUT_WORD.fullmatch("-\n" + " " * 200_000 + ",") is None
    assert time.perf_counter() - started < 5
    for sep in ("-\n", "- \n ", "-\n\n", "-\n \n", "- \t\n\t \n  "):
        assert CUT_WORD.fullmatch(sep)
    assert not CUT_WORD.fullmatch("-\n\n\n") and not CUT_WORD.fullmatch("- x\n")
