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

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from veille.errors import StorageError
from storage.lock import RunLock

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


def where(url: str) -> str:
    """The database as the user knows it: a file path, or the URL without its password."""
    scheme, sep, rest = url.partition(":///")
    if sep and scheme.split("+")[0] == "sqlite":
        return rest.split("?")[0].removeprefix("file:")
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "storage.url"


_SQLITE_PROBLEMS = (
    (
        ("readonly", "read-only"),
        "la base {db} est en lecture seule : donnez le droit d'écriture sur ce fichier et sur "
        "son dossier à l'utilisateur qui lance veille (par exemple chown veille: {db})",
    ),
    (
        ("unable to open database file",),
        "impossible d'ouvrir ou de créer la base {db} : le dossier {folder} doit exister et "
        "être accessible en écriture à l'utilisateur qui lance veille (SQLite y crée aussi "
        "les fichiers -wal et -shm)",
    ),
    (
        ("disk is full", "database or disk is full", "no space left"),
        "disque plein : la base {db} ne peut plus s'agrandir ; libérez de l'espace sur le disque",
    ),
    (
        ("malformed", "not a database", "file is encrypted"),
        "la base {db} est endommagée (fichier corrompu) : restaurez une sauvegarde, ou "
        "déplacez ce fichier pour repartir d'une base vide",
    ),
    (
        ("database is locked", "database table is locked"),
        "la base {db} est verrouillée par un autre programme depuis plus de 30 s : "
        "réessayez, ou cherchez le processus qui la garde ouverte",
    ),
    (("disk i/o error",), "erreur d'entrée-sortie sur la base {db} : disque défaillant ?"),
)
_SERVER_PROBLEMS = (
    (
        ("connection refused", "could not connect", "connection timed out", "timeout expired"),
        "serveur de base de données injoignable ({db}) : vérifiez qu'il tourne et storage.url",
    ),
    (
        ("password authentication failed", "authentication failed", "no password supplied"),
        "identification refusée par le serveur de base de données ({db}) : vérifiez "
        "l'utilisateur et le mot de passe de storage.url",
    ),
    (
        ("does not exist",),
        "la base indiquée par storage.url n'existe pas sur le serveur ({db}) : créez-la "
        "(createdb) ou corrigez storage.url",
    ),
    (
        ("read-only transaction", "permission denied", "must be owner"),
        "le serveur refuse l'écriture dans la base ({db}) : donnez les droits d'écriture à "
        "l'utilisateur de storage.url",
    ),
    (
        ("could not extend file", "no space left", "disk full"),
        "disque plein sur le serveur de base de données ({db}) : libérez de l'espace",
    ),
)


def storage_problem(url: str, exc: BaseException) -> StorageError | None:
    """The French StorageError for a driver error that makes the store unusable, else None
    (an error about one row's data, or a bug)."""
    original = getattr(exc, "orig", None) or exc
    kind = type(original).__name__
    sqlstate = str(getattr(original, "sqlstate", "") or "")
    if kind not in ("OperationalError", "DatabaseError", "InterfaceError") and not (
        sqlstate[:2] in ("08", "28", "3D", "53") or sqlstate in ("25006", "42501")
    ):
        return None  # one row's data (IntegrityError, DataError…) or a bug: not the store's
    message = str(original).lower()
    database = where(url)
    problems = _SQLITE_PROBLEMS if url.startswith("sqlite") else _SERVER_PROBLEMS
    for needles, template in problems:
        if any(needle in message for needle in needles):
            folder = str(Path(database).parent) if url.startswith("sqlite") else ""
            return StorageError(template.format(db=database, folder=folder))
    if kind == "OperationalError":
        first_line = str(original).strip().splitlines()[:1]
        detail = first_line[0][:200] if first_line else type(exc).__name__
        return StorageError(f"base de données inaccessible ({database}) : {detail}")
    return None


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
            try:
                raw = engine.raw_connection()
            except StorageError as exc:
                return exc
            try:
                cursor = raw.cursor()
                version = cursor.execute("PRAGMA user_version").fetchone()[0]
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    cursor.execute(f"PRAGMA user_version = {int(version)}")  # a real write
                finally:
                    cursor.execute("ROLLBACK")
            except Exception as exc:  # the driver's own error: no handle_error hook here
                return storage_problem(url, exc) or StorageError(
                    f"écriture impossible dans la base {where(url)} ({exc})"
                )
            finally:
                raw.close()
        else:
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
