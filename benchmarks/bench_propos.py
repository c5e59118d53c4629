"""Propos detector throughput, against a naive keyword scan, in the same run.

Run: ``.venv/bin/python benchmarks/bench_propos.py [--comments 20000] [--rounds 3]``

The comments are those of the development corpus (tests/data/propos-dev.jsonl),
repeated until there are ``--comments`` of them. On the same comments, in one
process, it reports comments per second for:

- **veille**: ``ProposDetector.judge`` built from the shipped word lists;
- **naive**: fold each comment once, then one ``in`` test per word of every
  list (insults, slurs, threats, accusations, health) and a phone regex — what
  a first attempt without rules would do.

Both run interleaved ``--rounds`` times; figures are medians. It also prints
each one's precision and recall of ``alert`` on the corpus, so the speed is
read beside what it buys.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matchers.normalize import fold_plain  # noqa: E402
from matchers.propos import ProposDetector, shipped_word_lists  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "propos-dev.jsonl"
NAIVE_LISTS = (
    "noms",
    "adjectifs",
    "injures",
    "blesser",
    "armes",
    "accusation_noms",
    "sante",
)
PHONE = re.compile(r"\d{3}[\s.\-]?\d{3}[\s.\-]?\d{4}")


def naive_judge() -> Callable[[str], bool]:
    words = sorted(
        {fold_plain(w) for name in NAIVE_LISTS for w in shipped_word_lists().get(name, ())}
    )

    def judge(text: str) -> bool:
        folded = fold_plain(text)
        return any(w in folded for w in words) or PHONE.search(folded) is not None

    return judge


def quality(judge: Callable[[str], bool], rows: Sequence[dict[str, object]]) -> str:
    tp = fp = fn = 0
    for row in rows:
        alert = judge(str(row["text"]))
        tp += alert and bool(row["alert"])
        fp += alert and not row["alert"]
        fn += not alert and bool(row["alert"])
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return f"précision {precision:.3f}, rappel {recall:.3f}"


def timed(judge: Callable[[str], object], texts: Sequence[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        judge(text)
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    texts = [str(rows[i % len(rows)]["text"]) for i in range(options.comments)]
    started = time.perf_counter()
    detector = ProposDetector.from_config(public_contacts=["819 478-4671"])
    built = time.perf_counter() - started
    naive = naive_judge()

    def veille(text: str) -> bool:
        return detector.judge(text).category is not None

    speeds: dict[str, list[float]] = {"veille": [], "naive": []}
    for _ in range(options.rounds):
        speeds["veille"].append(timed(detector.judge, texts))
        speeds["naive"].append(timed(naive, texts))
    mean_length = statistics.mean(len(t) for t in texts)
    print(
        f"{len(texts)} commentaires ({mean_length:.0f} caractères en moyenne), "
        f"{options.rounds} tours, médianes ; détecteur construit en {built * 1000:.0f} ms"
    )
    for name, judge in (("veille", veille), ("naive", naive)):
        rate = statistics.median(speeds[name])
        print(f"  {name:<7} {rate:>9,.0f} commentaires/s   {quality(judge, rows)}")
    ratio = statistics.median(speeds["veille"]) / statistics.median(speeds["naive"])
    print(f"  veille / naive : {ratio:.2f}")


if __name__ == "__main__":
    main()
