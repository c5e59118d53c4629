"""Opening the store: engine, SQLite pragmas, and Alembic migrations to head."""

from __future__ import annotations

import atexit
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from veille.errors import StorageError
from veille.lock import RunLock

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


def create_store_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        if not folder.exists():
            raise StorageError(f"dossier de la base introuvable : {folder}")
    try:
        engine = create_engine(url, future=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StorageError(f"adresse de base de données invalide « {url} » ({exc})") from None
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
        raise StorageError(
            f"base de données inaccessible ({exc.__class__.__name__}: {exc})"
        ) from None
    return sessionmaker(engine, expire_on_commit=False)
