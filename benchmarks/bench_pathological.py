"""Matcher time on hostile texts: does it stay linear in the text's length?

Run: ``.venv/bin/python benchmarks/bench_pathological.py [--kb 1000] [--explain]``

Each input below is a short piece repeated up to the size asked (1 MB by
default): "cegep" without spaces, the name repeated, soft hyphens between its
letters… For each, it prints the seconds and MB/s of ``BrandMatcher.match``
(``--explain``: also of ``explain``, which ``veille match`` uses), beside
ordinary French text timed in the same process (bench_matcher's generated
corpus, as documents of about 2 kB and as one text of the same size), and the
ratio of the MB/s (hostile / ordinary documents).

To see how time grows, give several sizes (``--kb 20,40,80``); ``--limit S``
skips the larger sizes of an input once one took more than S seconds.
``--matchers DIR`` times the ``matchers`` package found in DIR instead of this
checkout's, e.g. the one before a change::

    git archive <commit> matchers | tar -x -C /tmp/before
    .venv/bin/python benchmarks/bench_pathological.py --matchers /tmp/before --kb 20,40,80

Figures are wall-clock seconds (the best of ``--rounds``), with the CPU seconds
of the process beside them: on a busy machine the two part.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

SHY, ZWSP = "\u00ad", "\u200b"  # soft hyphen, zero-width space: both fold to nothing

# name -> (head, piece, tail): the text is head + piece * n + tail
INPUTS: dict[str, tuple[str, str, str]] = {
    "cegep-run": ("", "cegep", ""),  # no space at all
    "name": ("", "Cégep de Drummondville ", ""),  # one mention every 23 characters
    "drummondville-run": ("", "drummondville", ""),
    "drumm-run": ("", "drumm", ""),
    "cegep-words": ("", "Cégep ", ""),
    "drummondville-words": ("", "Drummondville ", ""),
    "cut-name": ("", "Cé-\ngep de Drum-\nmondville ", ""),  # words cut at line ends
    "hidden-letters": ("", SHY.join("Cégep") + " de " + ZWSP.join("Drummondville") + " ", ""),
    "invisible-run": ("Cégep de Drum", SHY + ZWSP, "mondville"),  # one mention, 1 MB long
    "kind-then-place": ("", "cégep de ", "Drummondville"),
    "no-anchor": ("", "Le conseil municipal a adopté le budget annuel. ", ""),
    "fullwidth-name": ("", "ＣＥＧＥＰ ＤＥ ＤＲＵＭＭＯＮＤＶＩＬＬＥ ", ""),
    "hashtag-run": ("", "#cegepdrummond", ""),
    "excluded": ("", "Voltigeurs de Drummondville Cégep ", ""),  # every mention cancelled
    "coordination": ("", "cégeps de Granby, ", "et de Drummondville"),
    "cut-then-spaces": ("Cégep de Drum-\n", " ", ", mondville"),  # one huge separator
}


def hostile(name: str, size: int) -> str:
    """Input ``name`` of about ``size`` bytes (UTF-8), never fewer than one piece."""
    head, piece, tail = INPUTS[name]
    fixed = len((head + tail).encode())
    return head + piece * max(1, (size - fixed) // len(piece.encode())) + tail


def best_time(call: Callable[[], T], rounds: int) -> tuple[T, float, float]:
    """What ``call`` returns, and its best wall-clock and CPU seconds over ``rounds`` runs."""
    wall = cpu = float("inf")
    for _ in range(max(1, rounds)):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = call()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return result, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default="1000", help="sizes in kB, comma-separated")
    parser.add_argument("--only", default="", help="inputs to time, comma-separated")
    parser.add_argument("--explain", action="store_true", help="time explain() too")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure (best kept)")
    parser.add_argument(
        "--limit", type=float, default=60.0, help="skip larger sizes after this many seconds"
    )
    parser.add_argument("--matchers", help="directory holding the matchers package to time")
    args = parser.parse_args()
    sizes = [int(float(kb) * 1000) for kb in args.kb.split(",")]
    names = args.only.split(",") if args.only else list(INPUTS)

    # The matchers package first (from --matchers if given): bench_matcher and
    # veille then find it already imported.
    sys.path.insert(0, str(ROOT))
    if args.matchers:
        sys.path.insert(0, str(Path(args.matchers).resolve()))
    import matchers
    from matchers.base import MatchResult

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_matcher import build_corpus

    from collectors import options_models
    from veille.config import load_config

    config = load_config(ROOT / "config.yaml", source_types=options_models())
    matcher = matchers.BrandMatcher.from_brand(config.brand)
    print(f"matchers: {Path(matchers.__file__).parent}")

    documents, _ = build_corpus(2.0)
    corpus_mb = sum(len(d.encode()) for d in documents) / 1e6

    def ordinary(method: str) -> float:
        """MB/s of ``method`` on the corpus documents."""
        run: Callable[[str], MatchResult] = getattr(matcher, method)

        def every_document() -> list[MatchResult]:
            return [run(document) for document in documents]

        _, wall, _ = best_time(every_document, args.rounds)
        return corpus_mb / wall

    for document in documents[:300]:  # warm-up: caches, CPU clock
        matcher.match(document)
    methods = ["match", "explain"] if args.explain else ["match"]
    reference = {method: ordinary(method) for method in methods}
    print(
        f"ordinary French documents ({len(documents)}, {corpus_mb:.1f} MB): "
        + ", ".join(f"{method} {mbps:.1f} MB/s" for method, mbps in reference.items())
    )
    header = f"{'input':22} {'kB':>6}"
    for method in methods:
        header += f" | {method + ' s':>9} {'cpu s':>7} {'MB/s':>8} {'ratio':>8} {'spans':>6}"
    print("\n" + header)

    joined = " ".join(documents)
    for name in ["ordinary, one text", *names]:
        for size in sizes:
            text = joined[:size] if name not in INPUTS else hostile(name, size)
            mb = len(text.encode()) / 1e6
            line = f"{name:22} {mb * 1000:6.0f}"
            slowest = 0.0
            for method in methods:
                run: Callable[[str], MatchResult] = getattr(matcher, method)
                result, wall, cpu = best_time(partial(run, text), args.rounds)
                slowest = max(slowest, wall)
                ratio = mb / wall / reference[method]
                spans = len(result.spans)
                line += f" | {wall:9.3f} {cpu:7.3f} {mb / wall:8.2f} {ratio:8.4f} {spans:6d}"
            print(line, flush=True)
            if slowest > args.limit:
                print(f"{'':22} (larger sizes skipped: over {args.limit:.0f} s)")
                break


if __name__ == "__main__":
    main()
