"""A big store against an empty one: cycle time, digest rendering, peak memory.

Run: ``.venv/bin/python benchmarks/bench_store.py [--items 1000000] [--mentions 20000]
[--sources 200] [--runs 3]``

One store holds 500 mentions only (the baseline); the other 1,000,000 items and
20,000 mentions seen over the last 180 days (``storage.keep_items``), as a busy
installation keeps them: realistic links, titles and title keys, and a text
for the items of the last 90 days (``storage.keep_text``). On both, in turn,
``run_once`` visits ``sources`` realistic feeds (``corpus_feeds.py``, served by
another process without added latency) whose items are all new: each run draws
another round of the corpus. Medians of ``runs``; then the time to render a
digest of 500 mentions, the peak memory, and the store's size.

Targets (issue 13): a cycle on the filled store ≤ 1.3× the same cycle on the
empty one; peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus_feeds import WORDS, FeedServer, write_config  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from storage.db import open_database  # noqa: E402
from storage.models import ItemRow, MentionRow  # noqa: E402
from storage.store import TITLE_WINDOW, MentionStore  # noqa: E402
from veille.app import build_app, read_config  # noqa: E402
from veille.digest import build_digest  # noqa: E402

KEEP_ITEMS = timedelta(days=180)
KEEP_TEXT = timedelta(days=90)


def fill(url: str, items: int, mentions: int) -> None:
    """``items`` items seen over the last 180 days, in the order they were seen (ids
    grow with time, as the pipeline stores them); one in ``items // mentions`` is a
    mention. Title keys as the version measured leaves them: on the last 72 hours'
    items where the store forgets them after (prune_title_keys), else on every item
    (as digests where it keeps digests: migration 0010); urls and guids kept once
    where it keeps them once (migration 0011);
    texts as it writes them: packed where it packs them (migration 0009)."""
    keeps_all_title_keys = not hasattr(MentionStore, "prune_title_keys")
    packs = hasattr(ItemRow, "packed_text")
    packing = importlib.import_module("storage.packing") if packs else None
    if packs:
        from storage.packing import pack_text

    def as_given(value: str | None, key: str) -> str | None:
        return value

    # kept once since migration 0011, title keys as digests since migration 0010
    keep_url = getattr(packing, "pack_url", as_given)
    keep_guid = getattr(packing, "pack_guid", as_given)
    title_column = "title_hash" if hasattr(ItemRow, "title_hash") else "title_key"
    title_value: Callable[[str], object] = getattr(packing, "title_hash", str)
    factory = open_database(url)
    store = MentionStore(factory)
    store.sync_sources([(f"Ancienne source {n}", "feed") for n in range(100)])
    now = datetime.now(UTC)
    rng = random.Random(13)
    sentences = [" ".join(rng.choices(WORDS, k=rng.randint(8, 20))) + "." for _ in range(5000)]
    step = KEEP_ITEMS * 0.98 / max(1, items)
    chunk = 20_000
    for first in range(0, items, chunk):
        rows = []
        for i in range(first, min(items, first + chunk)):
            seen = now - step * (items - i)
            source = i % 100
            heading = " ".join(rng.choices(WORDS, k=rng.randint(6, 16)))
            link = f"https://ancien{source}.test/2025/{i}/{heading[:30].replace(' ', '-')}/"
            text = (
                " ".join(rng.choices(sentences, k=rng.randint(3, 10)))
                if now - seen < KEEP_TEXT
                else None
            )
            rows.append(
                {
                    "key": link,
                    "source": f"Ancienne source {source}",
                    "url": keep_url(link, link),
                    "guid": keep_guid(
                        link if i % 2 else f"https://ancien{source}.test/?p={i}", link
                    ),
                    "title": heading.capitalize(),
                    **(
                        {"packed_text": pack_text(text) if text is not None else None}
                        if packs
                        else {"text": text}
                    ),
                    "published_at": seen - timedelta(minutes=30),
                    "seen_at": seen,
                    title_column: title_value(heading)
                    if len(heading) >= 20 and (keeps_all_title_keys or now - seen < TITLE_WINDOW)
                    else None,
                    "outlet": f"Journal {source}",
                }
            )
        with factory.begin() as session:
            session.execute(insert(ItemRow), rows)
    with factory.begin() as session:
        session.execute(
            insert(MentionRow),
            [
                {
                    "item_id": i + 1,
                    "source": f"Ancienne source {i % 100}",
                    "source_type": "feed",
                    "url": f"https://ancien{i % 100}.test/{i}",
                    "title": f"Article {i}",
                    "published_at": None,
                    "found_at": now - step * (items - i),
                    "matched": "Cégep de Drummondville",
                    "rule": "nom",
                    "score": 100,
                    "snippet": f"au Cégep de Drummondville, article {i}",
                    "highlight_start": 3,
                    "highlight_end": 25,
                    "status": "nouveau",
                    "urgent": False,
                    "digest_id": None,
                }
                for i in range(0, items, max(1, items // max(1, mentions)))[:mentions]
            ],
        )


def cycle(folder: Path, server: FeedServer, sources: int, round_: int) -> float:
    """One ``run_once`` over ``sources`` feeds of corpus round ``round_`` (all new)."""
    config = read_config(
        write_config(
            folder,
            lambda n: server.url(n, round_),
            sources,
            8,
        )
    )
    app = build_app(config)
    started = time.perf_counter()
    report = app.run(force_all=True)
    took = time.perf_counter() - started
    assert not report.failed_sources, report.failed_sources[:3]
    assert sum(o.new_items for o in report.outcomes) > sources * 20
    return took


def digest_time(folder: Path) -> float:
    """Rendering a digest of 500 mentions (the templates already compiled)."""
    config = read_config(folder / "config.yaml")
    app = build_app(config)
    mentions = app.store.mentions()[:500]
    took = []
    for _ in range(2):
        started = time.perf_counter()
        build_digest(
            mentions,
            brand=config.brand.name,
            day=datetime.now(UTC).date(),
            now=datetime.now(UTC),
            zone=config.digest.zone,
            sources=list(app.store.sources().values()),
            total_mentions=len(mentions),
        )
        took.append(time.perf_counter() - started)
    return took[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    rounds = tuple(range(1, args.runs + 1))
    server = FeedServer(0.0, args.sources, prepare=rounds)
    empty_runs, full_runs = [], []
    try:
        with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as full:
            fill(f"sqlite:///{empty}/veille.db", 500, 500)  # 500 mentions to render
            started = time.perf_counter()
            fill(f"sqlite:///{full}/veille.db", args.items, args.mentions)
            size = (Path(full) / "veille.db").stat().st_size
            print(
                f"filled: {args.items:,} items, {args.mentions:,} mentions in "
                f"{time.perf_counter() - started:.0f} s ({size / 1e6:.0f} MB)"
            )
            for round_ in rounds:
                empty_runs.append(cycle(Path(empty), server, args.sources, round_))
                full_runs.append(cycle(Path(full), server, args.sources, round_))
            base_digest = digest_time(Path(empty))
            full_digest = digest_time(Path(full))
    finally:
        server.shutdown()
    base_cycle, full_cycle = statistics.median(empty_runs), statistics.median(full_runs)
    print(
        f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} (2 cores shared)"
    )
    print(f"{'':34}{'empty store':>14}{'filled store':>14}{'ratio':>8}")
    print(
        f"{f'run, {args.sources} new feeds (median of {args.runs})':34}"
        f"{base_cycle:13.2f}s{full_cycle:13.2f}s{full_cycle / base_cycle:8.2f}  (target <= 1.3)"
    )
    print(f"{'  each run, empty store':34}{' '.join(f'{t:.2f}' for t in empty_runs)}")
    print(f"{'  each run, filled store':34}{' '.join(f'{t:.2f}' for t in full_runs)}")
    print(
        f"{'digest of 500 mentions':34}{base_digest:13.3f}s{full_digest:13.3f}s"
        f"{full_digest / base_digest:8.2f}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    main()
