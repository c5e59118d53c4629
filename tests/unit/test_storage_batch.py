"""save_batch in bulk: the same deduplication and sightings as item by item."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

import storage.store as store_module
from storage.db import open_database
from storage.models import ItemRow
from storage.packing import title_hash
from storage.store import MentionStore, NewItem, NewMention
from veille.pipeline import title_key

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FOUND = NewMention("Cégep de Drummondville", "nom", 100, "au Cégep de Drummondville", 3, 25, False)


@pytest.fixture
def store(store_url: str) -> MentionStore:
    store = MentionStore(open_database(store_url))
    store.sync_sources([("A", "feed"), ("B", "feed"), ("C", "feed")])
    return store


def _item(key: str, title_key: str | None = None, *, mention: bool = True) -> NewItem:
    return NewItem(
        key=key,
        url=f"https://{key}.test/",
        guid=None,
        title=f"Titre {key}",
        text="texte",
        published_at=None,
        mention=FOUND if mention else None,
        title_key=title_key,
    )


def _save(
    store: MentionStore,
    source: str,
    items: list[NewItem],
    *,
    now: datetime = NOW,
    seen_again: list[tuple[str, str]] | None = None,
) -> list[int]:
    return store.save_batch(
        source=source,
        source_type="feed",
        items=items,
        etag=None,
        last_modified=None,
        now=now,
        seen_again=seen_again or [],
    )


def _sightings(store: MentionStore) -> dict[str, tuple[str, ...]]:
    return {m.url: m.also_seen for m in store.mentions() if m.also_seen}


def test_a_shared_link_and_a_shared_title_sight_a_mention_once(store: MentionStore) -> None:
    first = _save(store, "A", [_item("a1", "une histoire partagee"), _item("a2", "une autre")])
    assert len(first) == 2
    found = _save(
        store,
        "B",
        [
            _item("b1", "une histoire partagee"),  # a1's story, also found again by its link
            _item("b2", "une autre"),  # a2's story, under B's own link
            _item("b3", "rien de semblable"),
        ],
        seen_again=[("a1", "https://b.test/a1")],
    )
    assert len(found) == 1  # only b3: the two others are a1's and a2's stories
    assert _sightings(store) == {"https://a1.test/": ("B",), "https://a2.test/": ("B",)}
    # found again next time: nothing new, nothing counted twice
    assert _save(store, "B", [], seen_again=[("a1", "https://b.test/a1"), ("b1", "x")]) == []
    assert _save(store, "C", [_item("c1", "une autre")]) == []
    assert _sightings(store) == {"https://a1.test/": ("B",), "https://a2.test/": ("B", "C")}
    record = store.sources()["B"]
    assert record.items_seen == 3 and record.mentions_found == 1


def test_the_sighting_keeps_the_link_this_source_gave_first(store: MentionStore) -> None:
    _save(store, "A", [_item("a1", "une histoire partagee")])
    _save(
        store,
        "B",
        [_item("b1", "une histoire partagee")],
        seen_again=[("a1", "https://b.test/premier")],
    )
    with store._read() as session:
        urls = list(session.scalars(store_module.select(store_module.SightingRow.url)))
    assert urls == ["https://b.test/premier"]


def test_one_sources_titles_are_never_merged(store: MentionStore) -> None:
    assert len(_save(store, "A", [_item("a1", "meme titre"), _item("a2", "meme titre")])) == 2
    assert len(_save(store, "A", [_item("a3", "meme titre")])) == 1


def test_a_title_older_than_72_hours_is_another_story(store: MentionStore) -> None:
    _save(store, "A", [_item("a1", "meme titre")], now=NOW - timedelta(hours=73))
    assert len(_save(store, "B", [_item("b1", "meme titre")])) == 1
    assert _sightings(store) == {}


def test_a_title_seen_first_without_mention_drops_the_mention(store: MentionStore) -> None:
    _save(store, "A", [_item("a1", "meme titre", mention=False)])
    assert _save(store, "B", [_item("b1", "meme titre")]) == []
    assert _sightings(store) == {}


def test_a_key_stored_meanwhile_is_skipped_not_an_error(
    store: MentionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _save(store, "A", [_item("a1")])
    monkeypatch.setattr(store_module, "_known_keys", lambda session, keys: set())
    assert len(_save(store, "B", [_item("a1"), _item("b1")])) == 1
    assert store.counts()["items"] == 2
    assert {m.url for m in store.mentions()} == {"https://a1.test/", "https://b1.test/"}
    assert store.sources()["B"].items_seen == 1


def test_mention_ids_follow_the_order_of_the_items(store: MentionStore) -> None:
    keys = [f"k{n}" for n in range(12)]
    ids = _save(store, "A", [_item(key, mention=n % 3 != 1) for n, key in enumerate(keys)])
    assert ids == sorted(ids) and len(ids) == 8
    by_id = sorted(store.mentions(), key=lambda m: m.id)
    assert [m.url for m in by_id] == [
        f"https://{key}.test/" for n, key in enumerate(keys) if n % 3 != 1
    ]


def test_batches_larger_than_one_lookup(store: MentionStore) -> None:
    many = store_module.CHUNK * 2 + 7
    _save(store, "A", [_item(f"a{n}", f"histoire numero {n:05d}") for n in range(many)])
    ids = _save(
        store,
        "B",
        [_item(f"b{n}", f"histoire numero {n:05d}") for n in range(many)]
        + [_item(f"a{n}") for n in range(many)],  # known keys: skipped
        seen_again=[(f"a{n}", f"https://b.test/{n}") for n in range(many)],
    )
    assert ids == []
    assert store.counts()["items"] == 2 * many
    assert len(_sightings(store)) == many
    assert all(seen == ("B",) for seen in _sightings(store).values())


def test_unchanged_sources_are_recorded_as_an_empty_visit_would_be(store: MentionStore) -> None:
    for name in ("A", "B"):
        store.save_batch(
            source=name,
            source_type="feed",
            items=[_item(f"{name}1")],
            etag='"v1"',
            last_modified="Fri, 27 Nov 2026 20:00:00 GMT",
            now=NOW - timedelta(hours=5),
            warning="un avertissement",
        )
        store.record_failure(name, "délai dépassé", NOW - timedelta(hours=1))
    store.sync_sources([("D", "feed")])
    store.save_batch(
        source="A", source_type="feed", items=[], etag='"v1"', last_modified=None, now=NOW
    )
    store.record_unchanged(["B", "D"], NOW)
    records = store.sources()
    a, b = records["A"], records["B"]
    assert b == replace(a, name="B", last_modified="Fri, 27 Nov 2026 20:00:00 GMT")
    assert not b.failing and b.last_success_at == NOW and b.last_warning is None
    assert b.first_success_at == NOW - timedelta(hours=5)
    assert records["D"].first_success_at == NOW and records["D"].consecutive_failures == 0


def test_title_keys_are_forgotten_once_out_of_the_window(store: MentionStore) -> None:
    _save(store, "A", [_item("a1", "vieille histoire")], now=NOW - timedelta(hours=73))
    _save(store, "A", [_item("a2", "histoire du jour")])
    assert store.prune_title_keys(before=NOW - store_module.TITLE_WINDOW) == 1
    assert store.prune_title_keys(before=NOW - store_module.TITLE_WINDOW) == 0
    with store._read() as session:
        keys = dict(session.execute(store_module.select(ItemRow.key, ItemRow.title_hash)).all())
    assert keys == {"a1": None, "a2": title_hash("histoire du jour")}
    # the recent one still makes another source's copy the same story
    assert _save(store, "B", [_item("b1", "histoire du jour"), _item("b2", "vieille histoire")])
    assert _sightings(store) == {"https://a2.test/": ("B",)}


def test_an_upgraded_store_forgets_its_old_title_keys_a_little_at_each_cycle(
    store: MentionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_TITLE_KEYS_PRUNED", 2)
    old = [_item(f"a{n}", f"histoire numero {n:03d}") for n in range(5)]
    _save(store, "A", old, now=NOW - timedelta(days=30))
    before = NOW - store_module.TITLE_WINDOW
    assert [store.prune_title_keys(before=before) for _ in range(4)] == [2, 2, 1, 0]


def test_the_title_keys_of_an_upgraded_store_still_find_the_same_story(store_url: str) -> None:
    """Migration 0010: the keys of the last 72 hours become digests (another source's
    copy is still the same story), older ones are dropped; going back makes them again."""
    from alembic import command
    from sqlalchemy import DateTime, column, table

    from storage.db import alembic_config, create_store_engine

    engine = create_store_engine(store_url)
    command.upgrade(alembic_config(engine), "0009")
    now = datetime.now(UTC)
    items = table(
        "items",
        *(column(name) for name in ("key", "source", "url", "title", "title_key")),
        column("seen_at", DateTime()),
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "insert into sources (name, type, consecutive_failures, items_seen, mentions_found,"
            " notified_failing) values ('A', 'feed', 0, 2, 0, false)"
        )
        for key, title, hours in (
            ("a1", "Histoire du jour au cégep", 1),
            ("a2", "Vieille histoire du cégep", 80),
        ):
            connection.execute(
                items.insert().values(
                    key=key,
                    source="A",
                    url=f"https://{key}.test/",
                    title=title,
                    title_key=title_key(title, None),
                    seen_at=(now - timedelta(hours=hours)).replace(tzinfo=None),
                )
            )
    engine.dispose()
    store = MentionStore(open_database(store_url))
    store.sync_sources([("A", "feed"), ("B", "feed")])
    with store._read() as session:
        digests = dict(session.execute(store_module.select(ItemRow.key, ItemRow.title_hash)).all())
    assert digests == {"a1": title_hash("histoire du jour au cegep"), "a2": None}

    copies = [
        replace(_item(key, title_key(title, None)), title=title)
        for key, title in (("b1", "Histoire du jour au cégep"), ("b2", "Vieille histoire du cégep"))
    ]
    _save(store, "B", copies, now=now)
    assert [m.url for m in store.mentions()] == ["https://b2.test/"]  # b1: the same story

    engine = store._sessions.kw["bind"]
    command.downgrade(alembic_config(engine), "0009")
    with engine.connect() as connection:
        keys = dict(connection.exec_driver_sql("select key, title_key from items").all())
    assert keys == {
        "a1": "histoire du jour au cegep",
        "a2": None,
        "b1": "histoire du jour au cegep",
        "b2": "vieille histoire du cegep",
    }
