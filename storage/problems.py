"""What makes a store unusable, in French: the translation of a driver's error, and
a probe of a SQLite file that writes nothing.

No SQLAlchemy at import: ``veille check`` probes a SQLite store with the standard
library alone, so that it starts fast; :mod:`storage.db` uses the same rules for
the errors its engine raises.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from veille.errors import StorageError


def where(url: str) -> str:
    """The database as the user knows it: a file path, or the URL without its password."""
    scheme, sep, rest = url.partition(":///")
    if sep and scheme.split("+")[0] == "sqlite":
        return rest.split("?")[0].removeprefix("file:")
    from sqlalchemy import make_url  # only for a server URL: SQLite needs no SQLAlchemy here
    from sqlalchemy.exc import ArgumentError

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


def sqlite_write_problem(url: str, connect: Callable[[], Any]) -> StorageError | None:
    """Whether the SQLite store of ``url`` accepts a write now, without changing it: its
    header is rewritten unchanged inside a transaction that is rolled back, which a
    read-only file or folder, a corrupt file or a full disk refuse. ``connect`` opens
    a DB-API connection to it (the engine's, or :func:`sqlite_connect`)."""
    try:
        connection = connect()
    except StorageError as exc:
        return exc
    except sqlite3.Error as exc:
        return storage_problem(url, exc) or StorageError(f"base {where(url)} inutilisable ({exc})")
    try:
        cursor = connection.cursor()
        version = cursor.execute("PRAGMA user_version").fetchone()[0]
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(f"PRAGMA user_version = {int(version)}")  # a real write
        finally:
            cursor.execute("ROLLBACK")
    except Exception as exc:  # the driver's own error: no engine hook on a raw connection
        problem = storage_problem(url, exc)
        if problem is None and not isinstance(exc, sqlite3.Error):
            raise  # a bug keeps its traceback
        return problem or StorageError(f"écriture impossible dans la base {where(url)} ({exc})")
    finally:
        connection.close()
    return None


def sqlite_connect(url: str) -> sqlite3.Connection:
    """A standard-library connection to the existing SQLite file of ``url``, with the
    URL's own options (``?mode=ro``…); it never creates the file."""
    _, _, rest = url.partition(":///")
    database, _, query = rest.partition("?")
    options = [o for o in query.split("&") if o and not o.startswith("uri=")]
    if not any(o.startswith("mode=") for o in options):
        options.append("mode=rw")
    target = f"file:{database.removeprefix('file:')}?{'&'.join(options)}"
    return sqlite3.connect(target, uri=True, isolation_level=None)
