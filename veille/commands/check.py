"""``veille check``: is config.yaml valid, and can the store and folders be used?"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Literal

from collectors.accounts.collector import AccountSource
from storage.problems import sqlite_connect, sqlite_write_problem, storage_problem, where
from veille.commands.console import config_of, every_text
from veille.config import Config
from veille.errors import EXIT_OK, EXIT_STORAGE, StorageError, os_reason


def cmd_check(args: argparse.Namespace) -> int:
    config = config_of(args)
    print(f"{config.path} : configuration valide.")
    print(
        f"Marque : {config.brand.name} ({len(config.brand.aliases)} alias, "
        f"{len(config.brand.handles)} identifiants, {len(config.brand.exclude)} exclusions)"
    )
    print(f"{len(config.sources)} source(s) :")
    for source in config.sources:
        where = getattr(source, "url", None) or getattr(source, "query", "")
        if isinstance(source, AccountSource):  # the platform and the account watched
            where = f"{source.platform} {source.account_id} ({source.api_base})"
        state = "" if source.enabled else " (désactivée)"
        every = every_text(source.every.total_seconds())
        print(f"  - {source.name} [{source.type}, toutes les {every}]{state} {where}")
        for warning in source.warnings():
            print(f"    Attention : {warning}.")
    digest = config.digest
    print(f"Résumé : chaque jour à {digest.at:%H:%M} ({digest.timezone}) à {', '.join(digest.to)}")
    if config.smtp is None:
        print(f"Envoi : aucun serveur SMTP, les courriels sont écrits dans {config.outbox_dir}")
    else:
        print(f"Envoi : serveur SMTP {config.smtp.host}:{config.smtp.port}")
        if config.smtp.password_env and config.smtp.password() is None:
            print(
                f"Attention : la variable d'environnement {config.smtp.password_env} "
                "n'est pas définie dans cet environnement."
            )
    problem = check_storage(config)
    if config.smtp is None:
        check_folder("Dossier d'envoi (outbox)", config.outbox_dir)
    evidence_dir = getattr(config, "evidence_dir", None)
    if evidence_dir is not None:
        check_folder("Dossier des preuves (storage.evidence_dir)", Path(evidence_dir))
    if problem is not None:
        print(f"Erreur : {problem}", file=sys.stderr)
        return EXIT_STORAGE
    return EXIT_OK


def check_storage(config: Config) -> StorageError | None:
    """Print whether the store can be used, without changing it; return what makes it
    unusable (``veille check`` then exits 3)."""
    url = config.storage.url
    if url.split(":", 1)[0].split("+")[0] == "sqlite":
        problem = _sqlite_problem(url)
    else:
        problem = _server_problem(url)
    if problem is False:  # nothing to say beyond what was printed
        return None
    if problem is None:
        print(f"Base : {where(url)} accessible en écriture.")
    else:
        print(f"Base : {where(url)} inutilisable.")
    return problem


def _sqlite_problem(url: str) -> StorageError | Literal[False] | None:
    """A SQLite store probed with the standard library (no SQLAlchemy: check starts fast)."""
    database = where(url)
    if database in ("", ":memory:") or "mode=memory" in url:
        print("Base : en mémoire (rien n'est gardé d'un lancement à l'autre).")
        return False
    path = Path(database)
    if path.exists():
        return sqlite_write_problem(url, lambda: sqlite_connect(url))
    reason = folder_problem(path.parent, create=False)
    if reason is not None:
        return StorageError(
            f"impossible de créer la base {path} : dossier {path.parent} "
            f"inutilisable ({reason}) ; créez-le ou donnez-en le droit d'écriture à "
            "l'utilisateur qui lance veille, ou corrigez storage.url"
        )
    print(f"Base : {path} (SQLite) sera créée au premier lancement.")
    return False


def _server_problem(url: str) -> StorageError | Literal[False] | None:
    """A database server (PostgreSQL): reached through SQLAlchemy and its driver."""
    from sqlalchemy import text  # a server needs them; SQLite is probed without
    from sqlalchemy.orm import sessionmaker

    from storage.db import check_writable, create_store_engine, current_revision

    try:
        engine = create_store_engine(url)
    except StorageError as exc:
        return exc
    try:
        if current_revision(engine) is None:  # reachable, no tables of ours yet
            with engine.connect() as connection:
                connection.execute(text("select 1"))
            print(f"Base : {where(url)} joignable, vide : veille y créera ses tables.")
            return False
        return check_writable(sessionmaker(engine))
    except StorageError as exc:
        return exc
    except Exception as exc:  # the driver's own error
        problem = storage_problem(url, exc)
        if problem is None:
            raise  # a bug keeps its traceback
        return problem
    finally:
        engine.dispose()


def folder_problem(folder: Path, *, create: bool) -> str | None:
    """None when a file can be created in ``folder`` (made first if ``create``), else why
    not, in French. A real file is written and removed: as root, permissions say nothing."""
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".veille-essai-"):
            pass
    except OSError as exc:
        return os_reason(exc)
    return None


def check_folder(label: str, folder: Path) -> None:
    """One line for a folder veille writes to: usable, or « Attention : … » (exit stays 0)."""
    reason = folder_problem(folder, create=True)
    if reason is None:
        print(f"{label} : {folder} accessible en écriture.")
    else:
        print(
            f"Attention : {label.lower()} {folder} inutilisable ({reason}) : créez ce dossier "
            "ou donnez-en le droit d'écriture à l'utilisateur qui lance veille."
        )
