"""The store: migrations match the models, items are unique, digests exactly once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.db import open_database
from storage.models import Base, ItemRow
from storage.store import MentionStore, NewItem, NewMention
from veille.errors import StorageError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> MentionStore:
    store = MentionStore(open_database(store_url))
    store.sync_sources([("S", "feed")])
    return store


def _item(key: str, mention: bool = True) -> NewItem:
    found = (
        NewMention("Cégep de Drummondville", "nom", 100, "au Cégep de Drummondville", 3, 25, False)
        if mention
        else None
    )
    return NewItem(key, key, None, f"titre {key}", "texte", NOW, found)


def test_migrations_build_exactly_the_models(store_url: str) -> None:
    factory = open_database(store_url)
    engine = factory.kw["bind"]
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert sorted(inspect(engine).get_table_names()) == sorted(
        [
            "alembic_version",
            "api_tokens",
            "daily_notices",
            "digests",
            "excluded_sites",
            "items",
            "mention_events",
            "mention_notes",
            "mention_tags",
            "mentions",
            "moderations",
            "robots",
            "sightings",
            "sources",
            "users",
        ]
    )
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    # opening again is a no-op upgrade
    open_database(store_url)


def test_an_item_is_stored_once(store: MentionStore) -> None:
    ids = store.save_batch(
        source="S",
        source_type="feed",
        items=[_item("a"), _item("a")],
        etag=None,
        last_modified=None,
        now=NOW,
    )
    assert len(ids) == 1
    again = store.save_batch(
        source="S",
        source_type="feed",
        items=[_item("a"), _item("b", False)],
        etag='"e"',
        last_modified=None,
        now=NOW,
    )
    assert again == []
    assert store.counts() == {"mentions": 1, "items": 2, "unsent": 1}
    record = store.sources()["S"]
    assert record.items_seen == 2 and record.mentions_found == 1 and record.etag == '"e"'


def test_unique_constraint_is_the_last_guard(store: MentionStore) -> None:
    factory = store._sessions
    with pytest.raises(IntegrityError), factory.begin() as session:
        session.add(ItemRow(key="k", source="S", url="u", title="", seen_at=NOW))
        session.add(ItemRow(key="k", source="S", url="u", title="", seen_at=NOW))


def test_digest_claim_abort_and_complete(store: MentionStore) -> None:
    store.save_batch(
        source="S",
        source_type="feed",
        items=[_item("a"), _item("b")],
        etag=None,
        last_modified=None,
        now=NOW,
    )
    claim = store.claim_digest(day=date(2026, 11, 28), now=NOW, message_id="<1@x>")
    assert len(claim.mentions) == 2 and store.unsent_mentions() == []
    store.abort_digest(claim.id)
    assert len(store.unsent_mentions()) == 2
    claim = store.claim_digest(day=date(2026, 11, 28), now=NOW, message_id="<2@x>")
    assert not store.digest_sent_on(date(2026, 11, 28))
    # a crash before completion: the next run finds the same digest, to send as it was
    [pending] = store.pending_digests()
    assert pending.message_id == "<2@x>" and len(pending.mentions) == 2
    assert pending.day == date(2026, 11, 28)
    assert store.unsent_mentions() == []
    store.complete_digest(pending.id, NOW, "sujet")
    assert store.digest_sent_on(date(2026, 11, 28))
    assert store.pending_digests() == []


def test_missing_database_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="dossier de la base introuvable"):
        open_database(f"sqlite:///{tmp_path / 'absent' / 'v.db'}")


def test_an_existing_database_upgrades_without_loss(store_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config, create_store_engine

    url = store_url
    engine = create_store_engine(url)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "insert into sources (name, type, consecutive_failures, items_seen, mentions_found,"
            " notified_failing) values ('S', 'feed', 0, 1, 0, false)"
        )
        connection.exec_driver_sql(
            "insert into items (key, source, url, title, text, seen_at)"
            " values ('k', 'S', 'https://a.test/', 'Titre', 'Texte', '2026-11-01 00:00:00')"
        )
    engine.dispose()
    store = MentionStore(open_database(url))
    assert store.counts()["items"] == 1
    ((item,),) = store.stored_items()
    assert (item.url, item.text) == ("https://a.test/", "Texte")
    assert store.sources()["S"].items_seen == 1
    assert store.sources()["S"].next_attempt_at is None


def test_old_items_are_pruned_but_mentions_kept_forever(store: MentionStore) -> None:
    from datetime import timedelta

    old = NOW - timedelta(days=200)
    store.save_batch(
        source="S",
        source_type="feed",
        items=[_item("a"), _item("b", False)],
        etag=None,
        last_modified=None,
        now=old,
    )
    store.save_batch(
        source="S",
        source_type="feed",
        items=[_item("c", False)],
        etag=None,
        last_modified=None,
        now=NOW,
    )
    assert store.prune_items(before=NOW - timedelta(days=180)) == 1
    assert store.known_keys(["a", "b", "c"]) == {"a", "c"}
    assert store.counts()["mentions"] == 1


def test_item_times_are_kept_exactly_whatever_the_database(store: MentionStore) -> None:
    """SQLite keeps them as integers (migration 0012): to the microsecond, before 1970
    too, and compared as times (retention, rescan since a time)."""
    times = {
        "a": datetime(2026, 11, 28, 11, 59, 59, 999_999, tzinfo=UTC),
        "b": datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
    }
    for key, when in times.items():
        store.save_batch(
            source="S",
            source_type="feed",
            items=[replace(_item(key, mention=False), published_at=when)],
            etag=None,
            last_modified=None,
            now=when,
        )
    with store._read() as session:
        rows = session.execute(select(ItemRow.key, ItemRow.seen_at, ItemRow.published_at))
        assert {key: (seen, published) for key, seen, published in rows} == {
            key: (when, when) for key, when in times.items()
        }
    since = [i.url for batch in store.stored_items(since=times["a"]) for i in batch]
    assert since == ["a"]
    assert store.prune_items(before=times["a"]) == 1  # b, seen before 1970
    assert store.prune_items(before=times["a"]) == 0


def test_item_times_written_as_text_before_become_integers_and_back(store_url: str) -> None:
    from alembic import command

    from storage.db import alembic_config, create_store_engine

    engine = create_store_engine(store_url)
    command.upgrade(alembic_config(engine), "0011")
    written = ("2026-11-29 23:30:28.112321", "1969-12-31 23:59:59.500000", "2026-11-01 00:00:00")
    with engine.begin() as connection:
        for n, when in enumerate(written):
            connection.execute(
                text(
                    "insert into items (key, source, url, title, seen_at, published_at)"
                    " values (:key, 'S', '', 't', :when, :when)"
                ),
                {"key": f"k{n}", "when": when},
            )
    engine.dispose()
    store = MentionStore(open_database(store_url))
    with store._read() as session:
        rows = session.execute(select(ItemRow.seen_at, ItemRow.published_at).order_by(ItemRow.key))
        assert [tuple(row) for row in rows] == [
            (when, when)
            for when in (
                datetime(2026, 11, 29, 23, 30, 28, 112_321, tzinfo=UTC),
                datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
                datetime(2026, 11, 1, tzinfo=UTC),
            )
        ]
    engine = store._sessions.kw["bind"]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            kinds = connection.exec_driver_sql("select distinct typeof(seen_at) from items")
            assert kinds.scalars().all() == ["integer"]
    command.downgrade(alembic_config(engine), "0011")
    with engine.connect() as connection:
        again = connection.execute(text("select seen_at from items order by key")).scalars()
        assert [str(when) for when in again] == [
            "2026-11-29 23:30:28.112321",
            "1969-12-31 23:59:59.500000",
            "2026-11-01 00:00:00" + (".000000" if engine.dialect.name == "sqlite" else ""),
        ]


def test_a_store_goes_back_to_the_first_schema_and_returns_without_loss(
    store: MentionStore,
) -> None:
    """Every migration's downgrade works on a store with data (foreign keys point at
    items and mentions: SQLite must not copy them), and what the first schema holds
    comes back whole."""
    from alembic import command

    from storage.db import alembic_config

    store.save_batch(
        source="S",
        source_type="feed",
        items=[replace(_item("https://a.test/x/"), title="Un titre assez long pour une clé")],
        etag=None,
        last_modified=None,
        now=NOW,
    )
    before = (store.mentions(), list(store.stored_items()))
    engine = store._sessions.kw["bind"]
    command.downgrade(alembic_config(engine), "0001")
    with engine.connect() as connection:
        rows = connection.execute(text("select key, url, text from items")).all()
    assert [tuple(row) for row in rows] == [("https://a.test/x/", "https://a.test/x/", "texte")]
    command.upgrade(alembic_config(engine), "head")
    assert (store.mentions(), list(store.stored_items())) == before
    command.downgrade(alembic_config(engine), "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
