"""Opening the store: engine, SQLite pragmas, and Alembic migrations to head.

A store that cannot be used (read-only file, folder not writable, disk full,
corrupt file, server unreachable, password refused…) raises
:class:`~veille.errors.StorageError` with one French line that names the
database and says what to do, wherever it happens (an engine ``handle_error``
hook translates the driver's errors). Errors about one row's data
(``IntegrityError``, ``DataError``) are left alone: the pipeline skips that item.
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.lock import RunLock
from storage.problems import sqlite_write_problem, storage_problem, where
from veille.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x6D6967726174  # advisory lock number for migrations on PostgreSQL


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite leaves DDL outside transactions: a crash during a migration would leave
    # half a schema. Turn its own transaction handling off and BEGIN ourselves (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _translate(url: str) -> Any:
    def handle_error(context: ExceptionContext) -> StorageError | None:
        return storage_problem(url, context.original_exception)

    return handle_error


def create_store_engine(url: str) -> Engine:
    if url.split(":", 1)[0].split("+")[0] == "sqlite" and ":///" in url:
        folder = Path(where(url)).parent
        if not folder.exists():
            raise StorageError(
                f"dossier de la base introuvable : {folder} (créez-le, ou corrigez storage.url)"
            )
    try:
        engine = create_engine(url, future=True)
    except ImportError:
        raise StorageError(
            f"pilote de base de données absent pour « {where(url)} » : pour PostgreSQL, "
            "installez veille avec pip install 'veille[postgres]' (psycopg 3)"
        ) from None
    except (SQLAlchemyError, ValueError):
        raise StorageError(
            f"adresse de base de données invalide « {where(url)} » (exemples : "
            "sqlite:///veille.db, postgresql+psycopg://veille@localhost/veille)"
        ) from None
    event.listen(engine, "handle_error", _translate(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    atexit.register(engine.dispose)  # close pooled connections cleanly (PostgreSQL warns else)
    return engine


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration (revision ids are the file names' number: 0001, 0002…)."""
    return max(path.name.split("_")[0] for path in (MIGRATIONS / "versions").glob("[0-9]*.py"))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("select version_num from alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when already there).

    Two processes starting on a fresh SQLite file must not both create the
    tables: the upgrade runs under a file lock beside the database. Alembic is
    only imported when there is something to do (it costs a fifth of a second
    to every command otherwise).
    """
    if current_revision(engine) == head_revision():
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:  # two first runs: one migrates, one waits
            connection.execute(text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            try:
                _upgrade(engine)
            finally:
                connection.execute(text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        _upgrade(engine)
        return
    with RunLock(Path(database + ".migrate.lock")) as lock:
        if not lock.acquire(wait=120):
            raise StorageError(
                f"mise à jour du schéma bloquée par un autre processus ({lock.path})"
            )
        _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(engine)
    head = ScriptDirectory.from_config(config).get_current_head()
    current = current_revision(engine)
    if current == head:
        return
    log.info("Mise à jour du schéma de la base : %s → %s", current or "vide", head)
    command.upgrade(config, "head")


def open_database(url: str) -> sessionmaker[Session]:
    """An engine migrated to head, as a session factory."""
    engine = create_store_engine(url)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        problem = storage_problem(url, exc)
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise problem or StorageError(
            f"base de données inaccessible ({where(url)}) : {detail or exc.__class__.__name__}"
        ) from None
    return sessionmaker(engine, expire_on_commit=False)


def check_writable(sessions: sessionmaker[Session]) -> StorageError | None:
    """Whether the store accepts a write now (a write started, then rolled back).

    SQLite: the header rewritten unchanged inside a transaction, which a read-only
    file or folder refuses; a server: a row inserted into a table of ours.
    """
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    url = (
        f"sqlite:///{engine.url.database}"
        if engine.dialect.name == "sqlite"
        else engine.url.render_as_string(hide_password=False)
    )
    try:
        if engine.dialect.name == "sqlite":
            return sqlite_write_problem(url, engine.raw_connection)
        with engine.connect() as connection:
            connection.execute(
                text(
                    "insert into robots (host, status, body, fetched_at) "
                    "values ('veille-essai-ecriture', 0, '', current_timestamp)"
                )
            )
            connection.rollback()
    except StorageError as exc:
        return exc
    except SQLAlchemyError as exc:
        return storage_problem(url, exc) or StorageError(
            f"écriture impossible dans la base {where(url)} ({exc.__class__.__name__})"
        )
    return None
