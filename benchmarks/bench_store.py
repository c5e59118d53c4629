"""A big store against an empty one: cycle time, digest rendering, peak memory.

Run: ``.venv/bin/python benchmarks/bench_store.py [--items 1000000] [--mentions 20000]``

In one process, for an store holding only 500 mentions (the baseline) and for one filled with
1,000,000 seen items and 20,000 mentions (about a year of a busy installation),
it reports the time of one ``run_once`` over 200 feed sources served locally,
and the time to render a digest of 500 mentions; then the peak memory.
Targets: the filled store under 2× the empty one, peak memory under 300 MB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_collect import serve, write_config  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from storage.db import open_database  # noqa: E402
from storage.models import ItemRow, MentionRow  # noqa: E402
from storage.store import MentionStore  # noqa: E402
from veille.app import build_app, read_config  # noqa: E402
from veille.digest import build_digest  # noqa: E402


def fill(url: str, items: int, mentions: int) -> None:
    factory = open_database(url)
    store = MentionStore(factory)
    store.sync_sources([("Ancienne source", "feed")])
    now = datetime.now(UTC)
    chunk = 50_000
    for first in range(0, items, chunk):
        rows = []
        for i in range(first, min(items, first + chunk)):
            seen = now - timedelta(minutes=i // 3)  # about a year back
            rows.append(
                {
                    "key": f"https://ancien.test/{i}",
                    "source": "Ancienne source",
                    "url": f"https://ancien.test/{i}",
                    "guid": None,
                    "title": f"Article {i}",
                    "text": f"Texte de l'article {i}." if i < 100_000 else None,
                    "published_at": None,
                    "seen_at": seen,
                    "title_key": f"article numero {i:07d} de l ancienne source",
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
                    "source": "Ancienne source",
                    "source_type": "feed",
                    "url": f"https://ancien.test/{i}",
                    "title": f"Article {i}",
                    "published_at": None,
                    "found_at": now - timedelta(minutes=i),
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
                for i in range(mentions)
            ],
        )


def measure(folder: Path, base: str, sources: int) -> tuple[float, float]:
    config = read_config(write_config(folder, base, sources, 8))
    app = build_app(config)
    store = app.store
    started = time.perf_counter()
    report = app.run(force_all=True)
    cycle = time.perf_counter() - started
    assert not report.failed_sources
    mentions = store.mentions()[:500]
    started = time.perf_counter()
    build_digest(
        mentions,
        brand=config.brand.name,
        day=datetime.now(UTC).date(),
        now=datetime.now(UTC),
        zone=config.digest.zone,
        sources=list(store.sources().values()),
        total_mentions=len(mentions),
    )
    return cycle, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--mentions", type=int, default=20_000)
    parser.add_argument("--sources", type=int, default=200)
    args = parser.parse_args()
    server = serve(0.0, args.sources)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as full:
            fill(f"sqlite:///{empty}/veille.db", 500, 500)  # 500 mentions to render
            started = time.perf_counter()
            fill(f"sqlite:///{full}/veille.db", args.items, args.mentions)
            print(
                f"filled: {args.items:,} items, {args.mentions:,} mentions in "
                f"{time.perf_counter() - started:.0f} s "
                f"({(Path(full) / 'veille.db').stat().st_size / 1e6:.0f} MB)"
            )
            base_cycle, base_digest = measure(Path(empty), base, args.sources)
            full_cycle, full_digest = measure(Path(full), base, args.sources)
    finally:
        server.shutdown()
    print(f"{'':28}{'empty store':>14}{'filled store':>14}{'ratio':>8}")
    print(
        f"{'run, 200 feed sources':28}{base_cycle:13.2f}s{full_cycle:13.2f}s"
        f"{full_cycle / base_cycle:8.2f}  (target < 2)"
    )
    print(
        f"{'digest of 500 mentions':28}{base_digest:13.3f}s{full_digest:13.3f}s"
        f"{full_digest / base_digest:8.2f}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB (target < 300 MB)")


if __name__ == "__main__":
    main()
