"""The brand matcher: table-driven cases, the dev corpus score, a second brand."""

from __future__ import annotations

import collections
import json
import random
from pathlib import Path

import pytest
import yaml

from matchers import BrandMatcher, Rule
from matchers.base import Span, snippet_around
from tests.conftest import DATA, ROOT

CASES = yaml.safe_load((DATA / "matcher_cases.yaml").read_text(encoding="utf-8"))
DEV_CORPUS = ROOT.parent / "shared" / "corpus" / "mentions-dev.jsonl"


@pytest.mark.parametrize("case", CASES["mentions"], ids=lambda c: c["text"][:40])
def test_mentions_are_found_with_spans_in_the_original_text(matcher: BrandMatcher, case) -> None:
    result = matcher.match(case["text"])
    assert result.matched, matcher.explain(case["text"]).near_miss
    assert case["match"] in [span.text for span in result.spans]
    for span in result.spans:
        assert case["text"][span.start : span.end] == span.text
        assert 0 < span.score <= 100
        assert span.rule in {rule.value for rule in Rule}


@pytest.mark.parametrize("text", CASES["non_mentions"], ids=lambda t: t[:40])
def test_non_mentions_are_rejected(matcher: BrandMatcher, text: str) -> None:
    result = matcher.match(text)
    assert not result.matched, result.spans


def test_exclusion_cancels_only_the_overlapping_match(matcher: BrandMatcher) -> None:
    text = "Les Voltigeurs de Drummondville visitent le Cégep de Drummondville."
    result = matcher.match(text)
    assert [s.text for s in result.spans] == ["Cégep de Drummondville"]


def test_near_miss_explains_why(matcher: BrandMatcher) -> None:
    result = matcher.explain("Elle habite Drummondville et étudie au cégep de Sherbrooke.")
    assert not result.matched
    assert result.near_miss is not None and "Drummondville" in result.near_miss


def test_snippet_highlights_the_match() -> None:
    text = "x " * 300 + "au Cégep de Drummondville, hier" + " y" * 300
    start = text.index("Cégep")
    span = Span(start, start + 22, "Cégep de Drummondville", "f", "nom", 100)
    snippet = snippet_around(text, span, width=80)
    assert snippet.text[snippet.start : snippet.end] == "Cégep de Drummondville"
    assert snippet.text.startswith("… ") and snippet.text.endswith(" …")
    assert len(snippet.text) < 100


def test_second_brand_from_yaml_only() -> None:
    brand = yaml.safe_load(
        """
        name: Cégep de Victoriaville
        aliases: [Cégep de Victo, cégep victoriavillois]
        handles: ["@cegepvicto", cegepvicto.ca]
        """
    )
    victo = BrandMatcher(**brand)
    for text in (
        "Le Cégep de Victoriaville ouvre un programme.",
        "au cegep de victoriavile",
        "Visit the Victoriaville CEGEP booth",
        "Bravo @CegepVicto!",
        "Le cégep victoriavillois accueille 1 000 étudiants.",
        "les cégeps de Drummondville et de Victoriaville",
        "Info : www.cegepvicto.ca",
    ):
        assert victo.match(text).matched, text
    for text in (
        "Le Cégep de Drummondville ouvre un programme.",
        "Bravo @CegepDrummond!",
        "Victoriaville accueille le festival.",
        "Le cégep drummondvillois",
    ):
        assert not victo.match(text).matched, text


def test_dev_corpus_quality(matcher: BrandMatcher) -> None:
    if not DEV_CORPUS.exists():
        pytest.skip("shared/corpus/mentions-dev.jsonl absent")
    rows = [
        json.loads(line)
        for line in DEV_CORPUS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    tp = fp = fn = 0
    failures: dict[str, list[str]] = collections.defaultdict(list)
    for row in rows:
        found = matcher.match(row["text"]).matched
        if found and row["label"]:
            tp += 1
        elif found:
            fp += 1
            failures[row["category"]].append(f"faux positif {row['id']}")
        elif row["label"]:
            fn += 1
            failures[row["category"]].append(f"faux négatif {row['id']}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(
        f"\ndev corpus: {len(rows)} textes, précision {precision:.3f}, rappel {recall:.3f}, "
        f"F1 {f1:.3f}"
    )
    for category, items in sorted(failures.items()):
        print(f"  {category}: {', '.join(items)}")
    assert f1 >= 0.98 and precision >= 0.99


def test_match_cli_file_mode_and_explanation(tmp_path: Path) -> None:
    from tests.conftest import run_veille
    from tests.unit.test_config import GOOD

    (tmp_path / "config.yaml").write_text(GOOD, encoding="utf-8")
    lines = [
        {"id": "a", "text": "Merci au Cégep de Drummondville!"},
        {"id": "b", "text": "Drummondville est une ville."},
        {"id": 3, "text": "Le 😀 Cegep Drummondville"},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8"
    )
    result = run_veille("match", "--file", str(source), cwd=tmp_path)
    assert result.code == 0, result.err
    out = [json.loads(line) for line in result.out.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", 3]
    assert out[0] == {
        "id": "a",
        "matched": True,
        "score": 100,
        "spans": [{"start": 9, "end": 31, "text": "Cégep de Drummondville"}],
    }
    assert out[1]["matched"] is False and out[1]["spans"] == []
    span = out[2]["spans"][0]
    assert lines[2]["text"][span["start"] : span["end"]] == "Cegep Drummondville"

    said = run_veille("match", "Bravo au Cegep de Drummonville", cwd=tmp_path)
    assert "Mention trouvée" in said.out and "règle : nom" in said.out
    refused = run_veille("match", "Elle habite Drummondville.", cwd=tmp_path)
    assert "Aucune mention" in refused.out and "Candidat le plus proche" in refused.out

    source.write_text("pas du json\n", encoding="utf-8")
    bad = run_veille("match", "--file", str(source), cwd=tmp_path)
    assert bad.code == 2 and "ligne 1" in bad.err and "Traceback" not in bad.err


NOISE = [
    "\u2019",
    "\u2026",
    "\u202f",
    "\u201c",
    "\uff23",
    "\u200b",
    "\u00ad",
    "œ",
    "«\u00a0",
    "\u2014",
    "\n",
    "  ",
    "ß",
    "æ",
    "ā",
    "e\u0301",
]


def test_fast_path_agrees_with_folding_the_whole_text(matcher: BrandMatcher) -> None:
    """The byte prefilter, the windows and the quick look before folding only save
    time: on texts full of characters that fold oddly (soft hyphens and zero-width
    spaces inside words, ligatures, letters beyond Latin-1, combining accents,
    curly apostrophes) they give exactly what folding the whole text gives."""
    rng = random.Random(5)
    pieces = [case["text"] for case in CASES["mentions"]] + CASES["non_mentions"]
    filler = "Le conseil municipal a adopté le budget. " * 4
    compared = matched = 0
    for _ in range(1500):
        chars = list(rng.choice(pieces))
        for _ in range(rng.randint(0, 3)):
            chars.insert(rng.randrange(len(chars) + 1), rng.choice(NOISE))
        text = filler[: rng.randint(0, len(filler))] + "".join(chars) + filler[: rng.randint(0, 80)]
        if rng.random() < 0.3:  # a second mention far away: two windows
            text += filler * 3 + "Au Cégep de Drummondville."
        fast = matcher.match(text)
        assert fast == matcher.reference_match(text), text
        compared += 1
        matched += fast.matched
        for span in fast.spans:
            assert text[span.start : span.end] == span.text
    assert compared == 1500 and 300 < matched < 1500


@pytest.mark.parametrize(
    "text",
    [
        # each hides both anchors ("cegep", "drumm") from the byte fold
        "Au Cé\u200bgep de Drum\u00admondville hier",  # zero-width space, soft hyphen
        "Au CE\u0301GEP DE DRU\u200bMMONDVILLE hier",  # combining accent
        "ＣＥＧＥＰ DE DRU\u00adMMONDVILLE",  # full-width letters
        "L’équipe du Collège d’enseignement général et professionnel de Drum\u00admondville",
        "Bravo au cœur du Cégep de Drummondville — encore",
    ],
)
def test_characters_that_fold_oddly_do_not_hide_the_name(matcher: BrandMatcher, text: str) -> None:
    result = matcher.match(text)
    assert result.matched
    assert all(text[s.start : s.end] == s.text for s in result.spans)


def test_spans_of_far_apart_mentions_point_into_the_original(matcher: BrandMatcher) -> None:
    filler = "Rien à signaler dans ce paragraphe, vraiment rien du tout. " * 20
    text = (
        "Cégep de Drummondville. " + filler + "« cegep drummonville » " + filler + "@CegepDrummond"
    )
    spans = matcher.match(text).spans
    assert [s.text for s in spans] == [
        "Cégep de Drummondville",
        "cegep drummonville",
        "@CegepDrummond",
    ]
    assert [s.start for s in spans] == [0, text.index("cegep"), text.index("@Cegep")]
