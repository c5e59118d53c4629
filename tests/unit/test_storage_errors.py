"""A store that cannot be used says so in French, naming the database and the fix.

These use real SQLite files (and a real refused TCP connection on 127.0.0.1 for
a server URL): a read-only open, a corrupt file, a missing folder, a full disk.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import check_writable, open_database
from storage.problems import storage_problem
from storage.store import MentionStore
from veille.errors import StorageError


def _read_only(path: Path) -> str:
    open_database(f"sqlite:///{path}")  # created and migrated first
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def test_a_read_only_store_names_the_file_and_the_fix(tmp_path: Path) -> None:
    store = MentionStore(open_database(_read_only(tmp_path / "veille.db")))
    with pytest.raises(StorageError) as caught:
        store.sync_sources([("Journal", "feed")])
    message = str(caught.value)
    assert str(tmp_path / "veille.db") in message
    assert "lecture seule" in message and "droit d'écriture" in message


def test_check_writable_tells_before_anything_is_written(tmp_path: Path) -> None:
    assert check_writable(open_database(f"sqlite:///{tmp_path / 'a.db'}")) is None
    problem = check_writable(open_database(_read_only(tmp_path / "b.db")))
    assert problem is not None and "lecture seule" in str(problem)


def test_a_corrupt_file_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "veille.db"
    path.write_bytes(b"ceci n'est pas une base SQLite" * 200)
    with pytest.raises(StorageError, match="endommagée.*sauvegarde"):
        open_database(f"sqlite:///{path}")


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="dossier de la base introuvable"):
        open_database(f"sqlite:///{tmp_path / 'absent' / 'veille.db'}")


def test_a_full_disk_is_named(tmp_path: Path) -> None:
    path = tmp_path / "plein.db"
    connection = sqlite3.connect(path)
    connection.execute("create table t (x)")
    connection.execute("pragma max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as caught:
        connection.execute("insert into t values (randomblob(100000))")
    problem = storage_problem(f"sqlite:///{path}", caught.value)
    assert problem is not None and "disque plein" in str(problem)


def test_an_unreachable_server_hides_the_password(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StorageError) as caught:
        open_database("postgresql+psycopg://veille:secret@127.0.0.1:1/veille")
    assert "injoignable" in str(caught.value) and "secret" not in str(caught.value)


def test_an_invalid_url_is_explained() -> None:
    with pytest.raises(StorageError, match="adresse de base de données invalide"):
        open_database("pas une adresse")


def test_a_data_error_on_one_row_is_not_a_storage_problem(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "x.db")
    connection.execute("create table t (x unique)")
    connection.execute("insert into t values (1)")
    with pytest.raises(sqlite3.IntegrityError) as caught:
        connection.execute("insert into t values (1)")
    assert storage_problem(f"sqlite:///{tmp_path / 'x.db'}", caught.value) is None


def test_sources_says_when_the_store_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from veille.cli import main

    path = tmp_path / "veille.db"
    read_only = _read_only(path)
    config = tmp_path / "config.yaml"
    config.write_text(
        "brand: {name: Cégep de Drummondville}\n"
        "sources: [{name: J, type: feed, url: 'http://127.0.0.1:9/f.xml'}]\n"
        "digest: {to: [a@b.ca], from: v@b.ca}\n"
        f'storage: {{url: "{read_only}"}}\n',
        encoding="utf-8",
    )

    assert main(["--config", str(config), "sources"]) == 0

    out = capsys.readouterr().out
    assert "BASE DE DONNÉES : écriture impossible" in out and str(path) in out


def test_every_operation_fails_as_a_storage_error_even_without_the_engine_hook(
    tmp_path: Path,
) -> None:
    """The store's unit-of-work helper translates what reaches it: a store built on a
    plain engine (no error hook) over a file that became corrupt still fails in
    French, for reads and writes alike; an error about one row's data does not."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import NoResultFound
    from sqlalchemy.orm import sessionmaker

    path = tmp_path / "veille.db"
    open_database(f"sqlite:///{path}")
    store = MentionStore(sessionmaker(create_engine(f"sqlite:///{path}")))
    store.sync_sources([("Journal", "feed")])
    with pytest.raises(NoResultFound):  # about one row, not the store: left as it is
        store.record_failure("absente", "x", datetime.now(UTC))
    path.write_bytes(b"ceci n'est pas une base SQLite" * 200)
    for journal in ("-wal", "-shm"):  # no page left to read from the journal
        path.with_name(path.name + journal).unlink(missing_ok=True)
    store = MentionStore(sessionmaker(create_engine(f"sqlite:///{path}")))
    operations = {
        "sources": lambda: store.sources(),
        "mentions": lambda: store.mentions(),
        "counts": lambda: store.counts(),
        "mark_notified": lambda: store.mark_notified("Journal", True),
        "pending_digests": lambda: store.pending_digests(),
    }
    for name, operation in operations.items():
        with pytest.raises(StorageError, match="endommagée"):
            operation()
            pytest.fail(name)
