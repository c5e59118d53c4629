"""Items' texts packed in the store (storage/packing.py, migration 0009): lossless, smaller,
and the texts an older version kept plain still rescanned, shown and forgotten; urls
kept once (migration 0011)."""

from __future__ import annotations

import hashlib
import re
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from storage.db import open_database
from storage.models import ItemRow, MentionRow
from storage.packing import (
    DEFLATE_1,
    DICTIONARY_1,
    PLAIN,
    pack_guid,
    pack_text,
    pack_url,
    title_hash,
    unpack_guid,
    unpack_text,
    unpack_url,
)
from storage.store import MentionStore, NewItem, NewMention
from veille.errors import StorageError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
FOUND = NewMention("Cégep de Drummondville", "nom", 100, "au Cégep de Drummondville", 3, 25, False)

# about 1 kB of French news, as a feed's description gives it
ARTICLE = (
    "Le conseil d'administration du Cégep de Drummondville a adopté mardi soir un budget "
    "de fonctionnement de 68 millions de dollars pour l'année scolaire qui commence. La "
    "direction prévoit l'embauche d'une quinzaine d'enseignants, surtout en soins "
    "infirmiers et en génie mécanique, deux programmes où les demandes d'admission ont "
    "nettement augmenté depuis l'automne dernier. « Nous voulons répondre aux besoins des "
    "employeurs de la région, qui peinent à recruter du personnel qualifié », a expliqué "
    "la directrice générale lors de la séance publique. Le cégep poursuivra aussi les "
    "travaux d'agrandissement de la bibliothèque, dont l'ouverture est prévue à l'hiver. "
    "Les syndicats ont salué l'annonce tout en rappelant que la charge de travail demeure "
    "lourde dans plusieurs départements. Une consultation auprès des étudiants aura lieu "
    "en octobre afin de revoir l'offre de services psychosociaux et d'aide à la réussite."
)

# a text packed by the first version: whatever zlib writes in years, this must unpack
GOLDEN = bytes.fromhex("0103fad419e658541944865280f47291cd005a04abb4c13680f8d0f25d0f00")
GOLDEN_TEXT = "Le Cégep de Drummondville accueille les étudiants de la région pour la rentrée."


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a",
        "Élèves, enseignants et aînés : « ça va être génial » — à l'œuvre !",
        "Bravo aux finissants 🎓🎉👏🏽 du Cégep ❤️‍🔥",
        "lignes\r\ntabulations\tet contrôles \x01\x02\x1b\x7f\x85\u2028\ufeff fin",
        ARTICLE,
        (ARTICLE + " ") * 90 + "x" * 7_000,  # beyond the 32 kB window
        "".join(chr(0x20 + (i * 7919) % 0x2FF0) for i in range(100_000)),  # 100,000 chars
    ],
    ids=["empty", "one", "accents", "emoji", "controls", "article", "long", "100000 chars"],
)
def test_a_text_comes_back_exactly(text: str) -> None:
    packed = pack_text(text)
    assert unpack_text(packed) == text
    assert len(packed) <= len(text.encode()) + 1  # never more than one byte added


def test_short_texts_are_kept_plain_and_french_ones_deflated() -> None:
    assert pack_text("") == bytes([PLAIN])
    assert pack_text("ok") == bytes([PLAIN]) + b"ok"
    packed = pack_text(ARTICLE)
    assert packed[0] == DEFLATE_1
    assert len(packed) < 0.6 * len(ARTICLE.encode())


def test_the_first_format_never_changes() -> None:
    # DICTIONARY_1 is part of format 0x01: a changed word would unpack stored texts wrong
    assert hashlib.sha256(DICTIONARY_1).hexdigest() == (
        "43c75c404da2362a666a7cba603c92c4a773f0b92a09ad94bd1b0f735d8faa32"
    )
    assert unpack_text(GOLDEN) == GOLDEN_TEXT
    assert unpack_text(bytes([PLAIN]) + "déjà".encode()) == "déjà"


@pytest.mark.parametrize(
    ("packed", "message"),
    [
        (b"", "format inconnu (vide)"),
        (b"\x07abc", "format inconnu (octet 0x07)"),
        (b"\xffabc", "format inconnu (octet 0xff)"),
        (GOLDEN[:-3], "illisible"),  # truncated
        (GOLDEN + b"\x00", "illisible"),  # followed by something else
        (bytes([DEFLATE_1]) + b"\xff\xff\xff", "illisible"),
        (bytes([DEFLATE_1]) + zlib.compress(b"\xff\xfe", 6, -15), "illisible"),  # no UTF-8
        (bytes([PLAIN]) + b"\xc3", "illisible"),
    ],
)
def test_an_unreadable_text_is_an_error_not_a_wrong_text(packed: bytes, message: str) -> None:
    with pytest.raises(StorageError, match=re.escape(message)):
        unpack_text(packed)


# --- in the store ----------------------------------------------------------------------


@pytest.fixture
def store(store_url: str) -> MentionStore:
    store = MentionStore(open_database(store_url))
    store.sync_sources([("A", "feed")])
    return store


def _new(key: str, text: str, *, mention: bool = True) -> NewItem:
    return NewItem(
        key=key,
        url=f"https://{key}.test/",
        guid=None,
        title=f"Titre {key}",
        text=text,
        published_at=None,
        mention=FOUND if mention else None,
    )


def _save(store: MentionStore, items: list[NewItem], now: datetime = NOW) -> list[int]:
    return store.save_batch(
        source="A", source_type="feed", items=items, etag=None, last_modified=None, now=now
    )


def _columns(store: MentionStore) -> dict[str, tuple[str | None, bytes | None]]:
    with store._sessions() as session:
        rows = session.execute(select(ItemRow.key, ItemRow.text, ItemRow.packed_text))
        return {key: (text, packed) for key, text, packed in rows}


def _plain_item(store: MentionStore, key: str, text: str, seen_at: datetime) -> int:
    """An item (and its mention) as a version before migration 0009 stored it."""
    with store._sessions.begin() as session:
        item_id = session.execute(
            insert(ItemRow).returning(ItemRow.id),
            {
                "key": key,
                "source": "A",
                "url": f"https://{key}.test/",
                "title": f"Titre {key}",
                "text": text,
                "seen_at": seen_at,
            },
        ).scalar_one()
        return session.execute(
            insert(MentionRow).returning(MentionRow.id),
            {
                "item_id": item_id,
                "source": "A",
                "source_type": "feed",
                "url": f"https://{key}.test/",
                "found_at": seen_at,
                "matched": FOUND.matched,
                "score": 100,
            },
        ).scalar_one()


def test_new_items_are_stored_packed_and_read_back_whole(store: MentionStore) -> None:
    (mention_id,) = _save(store, [_new("a", ARTICLE), _new("b", "", mention=False)])

    columns = _columns(store)
    text, packed = columns["a"]
    assert text is None and packed is not None
    assert len(packed) < 0.6 * len(ARTICLE.encode())
    assert columns["b"] == (None, bytes([PLAIN]))  # an empty text is a text: rescanned
    (batch,) = store.stored_items()
    assert {item.url: item.text for item in batch} == {
        "https://a.test/": ARTICLE,
        "https://b.test/": "",
    }
    detail = store.detail(mention_id)
    assert detail is not None and detail.text == ARTICLE


def test_texts_kept_plain_by_an_older_version_are_still_rescanned_and_shown(
    store: MentionStore,
) -> None:
    old_mention = _plain_item(store, "old", "Ancien texte au Cégep de Drummondville", NOW)
    (new_mention,) = _save(store, [_new("new", ARTICLE)], now=NOW + timedelta(hours=1))

    assert _columns(store)["old"] == ("Ancien texte au Cégep de Drummondville", None)
    items = [item for batch in store.stored_items(batch=1) for item in batch]
    assert [(item.url, item.text) for item in items] == [
        ("https://old.test/", "Ancien texte au Cégep de Drummondville"),
        ("https://new.test/", ARTICLE),
    ]
    old, new = store.detail(old_mention), store.detail(new_mention)
    assert old is not None and old.text == "Ancien texte au Cégep de Drummondville"
    assert new is not None and new.text == ARTICLE


def test_retention_forgets_packed_and_plain_texts(store: MentionStore) -> None:
    old_mention = _plain_item(store, "plain", "Un vieux texte", NOW - timedelta(days=100))
    _save(store, [_new("packed", ARTICLE, mention=False)], now=NOW - timedelta(days=95))
    _save(store, [_new("recent", ARTICLE, mention=False)], now=NOW)

    assert store.prune_text(before=NOW - timedelta(days=90)) == 2
    columns = _columns(store)
    assert columns["plain"] == (None, None) and columns["packed"] == (None, None)
    assert columns["recent"][1] is not None
    assert [item.url for batch in store.stored_items() for item in batch] == [
        "https://recent.test/"
    ]
    detail = store.detail(old_mention)
    assert detail is not None and detail.text is None
    assert store.prune_text(before=NOW - timedelta(days=90)) == 0


def test_going_back_to_migration_0008_gives_the_packed_texts_back_in_plain(
    store: MentionStore, store_url: str
) -> None:
    from alembic import command
    from sqlalchemy import text as sql

    from storage.db import alembic_config

    _save(store, [_new("a", ARTICLE), _new("b", "court", mention=False)])
    engine = store._sessions.kw["bind"]
    command.downgrade(alembic_config(engine), "0008")
    with engine.connect() as connection:
        rows = dict(connection.execute(sql("select key, text from items")).all())
    assert rows == {"a": ARTICLE, "b": "court"}


@pytest.mark.parametrize(
    ("url", "key", "stored"),
    [
        ("https://a.test/x/", "https://a.test/x/", ""),  # a feed item: its key is its url
        (
            "https://a.test/x/?utm_source=rss",
            "https://a.test/x/",
            "https://a.test/x/?utm_source=rss",
        ),
        ("", "guid:42", " "),  # only a guid: no url, not the key
        ("https://www.facebook.com/1_2", "facebook:1_2", "https://www.facebook.com/1_2"),
    ],
    ids=["same", "other", "none", "comment"],
)
def test_a_url_is_kept_once_and_comes_back_exactly(url: str, key: str, stored: str) -> None:
    assert pack_url(url, key) == stored
    assert unpack_url(stored, key) == url


@pytest.mark.parametrize(
    ("guid", "stored"),
    [("https://a.test/x/", ""), ("https://a.test/?p=7", "https://a.test/?p=7"), (None, None)],
    ids=["same", "other", "none"],
)
def test_a_guid_is_kept_once_and_comes_back_exactly(guid: str | None, stored: str | None) -> None:
    assert pack_guid(guid, "https://a.test/x/") == stored
    assert unpack_guid(stored, "https://a.test/x/") == guid


def test_the_title_digest_never_changes() -> None:
    # a store keeps these: the same key must give the same digest in every version
    assert title_hash("le cegep de drummondville inaugure son pavillon") == 7129174562287781779
    assert title_hash("") == -1970711489451281740
    assert -(2**63) <= title_hash("x" * 500) < 2**63


def test_urls_and_guids_stored_before_are_kept_once_by_the_upgrade_and_given_back(
    store_url: str,
) -> None:
    from alembic import command
    from sqlalchemy import text as sql

    from storage.db import alembic_config, create_store_engine

    engine = create_store_engine(store_url)
    command.upgrade(alembic_config(engine), "0010")
    rows = {  # key: (url, guid)
        "a": ("a", "a"),
        "b": ("https://b.test/long?ref=rss", "https://b.test/?p=2"),
        "guid:c": ("", "c"),
        "d": ("d", None),
    }
    with engine.begin() as connection:
        for key, (url, guid) in rows.items():
            connection.execute(
                insert(ItemRow).values(
                    key=key, source="A", url=url, guid=guid, title="t", text="texte", seen_at=NOW
                )
            )
    engine.dispose()
    store = MentionStore(open_database(store_url))
    with store._read() as session:
        stored = {
            key: (url, guid)
            for key, url, guid in session.execute(select(ItemRow.key, ItemRow.url, ItemRow.guid))
        }
    assert stored == {
        "a": ("", ""),
        "b": ("https://b.test/long?ref=rss", "https://b.test/?p=2"),
        "guid:c": (" ", "c"),
        "d": ("", None),
    }
    urls = sorted(item.url for batch in store.stored_items() for item in batch)
    assert urls == ["", "a", "d", "https://b.test/long?ref=rss"]  # as the collector gave them

    engine = store._sessions.kw["bind"]
    command.downgrade(alembic_config(engine), "0010")
    with engine.connect() as connection:
        again = connection.execute(sql("select key, url, guid from items"))
        assert {key: (url, guid) for key, url, guid in again} == rows
