"""The propos detector (matchers/propos.py) and ``veille propos``.

- table-driven cases (tests/data/propos_cases.yaml), written from the definitions;
- the quality bar on the development corpus: precision and recall of ``alert``
  at least 0.90, per-label recall printed (``pytest -s``) and in the message;
- a bar on held-out comments (tests/data/propos_heldout.jsonl, written apart
  from the dev set; its ph-9xxx were never used to tune the rules and are
  reported on their own), and on a second held-back set never tuned on
  (tests/data/propos_heldback2.jsonl);
- the structures of the rules and the false positives fixed, one case each;
- the API (severities, verdict, configuration) and the command.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from matchers.propos import (
    SEVERITY,
    ProposCategory,
    ProposDetector,
    ProposVerdict,
    shipped_word_lists,
)
from veille.commands.propos import cmd_propos

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CASES: dict[str, Any] = yaml.safe_load((DATA / "propos_cases.yaml").read_text(encoding="utf-8"))
PUBLIC = CASES.pop("public_contacts")
BAR = 0.90
# tests/data/propos_heldout.jsonl: 317 comments written from the definitions, not
# from the dev set. Before the generalised rules: P 0.949, R 0.600; after: P 0.971,
# R 0.865; after the veiled threats and insinuations: P 0.993, R 0.910 (optimistic:
# the rules were written looking at its ph-0xxx). Its 62 ph-9xxx were never looked
# at while tuning: R 0.500, then 0.567, then 0.600 (P 0.947).
HELDOUT_PRECISION = 0.97
HELDOUT_RECALL = 0.88
# tests/data/propos_heldback2.jsonl: 159 comments written from the definitions
# before the veiled threats and insinuations were read, never tuned on. Before:
# P 0.872, R 0.512 (41 of 80 found, 6 false alerts); after: P 0.926, R 0.625
# (50 found, 4 false alerts). The honest estimate, with the ph-9xxx.
HELDBACK2_PRECISION = 0.90
HELDBACK2_RECALL = 0.60


@pytest.fixture(scope="module")
def detector() -> ProposDetector:
    return ProposDetector.from_config(public_contacts=PUBLIC)


def _cases() -> list[Any]:
    return [
        pytest.param(case, id=f"{section}:{case['text'][:45]}")
        for section, cases in CASES.items()
        for case in cases
    ]


@pytest.mark.parametrize("case", _cases())
def test_case(case: dict[str, Any], detector: ProposDetector) -> None:
    if "extra_words" in case or "ignore_words" in case:
        detector = ProposDetector.from_config(
            extra_words=case.get("extra_words", {}),
            ignore_words=case.get("ignore_words", ()),
            public_contacts=PUBLIC,
        )
    verdict = detector.judge(case["text"])
    expected = None if case["expect"] == "rien" else ProposCategory(case["expect"])
    assert verdict.category == expected, verdict
    for word in case.get("words", ()):
        assert word in verdict.words, verdict


# Each structure added after the held-back set (tests/data/propos_heldback2.jsonl)
# was written, and each false positive fixed: the code, not a list of phrases,
# gives these verdicts (each fails without it). None: nothing to flag.
STRUCTURES = {
    "veiled threat: an ominous sequel after a provocation": [
        ("Si tu recommences, tu vas comprendre.", "menace"),
        ("Si tu ris encore de ma soeur, tu vas voir", "menace"),
        ("La prochaine fois que tu me coupes dans le stationnement, tu vas voir", "menace"),
        ("Si jamais tu touches encore à mon char, ça va faire mal.", "menace"),
        ("Si y'en a un qui touche à mon vélo, je le casse en deux", "menace"),
        ("Essaie le nouveau café, tu vas voir!", None),  # no second sign
        ("Si vous venez au salon, vous allez voir!", None),  # an invitation
        ("Continuez de même, vous allez voir les résultats en mai!", None),
        ("Ça va faire mal au portefeuille, cette hausse-là.", None),
        ("Si tu spoil la fin, tu vas voir 😂", None),  # said laughing
    ],
    "veiled threat: someone waited for where they are": [
        ("On va les attendre à la sortie du gym 😡", "menace"),
        ("Un jour quelqu'un va la prendre à part pis ça va faire mal", "menace"),
        ("On se voit à la sortie du spectacle!", None),
    ],
    "veiled threat: a warning about where one goes": [
        ("Fais attention quand tu sors du stationnement", "menace"),
        ("Toi le concierge, fais attention en rentrant chez vous à soir", "menace"),
        ("Fais attention en sortant du stationnement, c'est de la glace vive", None),
    ],
    "veiled threat: a weapon one has, and a hint": [
        (
            "Mon oncle a un fusil pis il aime pas qu'on écoeure sa nièce, je dis ça de même",
            "menace",
        ),
        ("Mon oncle a sorti son fusil, la chasse ouvre demain", None),
    ],
    "insinuated accusation: a frame, a target, something gained": [
        (
            "Comme par hasard, c'est encore le neveu du directeur qui a eu le contrat"
            " de déneigement",
            "diffamation",
        ),
        ("Drôle de hasard, il pleut encore le jour de la rentrée", None),
        ("Curieux comme la direction a pas consulté les étudiants", None),
    ],
    "accusations: other forms and targets": [
        ("Il paraît que le cégep aurait revendu les données des étudiants", "diffamation"),
        ("The new coordinator in nursing faked her credentials", "diffamation"),
        ("Selon TVA, le directeur du cégep a détourné des fonds", None),  # news relayed
        ("Le directeur du cégep a détourné des fonds", "diffamation"),
    ],
    "false positive: a friend's arrest is news": [
        ("Mon ami s'est fait arrêter par la police pour excès de vitesse, lol", None),
        ("Mon ami m'a dit que le prof de gym harcèle les filles", "diffamation"),
    ],
    "false positive: a cellar is not an insult": [
        ("La visite des caves de la brasserie avec le cours de chimie était top", None),
        ("Les caves de la direction ont encore coupé les cours du soir", "insulte"),
        ("T'es un cave de la pire espèce", "insulte"),
        ("Une gang de caves du conseil", "insulte"),
    ],
    "false positive: fuck off the weather": [
        ("fuck off l'hiver, reviens pas", None),
        ("Fuck off la pluie, on veut notre party", None),
        ("fuck off le prof de chimie", "insulte"),
        ("fuck off Julie", "insulte"),
    ],
    "private information: a plate further from its word": [
        (
            "Plaque du char du gars qui se stationne tout le temps dans la place réservée"
            " aux handicapés : GHT 3K8",
            "vie_privee",
        ),
    ],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(text, expected, id=f"{section}:{text[:40]}")
        for section, cases in STRUCTURES.items()
        for text, expected in cases
    ],
)
def test_structure(text: str, expected: str | None, detector: ProposDetector) -> None:
    verdict = detector.judge(text)
    assert verdict.category == (None if expected is None else ProposCategory(expected)), verdict


def test_end_of_sentence_in_a_pattern() -> None:
    """ "$" in a pattern: the sentence ends there."""
    detector = ProposDetector.from_config(extra_words={"menace": ["on se revoit $"]})
    assert detector.judge("Toi pis moi, on se revoit.").category == ProposCategory.MENACE
    assert detector.judge("on se revoit!! 🙂").category == ProposCategory.MENACE
    assert detector.judge("On se revoit demain au cours").category is None


def _corpus() -> Path:
    for folder in (DATA, SHARED):
        if (folder / "propos-dev.jsonl").is_file():
            return folder / "propos-dev.jsonl"
    pytest.skip("propos-dev.jsonl absent (ni tests/data ni ../shared/corpus)")


def _scores(detector: ProposDetector, rows: list[dict[str, Any]]) -> tuple[float, float, str]:
    """Precision and recall of ``alert``, and a report per label."""
    found = collections.Counter[str]()
    exact = collections.Counter[str]()
    total = collections.Counter[str]()
    tp = fp = fn = 0
    for row in rows:
        verdict = detector.judge(row["text"])
        alert = verdict.category is not None and verdict.severity >= 1
        total[row["label"]] += 1
        found[row["label"]] += alert == row["alert"]
        exact[row["label"]] += (verdict.category or "ok") == row["label"] or (
            row["label"] == "vulgaire" and verdict.category is None
        )
        tp += alert and row["alert"]
        fp += alert and not row["alert"]
        fn += not alert and row["alert"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    lines = [f"{len(rows)} commentaires : précision {precision:.3f}, rappel {recall:.3f}"]
    lines[0] += f", F1 {f1:.3f}"
    lines += [
        f"  {label:<12} alerte juste {found[label]:>3}/{total[label]:<3}"
        f" ({found[label] / total[label]:.2f}), catégorie juste {exact[label]:>3}"
        for label in sorted(total)
    ]
    return precision, recall, "\n".join(lines)


def test_quality_bar_on_the_development_corpus(detector: ProposDetector) -> None:
    rows = [json.loads(line) for line in _corpus().read_text(encoding="utf-8").splitlines()]
    precision, recall, report = _scores(detector, rows)
    print("\n" + report)
    assert precision >= BAR and recall >= BAR, report


def _heldout() -> list[dict[str, Any]]:
    text = (DATA / "propos_heldout.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_quality_bar_on_held_out_comments(detector: ProposDetector) -> None:
    """Comments phrased unlike the dev set (indirect and conditional threats,
    accusations in other words, hard negatives); the held-back ph-9xxx are
    reported apart, as the honest estimate."""
    rows = _heldout()
    precision, recall, report = _scores(detector, rows)
    back = [r for r in rows if r["id"].startswith("ph-9")]
    report += "\n  dont ph-9xxx (jamais regardés) : " + _scores(detector, back)[2].splitlines()[0]
    print("\n" + report)
    assert precision >= HELDOUT_PRECISION and recall >= HELDOUT_RECALL, report


def _heldback2() -> list[dict[str, Any]]:
    text = (DATA / "propos_heldback2.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_quality_bar_on_held_back_comments(detector: ProposDetector) -> None:
    """A second held-back set (veiled threats, insinuations, hard negatives),
    written before the rules that read them and never tuned on: the bar is what
    the rules reached, less a small margin, so that a change that loses on it
    is seen."""
    precision, recall, report = _scores(detector, _heldback2())
    print("\n" + report)
    assert precision >= HELDBACK2_PRECISION and recall >= HELDBACK2_RECALL, report


def test_the_shortcut_never_changes_a_verdict(detector: ProposDetector) -> None:
    """judge() skips the full reading of a comment with no word any rule starts
    from; the verdicts are those of the full reading."""
    full = ProposDetector(shipped_word_lists(), public_contacts=PUBLIC, prefilter=False)
    texts = [case["text"] for cases in CASES.values() for case in cases]
    texts += [json.loads(line)["text"] for line in _corpus().read_text("utf-8").splitlines()]
    texts += [row["text"] for row in _heldout() + _heldback2()]
    assert [detector.judge(t) for t in texts] == [full.judge(t) for t in texts]


def test_a_long_text_costs_its_length(detector: ProposDetector) -> None:
    """A page without a full stop (a web mention) is read in linear time: eight
    times the text costs about eight times as long, not sixty-four."""
    unit = 't\'es un cave pis un con pis un crisse de niaiseux "cave" la prof est enceinte '

    def cost(times: int) -> float:
        text = unit * times
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            detector.judge(text)
            best = min(best, time.perf_counter() - started)
        return best

    assert cost(1600) / cost(200) < 24


def test_severities() -> None:
    assert SEVERITY == {
        ProposCategory.INSULTE: 1,
        ProposCategory.DIFFAMATION: 2,
        ProposCategory.VIE_PRIVEE: 2,
        ProposCategory.HAINE: 2,
        ProposCategory.MENACE: 3,
    }
    assert {c.value for c in ProposCategory} == {
        "insulte",
        "diffamation",
        "menace",
        "haine",
        "vie_privee",
    }


def test_the_highest_category_wins(detector: ProposDetector) -> None:
    verdict = detector.judge("Espèce de cave, je vais te casser la gueule.")
    assert verdict.category == ProposCategory.MENACE
    assert verdict.severity == 3
    assert verdict.reason is not None and verdict.reason.startswith("menace : ")


def test_verdict_of_nothing(detector: ProposDetector) -> None:
    assert detector.judge("") == ProposVerdict(None, 0, (), None)
    assert detector.judge("Bonne session à tous!") == ProposVerdict(None, 0, (), None)
    sacre = detector.judge("Tabarnak que c'est beau")
    assert (sacre.category, sacre.severity, sacre.words, sacre.reason) == (None, 0, (), None)
    assert sacre.notes == ("sacre sans cible, non signalé : « Tabarnak »",)


def test_reason_and_words_as_written(detector: ProposDetector) -> None:
    verdict = detector.judge("T'es juste un crisse de CAAAAVE")
    assert verdict.words == ("CAAAAVE",)
    assert verdict.reason == "insulte visant une personne : « CAAAAVE »"


def test_unknown_extra_category_is_refused() -> None:
    with pytest.raises(ValueError, match="catégorie inconnue « insultes »"):
        ProposDetector.from_config(extra_words={"insultes": ["gnagnan"]})


def test_a_broken_extra_pattern_is_refused() -> None:
    with pytest.raises(ValueError, match="liste inconnue"):
        ProposDetector.from_config(extra_words={"menace": ["{armes_blanches} dans le sac"]})


def test_public_phones_compare_digits_only() -> None:
    detector = ProposDetector.from_config(public_contacts=["+1 (819) 478-4671"])
    assert detector.judge("Appelez au 819.478.4671").category is None
    assert detector.judge("Appelez Julie au 819.478.4672").category == ProposCategory.VIE_PRIVEE


# -- the command ------------------------------------------------------------------

CONFIG = """\
brand:
  name: Cégep de Drummondville
sources:
  - {name: Exemple, type: feed, url: "http://127.0.0.1:9/feed.xml"}
digest:
  to: [communications@cegep.example]
  from: veille@cegep.example
propos:
  alert_at: 2
  extra_words: {insulte: [gnagnan]}
  public_contacts: ["819 478-4671"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def _run(config: Path, text: str | None = None, file: Path | None = None) -> None:
    args = argparse.Namespace(config=str(config), text=text, file=str(file) if file else None)
    assert cmd_propos(args) == 0


def test_command_explains_a_verdict(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _run(config, "Le cell de Julie Roy : 819 555-0101")
    out = capsys.readouterr().out
    assert out == (
        "Propos à signaler : vie_privee, gravité 2.\n"
        "  Mots : « 819 555-0101 »\n"
        "  Raison : renseignement privé (numéro de téléphone) : « 819 555-0101 »\n"
    )
    _run(config, "t'es un gnagnan")
    out = capsys.readouterr().out
    assert out.startswith("Propos repéré, sous le seuil d'alerte (propos.alert_at : 2) : insulte")
    _run(config, "Appelez-nous au 819 478-4671, crisse que c'est simple")
    assert capsys.readouterr().out == (
        "Rien à signaler.\n  Note : sacre sans cible, non signalé : « crisse »\n"
    )


def test_command_reads_a_jsonl_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "comments.jsonl"
    rows = [
        {"id": 1, "text": "Je vais te casser les deux jambes."},
        {"id": "b", "text": "espèce de cave"},
        {"id": 3, "text": "Bonne session!"},
    ]
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n")
    _run(config, file=source)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["id"] == 1 and lines[0]["alert"] and lines[0]["label"] == "menace"
    assert lines[0]["severity"] == 3 and lines[0]["words"]
    assert lines[1] == {
        "id": "b",
        "alert": False,  # alert_at: 2 in config.yaml, an insult is 1
        "label": "insulte",
        "severity": 1,
        "words": ["cave"],
    }
    assert lines[2] == {"id": 3, "alert": False, "label": None, "severity": 0, "words": []}


def test_command_through_the_cli(veille: Any) -> None:
    veille.workspace.write([{"name": "Exemple", "type": "feed", "url": "http://127.0.0.1:9/f"}])
    said = veille("propos", "gang de caves")
    assert said.code == 0, said.err
    assert said.out.startswith("Propos à signaler : insulte, gravité 1.")
    both = veille("propos")
    assert both.code == 2
    assert "donnez soit un TEXTE, soit --file F.jsonl" in both.err
    bad = veille.workspace.path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    refused = veille("propos", "--file", str(bad))
    assert refused.code == 2
    assert "ligne 1 : objet JSON avec « id » et « text » attendu" in refused.err


def test_a_malformed_extra_pattern_is_one_french_line(veille: Any) -> None:
    veille.workspace.write(
        [{"name": "Exemple", "type": "feed", "url": "http://127.0.0.1:9/f"}],
        extra='propos:\n  extra_words: {menace: ["{armes_blanches} dans le sac"]}',
    )
    said = veille("propos", "un couteau dans le sac")
    assert said.code == 2
    (line,) = said.err.strip().splitlines()
    assert line.endswith(
        "config.yaml: propos.extra_words : motif « {armes_blanches} dans le sac » : "
        "liste inconnue {armes_blanches}"
    )
