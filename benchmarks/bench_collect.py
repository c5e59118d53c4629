"""A collection cycle of 1,000 realistic feeds beside the httpx + feedparser floor.

Run: ``.venv/bin/python benchmarks/bench_collect.py [--sources 1000] [--items 30]
[--latency 0.1] [--concurrency 8] [--runs 3] [--record]``

A local server (another process, see ``corpus_feeds.py``) serves each source a
realistic news feed with an ETag, ``latency`` seconds late. Each measured run
is a fresh process (its peak memory is its own), and the runs are interleaved
so that the load of the machine weighs on all of them alike. Medians of
``runs``:

- **floor**: the least a program can do for the same work — httpx with the
  same concurrency fetches every feed and ``feedparser.parse`` reads it (its
  defaults: sanitised HTML, relative URIs resolved); a second pass sends the
  ETags back (all 304). **lean floor**: the same with
  ``sanitize_html=False, resolve_relative_uris=False``;
- **veille**: ``run_once`` with ``--all`` on a new SQLite store, then again
  (all 304); CPU (user + system) and wall time of each cycle, peak memory
  (max RSS) of the process, CPU per item by stage (each stage's own thread
  time), and the size of the store per 100,000 items;
- **nothing lost**: the items, mentions, sightings (« aussi vu sur ») and
  source counters the cycle stored, compared with those the pre-change
  pipeline stored from the same corpus (``benchmarks/reference/``, written
  by ``--record``).

Targets (issue 13): first cycle CPU and wall ≤ 1.3× the floor, unchanged cycle
≤ 1.1×, peak memory ≤ 150 MB, nothing lost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus_feeds import FeedServer, feed_path, write_config  # noqa: E402

REFERENCE = ROOT / "benchmarks" / "reference"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the floor ---------------------------------------------------------------------


def floor_child(base: str, count: int, concurrency: int, lean: bool, out: Any) -> None:
    import asyncio

    import feedparser
    import httpx

    options = {"sanitize_html": False, "resolve_relative_uris": False} if lean else {}
    etags: dict[int, str] = {}

    async def cycle() -> int:
        entries = 0
        async with httpx.AsyncClient(timeout=60) as client:
            slots = asyncio.Semaphore(concurrency)

            async def one(number: int) -> None:
                nonlocal entries
                headers = {"If-None-Match": etags[number]} if number in etags else {}
                async with slots:
                    response = await client.get(base + feed_path(number), headers=headers)
                if response.status_code == 304:
                    return
                response.raise_for_status()
                parsed = feedparser.parse(
                    response.content,
                    response_headers={
                        "content-type": response.headers.get("content-type", ""),
                        "content-location": str(response.url),
                    },
                    **options,
                )
                entries += len(parsed.entries)
                etags[number] = response.headers["etag"]

            await asyncio.gather(*(one(n) for n in range(count)))
        return entries

    cycles = []
    for _ in range(2):
        cpu, wall = _cpu(), time.perf_counter()
        entries = asyncio.run(cycle())
        cycles.append({"cpu": _cpu() - cpu, "wall": time.perf_counter() - wall, "entries": entries})
    out.send({"cycles": cycles, "peak_mb": _peak_mb(), "stages": {}})


# --- veille ------------------------------------------------------------------------

STAGES: dict[str, float] = {}


def _timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            STAGES[stage] = STAGES.get(stage, 0.0) + time.thread_time() - started

    return timed


def instrument() -> list[tuple[str, str]]:
    """Wrap the functions of each stage to add up their thread CPU time. Returns
    (stage, what it covers) in pipeline order; a stage nests none of the others
    except where its description says so."""
    import feedparser

    import collectors.feed as feed
    import storage.store as store
    import veille.pipeline as pipeline

    feedparser.parse = _timed("parse", feedparser.parse)
    feed.feed_items = _timed("entries", feed.feed_items)
    feed.html_to_text = _timed("html", feed.html_to_text)
    pipeline.clean_item = _timed("clean", pipeline.clean_item)
    pipeline.ItemMatcher.new_item = _timed("match", pipeline.ItemMatcher.new_item)
    for name in ("known_keys", "save_batch"):
        setattr(store.MentionStore, name, _timed("store", getattr(store.MentionStore, name)))
    return [
        ("parse", "feedparser.parse"),
        ("entries", "entries → items (without HTML → text)"),
        ("html", "HTML → text"),
        ("clean", "intake: clean and key"),
        ("match", "matching, title keys"),
        ("store", "known keys, save_batch"),
    ]


def veille_child(base: str, count: int, concurrency: int, folder: str, out: Any) -> None:
    instrument()
    from veille.app import build_app, read_config

    config = read_config(
        write_config(Path(folder), lambda n: base + feed_path(n), count, concurrency)
    )
    app = build_app(config)
    cycles = []
    for _ in range(2):
        STAGES.clear()
        cpu, wall = _cpu(), time.perf_counter()
        report = app.run(force_all=True)
        cycle = {"cpu": _cpu() - cpu, "wall": time.perf_counter() - wall}
        assert not report.failed_sources, report.failed_sources[:3]
        cycle["entries"] = sum(o.items for o in report.outcomes)
        cycle["stages"] = dict(STAGES)
        cycles.append(cycle)
    peak = _peak_mb()
    database = Path(folder) / "veille.db"
    found = {"store": store_size(database), "results": results(database)}
    # retention as time passes: title keys after 72 hours (where the store does it), then
    # texts after keep_text; the bytes still in use (the file keeps its free pages)
    later = {}
    future = datetime.now(UTC) + timedelta(days=365)
    prune_title_keys = getattr(app.store, "prune_title_keys", None)
    if prune_title_keys is not None:
        prune_title_keys(before=future)
        later["title keys forgotten (72 h)"] = used_bytes(database)
    app.store.prune_text(before=future)
    later["texts forgotten too (keep_text)"] = used_bytes(database)
    out.send({"cycles": cycles, "peak_mb": peak, "later": later, **found})


def used_bytes(database: Path) -> int:
    """Bytes of the store's pages in use (dbstat: page sizes less their unused bytes)."""
    with sqlite3.connect(database) as connection:
        connection.execute("pragma wal_checkpoint(truncate)")
        return int(connection.execute("select sum(pgsize - unused) from dbstat").fetchone()[0])


def _text_column(connection: sqlite3.Connection) -> str:
    """The items' text as stored: packed where the store packs it (migration 0009),
    plain in the rows of before."""
    return "coalesce(i.packed_text, i.text)" if "packed_text" in _columns(connection) else "i.text"


def _columns(connection: sqlite3.Connection) -> set[str]:
    return {row[1] for row in connection.execute("pragma table_info(items)")}


def _revision(connection: sqlite3.Connection) -> int:
    """The store's migration (0011: urls kept once, storage.packing.pack_url)."""
    return int(connection.execute("select version_num from alembic_version").fetchone()[0])


def _title_column(connection: sqlite3.Connection) -> str:
    """Where the items' title keys are: their digests since migration 0010."""
    return "title_hash" if "title_hash" in _columns(connection) else "title_key"


def _title_keys(connection: sqlite3.Connection) -> Iterable[tuple[str, str, str | None]]:
    """(source, key, title key) of every item, the keys made again from the titles
    where the store keeps their digests (migration 0010), and each checked against
    its digest: as the store before kept them when every digest is right."""
    from storage.packing import title_hash
    from veille.pipeline import title_key

    rows = connection.execute(
        "select source, key, title, outlet, title_hash from items order by 1, 2"
    )
    for source, key, title, outlet, digest in rows:
        made = None if digest is None else title_key(title, outlet)
        right = made is None or title_hash(made) == digest
        yield source, key, made if right else f"digest {digest} is not that of {made!r}"


def store_size(database: Path) -> dict[str, Any]:
    """The store's bytes (after a WAL checkpoint), and by table and index (dbstat)."""
    with sqlite3.connect(database) as connection:
        connection.execute("pragma wal_checkpoint(truncate)")
        text = _text_column(connection)
        items = connection.execute("select count(*) from items").fetchone()[0]
        parts = dict(
            connection.execute(
                "select name, sum(pgsize) from dbstat group by name order by 2 desc"
            ).fetchall()
        )
        # what the items' columns hold (bytes of values, before SQLite's page overhead)
        size = "sum(length(cast({} as blob)))"
        held = connection.execute(
            "select "
            + ", ".join(
                (
                    size.format(f"case when m.id is null then {text} end"),
                    size.format(f"case when m.id is not null then {text} end"),
                    size.format("i.title")
                    + " + "
                    + (
                        "8 * count(i.title_hash)"  # an integer: 8 bytes (its text is longer)
                        if _title_column(connection) == "title_hash"
                        else size.format("i.title_key")
                    ),
                    " + ".join(size.format(f"i.{c}") for c in ("key", "url", "guid")),
                )
            )
            + " from items i left join mentions m on m.item_id = i.id"
        ).fetchone()
    columns = dict(
        zip(
            ("text, no mention", "text, mentions", "title and title key", "key, url, guid"),
            (value or 0 for value in held),
            strict=True,
        )
    )
    return {
        "bytes": database.stat().st_size,
        "used": used_bytes(database),
        "items": items,
        "parts": parts,
        "columns": columns,
    }


# --- nothing lost ------------------------------------------------------------------

ITEM_COLUMNS = (
    "key",
    "url",
    "guid",
    "title",
    "text",
    "published_at",
    "title_key",
    "outlet",
    "author",
    "reply_to",
)
MENTION_COLUMNS = (
    "source",
    "source_type",
    "url",
    "title",
    "published_at",
    "matched",
    "rule",
    "score",
    "snippet",
    "highlight_start",
    "highlight_end",
    "status",
    "urgent",
    "urgent_keyword",
    "outlet",
    "author",
    "reply_to",
    "propos",
    "propos_severity",
    "propos_words",
    "propos_reason",
)
SOURCE_COLUMNS = (
    "name",
    "items_seen",
    "mentions_found",
    "items_rejected",
    "last_rejection",
    "last_warning",
    "consecutive_failures",
    "last_new_item_at is not null",
    "etag is not null",
)


def _digest(rows: Iterable[Any]) -> str:
    hashed = hashlib.sha256()
    for row in rows:
        hashed.update(json.dumps(row, ensure_ascii=False, default=str).encode())
    return hashed.hexdigest()[:16]


def _unpacked(name: str) -> Callable[[], Callable[[Any, str], Any]]:
    def load() -> Callable[[Any, str], Any]:
        import storage.packing

        return getattr(storage.packing, name)  # type: ignore[no-any-return]

    return load


def _time_text() -> Callable[[Any, str], Any]:
    """A time as SQLite kept it before migration 0012 (text), from its microseconds."""
    epoch = datetime(1970, 1, 1)

    def text(value: int | None, key: str) -> str | None:
        if value is None:
            return None
        return (epoch + timedelta(microseconds=value)).strftime("%Y-%m-%d %H:%M:%S.%f")

    return text


# item columns the store keeps otherwise since a migration: (migration, how to read
# them back as they were given), as a loader (the functions are the store's own)
_AS_GIVEN: dict[str, tuple[int, Callable[[], Callable[[Any, str], Any]]]] = {
    "url": (11, _unpacked("unpack_url")),
    "guid": (11, _unpacked("unpack_guid")),
    "published_at": (12, _time_text),
}


def results(database: Path) -> dict[str, Any]:
    """What the cycle stored, in a form that does not depend on ids or on the clock:
    per item column, a digest of (source, key, value) sorted; every mention in id
    order (the digest's order); every sighting; the sources' counters. The items'
    text, title key, url, guid and time are compared as the pipeline gave them, however
    the store keeps them (packed, digests, once, integers)."""
    with sqlite3.connect(database) as connection:
        found: dict[str, Any] = {}
        for column in ITEM_COLUMNS:
            if column == "text" and _text_column(connection) != "i.text":
                from storage.packing import item_text

                rows = (
                    (source, key, item_text(text, packed))
                    for source, key, text, packed in connection.execute(
                        "select source, key, text, packed_text from items order by 1, 2"
                    )
                )
            elif column == "title_key" and _title_column(connection) == "title_hash":
                rows = _title_keys(connection)
            elif column in _AS_GIVEN and _revision(connection) >= _AS_GIVEN[column][0]:
                given = _AS_GIVEN[column][1]()
                rows = (
                    (source, key, given(value, key))
                    for source, key, value in connection.execute(
                        f"select source, key, {column} from items order by 1, 2"
                    )
                )
            else:
                rows = connection.execute(f"select source, key, {column} from items order by 1, 2")
            found[f"items.{column}"] = _digest(rows)
        found["items"] = connection.execute("select count(*) from items").fetchone()[0]
        found["mentions"] = [  # (source, url, digest of every column) in the digest's order
            [row[0], row[2], _digest([row])]
            for row in connection.execute(
                f"select {', '.join(MENTION_COLUMNS)} from mentions order by id"
            )
        ]
        found["sightings"] = sorted(
            list(row)
            for row in connection.execute(
                "select m.url, m.source, s.source, s.url from sightings s "
                "join mentions m on m.id = s.mention_id"
            )
        )
        found["sources"] = _digest(
            connection.execute(f"select {', '.join(SOURCE_COLUMNS)} from sources order by name")
        )
    return found


def compare(found: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """What differs, in a few words per difference (empty: nothing lost)."""
    differences = []
    for name, value in expected.items():
        other = found.get(name)
        if other == value:
            continue
        if isinstance(value, list):
            missing = [row for row in value if row not in other]
            extra = [row for row in other if row not in value]
            differences.append(
                f"{name}: {len(value)} expected, {len(other)} found; "
                f"missing {missing[:2]}, extra {extra[:2]}"
                if missing or extra
                else f"{name}: same rows, another order"
            )
        else:
            differences.append(f"{name}: {other} instead of {value}")
    return differences


# --- the run -----------------------------------------------------------------------


def in_child(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=target, args=(*args, send))
    process.start()
    result = receive.recv()
    process.join()
    return dict(result)


def median(runs: list[dict[str, Any]], path: Callable[[dict[str, Any]], float]) -> float:
    return statistics.median(path(run) for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30, help="items per feed")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per answer")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-floor", action="store_true", help="veille only")
    parser.add_argument(
        "--record", action="store_true", help="write what veille stored as the reference"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    started = time.perf_counter()
    server = FeedServer(args.latency, args.sources, args.items)
    kinds: dict[str, list[dict[str, Any]]] = {"floor": [], "lean floor": [], "veille": []}
    try:
        for _ in range(args.runs):
            if not args.no_floor:
                kinds["floor"].append(
                    in_child(floor_child, server.base, args.sources, args.concurrency, False)
                )
                kinds["lean floor"].append(
                    in_child(floor_child, server.base, args.sources, args.concurrency, True)
                )
            with tempfile.TemporaryDirectory() as folder:
                kinds["veille"].append(
                    in_child(veille_child, server.base, args.sources, args.concurrency, folder)
                )
    finally:
        server.shutdown()
    report(args, kinds, load_before, time.perf_counter() - started)


def report(
    args: argparse.Namespace,
    kinds: dict[str, list[dict[str, Any]]],
    load_before: tuple[float, float, float],
    seconds: float,
) -> None:
    items = args.sources * args.items
    print(
        f"{args.sources} feeds × {args.items} items, {args.latency * 1000:.0f} ms added per "
        f"answer, concurrency {args.concurrency}; medians of {args.runs} "
        f"(ideal wall {args.sources * args.latency / args.concurrency:.1f} s)"
    )
    print(
        f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
        f"(2 cores shared); {seconds:.0f} s in all"
    )
    print()
    print(f"{'':12}{'cycle 1 CPU':>12}{'wall':>9}{'cycle 2 CPU':>13}{'wall':>9}{'peak MB':>9}")
    figures: dict[str, dict[str, float]] = {}
    for kind, runs in kinds.items():
        if not runs:
            continue
        figures[kind] = {
            "cpu1": median(runs, lambda r: r["cycles"][0]["cpu"]),
            "wall1": median(runs, lambda r: r["cycles"][0]["wall"]),
            "cpu2": median(runs, lambda r: r["cycles"][1]["cpu"]),
            "wall2": median(runs, lambda r: r["cycles"][1]["wall"]),
            "peak": median(runs, lambda r: r["peak_mb"]),
        }
        f = figures[kind]
        print(
            f"{kind:12}{f['cpu1']:11.2f}s{f['wall1']:8.2f}s{f['cpu2']:12.2f}s"
            f"{f['wall2']:8.2f}s{f['peak']:9.0f}"
        )
    veille = figures["veille"]
    for kind in ("floor", "lean floor"):
        if kind in figures:
            f = figures[kind]
            print(
                f"{'÷ ' + kind:12}{veille['cpu1'] / f['cpu1']:11.2f}x"
                f"{veille['wall1'] / f['wall1']:8.2f}x{veille['cpu2'] / f['cpu2']:12.2f}x"
                f"{veille['wall2'] / f['wall2']:8.2f}x"
            )
    print("targets: cycle 1 CPU and wall <= 1.3x the floor, cycle 2 <= 1.1x, peak <= 150 MB")
    print()
    runs = kinds["veille"]
    print(f"veille, cycle 1, CPU µs per item ({items:,} items) by stage:")
    stages = sorted({s for run in runs for s in run["cycles"][0]["stages"]})
    order = ["parse", "entries", "html", "clean", "match", "store"]
    stages = [s for s in order if s in stages] + [s for s in stages if s not in order]
    shown = 0.0
    for stage in stages:
        value = median(runs, lambda r, s=stage: r["cycles"][0]["stages"].get(s, 0.0))
        if stage == "entries":
            value -= median(runs, lambda r: r["cycles"][0]["stages"].get("html", 0.0))
        shown += value
        print(f"  {stage:10}{value * 1e6 / items:8.0f}")
    rest = veille["cpu1"] - shown
    print(f"  {'other':10}{rest * 1e6 / items:8.0f}   (HTTP, asyncio, the cycle's other steps)")
    print(f"  {'total':10}{veille['cpu1'] * 1e6 / items:8.0f}")
    for kind in ("floor", "lean floor"):
        if kind in figures:
            print(f"  {kind + ' total':10}{figures[kind]['cpu1'] * 1e6 / items:8.0f}")
    print()
    print(f"veille, cycle 2 (all 304), CPU µs per source ({args.sources:,} sources) by stage:")
    stored = median(runs, lambda r: r["cycles"][1]["stages"].get("store", 0.0))
    print(f"  {'store':10}{stored * 1e6 / args.sources:8.0f}")
    print(f"  {'other':10}{(veille['cpu2'] - stored) * 1e6 / args.sources:8.0f}   (HTTP, asyncio…)")
    print(f"  {'total':10}{veille['cpu2'] * 1e6 / args.sources:8.0f}")
    for kind in ("floor", "lean floor"):
        if kind in figures:
            print(f"  {kind + ' total':10}{figures[kind]['cpu2'] * 1e6 / args.sources:8.0f}")
    print()
    store = runs[-1]["store"]
    per = store["bytes"] * 100_000 / max(1, store["items"]) / 1e6
    print(
        f"store after cycle 1: {store['bytes'] / 1e6:.1f} MB for {store['items']:,} items, "
        f"{per:.1f} MB per 100,000 items"
    )
    parts = ", ".join(
        f"{name} {size * 100_000 / max(1, store['items']) / 1e6:.1f}"
        for name, size in store["parts"].items()
        if size * 100_000 / max(1, store["items"]) >= 0.5e6
    )
    print(f"  per 100,000 items (MB): {parts}")
    held = ", ".join(
        f"{name} {size * 100_000 / max(1, store['items']) / 1e6:.1f}"
        for name, size in store["columns"].items()
    )
    print(f"  of which values (MB per 100,000 items): {held}")
    per_item = 100_000 / max(1, store["items"]) / 1e6
    print(f"  pages in use: {store['used'] * per_item:.1f} MB per 100,000 items; later:")
    for when, used in runs[-1]["later"].items():
        print(f"    {when}: {used * per_item:.1f} MB per 100,000 items")
    print()
    found = runs[-1]["results"]
    reference = REFERENCE / f"collect-{args.sources}x{args.items}.json"
    same = all(run["results"] == found for run in runs)
    print(
        f"stored: {found['items']:,} items, {len(found['mentions'])} mentions, "
        f"{len(found['sightings'])} sightings (« aussi vu sur »)"
        + ("" if same else "; WARNING: the runs stored different things")
    )
    if args.record:
        REFERENCE.mkdir(exist_ok=True)
        reference.write_text(json.dumps(found, ensure_ascii=False, indent=0) + "\n")
        print(f"reference written: {reference.relative_to(ROOT)}")
    elif reference.exists():
        differences = compare(found, json.loads(reference.read_text()))
        print(
            "nothing lost: same items, mentions, sightings and counters as the reference"
            if not differences
            else "DIFFERENT from the reference:\n  " + "\n  ".join(differences)
        )
    else:
        print(f"no reference for this corpus ({reference.relative_to(ROOT)}): see --record")


if __name__ == "__main__":
    main()
