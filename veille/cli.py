"""The ``veille`` command: the one place that builds objects and wires them together.

Exit statuses (a public interface, listed in the README):

- 0: success (also when the reader of a pipe, ``| head``, stopped early);
- 1: ``run`` worked but some sources (or an email) failed; ``digest`` could not send;
- 2: a user mistake: command line, config.yaml, a second ``veille daemon`` on one store;
- 3: the store cannot be used (``StorageError``: read-only, corrupt, folder missing,
  disk full, server unreachable); one French line says which database and what to do;
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import csv
import errno
import io
import json
import logging
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as default_policy
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from collectors import REGISTRY, options_models
from collectors.base import Collector
from collectors.http import HttpClient
from collectors.robots import RobotsPolicy
from matchers import BrandMatcher
from matchers.base import MatchResult
from storage import MentionStore, open_database
from storage.db import check_writable, create_store_engine, current_revision, storage_problem, where
from storage.store import STATUS_EXCLUDED, STATUSES, MentionRecord, SourceRecord
from veille import __version__
from veille.alerts import KeywordSpotter
from veille.config import Config, SourceConfig, config_path, load_config, parse_duration
from veille.demo import DEMO_OUTBOX, prepare_demo_folder, serve_demo_data, write_demo_config
from veille.errors import ConfigError, DeliveryError, StorageError, UsageError, VeilleError
from veille.lock import DatabaseLock, RunLock, daemon_lock_for, run_lock_for
from veille.mail import Mailer
from veille.pipeline import (
    ItemMatcher,
    RunReport,
    digest_due,
    digest_for,
    is_stale,
    next_visit,
    rescan,
    resume_pending_digests,
    run_once,
    send_digest,
    send_storage_notice,
    utc_now,
)
from veille.sanitize import one_line
from veille.scheduler import Daemon, build_scheduler

log = logging.getLogger("veille")

EXIT_OK, EXIT_SOURCES_FAILED, EXIT_USAGE, EXIT_STORAGE = 0, 1, 2, 3


# --- wiring -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class App:
    """Everything a command needs, built once from the configuration."""

    config: Config
    store: MentionStore
    item_matcher: ItemMatcher
    mailer: Mailer
    client: HttpClient
    collectors: dict[str, Collector]

    def run(self, *, force_all: bool = False, only: set[str] | None = None) -> RunReport:
        """One cycle of :func:`veille.pipeline.run_once` with this app's parts."""
        return run_once(
            self.config,
            client=self.client,
            store=self.store,
            item_matcher=self.item_matcher,
            mailer=self.mailer,
            collectors=self.collectors,
            clock=utc_now,
            force_all=force_all,
            only=only,
        )


def read_config(args: argparse.Namespace) -> Config:
    return load_config(config_path(args.config), source_types=options_models())


def build_matcher(config: Config) -> BrandMatcher:
    return BrandMatcher.from_brand(config.brand)


def build_app(config: Config) -> App:
    store = MentionStore(open_database(config.storage.url))
    robots = RobotsPolicy(user_agent=config.http.user_agent, cache=store, clock=utc_now)
    return App(
        config=config,
        store=store,
        item_matcher=ItemMatcher(build_matcher(config), KeywordSpotter(config.alerts.keywords)),
        mailer=Mailer(config.smtp, config.outbox_dir),
        client=HttpClient(config.http, robots=robots),
        collectors={s.name: REGISTRY[s.type].from_config(s, config.http) for s in config.sources},
    )


def run_lock(config: Config) -> RunLock | DatabaseLock:
    return run_lock_for(config.storage.url, config.path)


def acquire(lock: RunLock | DatabaseLock, config: Config, *, wait: float) -> bool:
    """``lock.acquire``; a lock that cannot be taken at all is a StorageError (exit 3)."""
    try:
        return lock.acquire(wait=wait)
    except OSError as exc:
        raise StorageError(
            f"impossible de prendre le verrou {lock.path} ({os_reason(exc)}) : son dossier doit "
            "être accessible en écriture à l'utilisateur qui lance veille"
        ) from None
    except SQLAlchemyError as exc:
        raise storage_problem(config.storage.url, exc) or StorageError(
            f"impossible de prendre le verrou de la base {where(config.storage.url)} "
            f"({exc.__class__.__name__})"
        ) from None


def wait_for_lock(config: Config, seconds: float = 120) -> RunLock | DatabaseLock | None:
    """The run lock, waiting for a running cycle to finish; None (and a message) if it won't."""
    lock = run_lock(config)
    if acquire(lock, config, wait=seconds):
        return lock
    print(
        f"Une autre exécution de veille est en cours (verrou {lock.path}) : réessayez.",
        file=sys.stderr,
    )
    return None


# --- output helpers ---------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _local(value: datetime | None, config: Config) -> str:
    if value is None:
        return "jamais"
    return value.astimezone(config.digest.zone).strftime("%Y-%m-%d %H:%M")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _clip(text: str, size: int) -> str:
    """``text`` on one line, without control or bidi characters, at most ``size`` long."""
    text = " ".join(one_line(text).split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _until(value: datetime, config: Config) -> str:
    """A moment to come, local: "14:05" today, "2026-11-30 14:05" another day."""
    local = value.astimezone(config.digest.zone)
    today = utc_now().astimezone(config.digest.zone).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"


_OS_REASONS = {
    errno.EACCES: "permission refusée",
    errno.EPERM: "permission refusée",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota de disque dépassé",
    errno.ENOENT: "dossier introuvable",
    errno.EEXIST: "un fichier porte déjà ce nom",
    errno.ENOTDIR: "ce n'est pas un dossier",
    errno.EISDIR: "c'est un dossier",
}


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in French when the reason is a common one."""
    return _OS_REASONS.get(exc.errno or 0) or exc.strerror or exc.__class__.__name__


# --- commands ---------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    config = read_config(args)
    print(f"{config.path} : configuration valide.")
    print(
        f"Marque : {config.brand.name} ({len(config.brand.aliases)} alias, "
        f"{len(config.brand.handles)} identifiants, {len(config.brand.exclude)} exclusions)"
    )
    print(f"{len(config.sources)} source(s) :")
    for source in config.sources:
        where = getattr(source, "url", None) or getattr(source, "query", "")
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
    try:
        engine = create_store_engine(url)
    except StorageError as exc:
        print(f"Base : {where(url)} inutilisable.")
        return exc
    try:
        if engine.dialect.name == "sqlite":
            database = (engine.url.database or "").removeprefix("file:")
            if database in ("", ":memory:"):
                print("Base : en mémoire (rien n'est gardé d'un lancement à l'autre).")
                return None
            path = Path(database)
            if path.exists():
                problem = check_writable(sessionmaker(engine))
            else:
                reason = folder_problem(path.parent, create=False)
                if reason is not None:
                    problem = StorageError(
                        f"impossible de créer la base {path} : dossier {path.parent} "
                        f"inutilisable ({reason}) ; créez-le ou donnez-en le droit d'écriture à "
                        "l'utilisateur qui lance veille, ou corrigez storage.url"
                    )
                else:
                    print(f"Base : {path} (SQLite) sera créée au premier lancement.")
                    return None
        else:
            if current_revision(engine) is None:  # reachable, no tables of ours yet
                with engine.connect() as connection:
                    connection.execute(text("select 1"))
                print(f"Base : {where(url)} joignable, vide : veille y créera ses tables.")
                return None
            problem = check_writable(sessionmaker(engine))
    except StorageError as exc:
        problem = exc
    except Exception as exc:  # the driver's own error (a corrupt file fails at connect)
        problem = storage_problem(url, exc)
        if problem is None:
            raise  # a bug keeps its traceback
    finally:
        engine.dispose()
    if problem is None:
        print(f"Base : {where(url)} accessible en écriture.")
    else:
        print(f"Base : {where(url)} inutilisable.")
    return problem


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


def every_text(seconds: float) -> str:
    for unit, size in (("j", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def cmd_run(args: argparse.Namespace) -> int:
    config = read_config(args)
    app = build_app(config)
    lock = run_lock(config)
    if not acquire(lock, config, wait=0):
        print(f"Une autre exécution de veille est en cours (verrou {lock.path}) : rien à faire.")
        return EXIT_OK
    with lock:
        report = app.run(force_all=args.all)
    visited = len(report.outcomes)
    print(
        f"{visited} source(s) visitée(s), {len(report.failed_sources)} en échec, "
        f"{report.new_mentions} nouvelle(s) mention(s)."
    )
    for wait in report.waiting:  # asked to be left alone (Retry-After, paused host)
        reason = f" ({one_line(wait.reason)})" if wait.reason else ""
        print(f"  {one_line(wait.name)} : en attente jusqu'à {_until(wait.until, config)}{reason}")
    for outcome in report.failed_sources:
        print(f"  Échec : {outcome.name} — {one_line(outcome.error or '')}", file=sys.stderr)
    if report.alerts_sent:
        print(f"{report.alerts_sent} alerte(s) urgente(s) envoyée(s).")
    if report.digest_subject:
        print(f"Résumé envoyé : {report.digest_subject}")
    for error in report.delivery_errors:
        print(f"Erreur d'envoi : {one_line(error)}", file=sys.stderr)
    return report.exit_code


def cmd_daemon(args: argparse.Namespace) -> int:
    config = read_config(args)
    alone = daemon_lock_for(config.storage.url, config.path)
    if not acquire(alone, config, wait=0):
        print(
            f"veille : un autre veille daemon tourne déjà sur cette base (verrou {alone.path}) : "
            "arrêtez-le d'abord (systemctl stop veille), ou donnez à celui-ci un autre "
            "storage.url.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    with alone:  # held for the daemon's whole life
        return _run_daemon(config)


def _run_daemon(config: Config) -> int:
    app = build_app(config)

    # A StorageError leaves these jobs: the Daemon logs it on one line, tells the
    # admins once, and the next job tries again.
    def cycle(name: str | None) -> None:
        lock = wait_for_lock(config, seconds=300)
        if lock is None:
            return
        with lock:
            app.run(only=None if name is None else {name})

    def digest() -> None:
        lock = wait_for_lock(config, seconds=300)
        if lock is None:
            return
        with lock:
            now = utc_now()
            try:
                resume_pending_digests(config, store=app.store, mailer=app.mailer, now=now)
                if digest_due(config, store=app.store, now=now):
                    send_digest(config, store=app.store, mailer=app.mailer, now=now)
            except DeliveryError as exc:
                log.error("Résumé non envoyé : %s (nouvel essai au prochain cycle)", exc)

    def storage_notice(error: StorageError | None) -> None:
        send_storage_notice(config, mailer=app.mailer, error=error, now=utc_now())

    daemon = Daemon(
        lambda run_source, run_digest: build_scheduler(
            config, run_source=run_source, run_digest=run_digest, now=utc_now()
        ),
        cycle=cycle,
        digest=digest,
        on_storage_error=storage_notice,
    )
    return daemon.run()


def cmd_digest(args: argparse.Namespace) -> int:
    config = read_config(args)
    app = build_app(config)
    now = utc_now()
    if args.dry_run:
        day = now.astimezone(config.digest.zone).date()
        digest = digest_for(
            config, store=app.store, mentions=app.store.unsent_mentions(), day=day, now=now
        )
        print(f"Objet : {digest.subject}\n")
        print(digest.text)
        print("(essai : rien n'a été envoyé ni marqué)")
        return EXIT_OK
    lock = wait_for_lock(config)
    if lock is None:
        return EXIT_SOURCES_FAILED
    with lock:
        try:
            resume_pending_digests(config, store=app.store, mailer=app.mailer, now=now)
            subject = send_digest(config, store=app.store, mailer=app.mailer, now=now)
        except DeliveryError as exc:
            print(
                f"Résumé non envoyé : {exc}. Les mentions seront envoyées au prochain essai.",
                file=sys.stderr,
            )
            return EXIT_SOURCES_FAILED
    if subject is None:
        print("Aucune nouvelle mention : rien à envoyer (send_empty: false).")
    else:
        print(f"Résumé envoyé ({app.mailer.destination}) : {subject}")
    return EXIT_OK


def parse_since(value: str, zone: ZoneInfo) -> datetime:
    """``--since``: a duration back from now (7d) or a date/time, local when no zone."""
    text = value.strip()
    try:
        return utc_now() - parse_duration(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"date invalide « {value} » pour --since (exemples : 2026-11-01, 7d, 12h)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


MENTION_FIELDS = (
    "id",
    "url",
    "title",
    "source",
    "source_type",
    "published_at",
    "found_at",
    "matched",
    "rule",
    "score",
    "snippet",
    "status",
    "urgent",
    "digest_id",
    "also_seen",
    "outlet",
)


def mention_json(mention: MentionRecord) -> dict[str, Any]:
    return {
        "id": mention.id,
        "url": mention.url,
        "title": mention.title,
        "source": mention.source,
        "source_type": mention.source_type,
        "published_at": _iso(mention.published_at),
        "found_at": _iso(mention.found_at),
        "matched": mention.matched,
        "rule": mention.rule,
        "score": mention.score,
        "snippet": mention.snippet,
        "status": mention.status,
        "urgent": mention.urgent,
        "digest_id": mention.digest_id,
        "also_seen": list(mention.also_seen),
        "outlet": mention.outlet,
    }


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will not run: text starting like a formula (= + - @, tab,
    carriage return) gets a leading apostrophe, which Excel and LibreOffice hide."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def mentions_csv(rows: Sequence[dict[str, Any]]) -> str:
    """``--format csv``: the JSON fields as columns, comma-separated, cells made safe."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MENTION_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = {**row, "also_seen": "; ".join(row["also_seen"])}
        writer.writerow({key: _csv_cell(value) for key, value in flat.items()})
    return buffer.getvalue()


def _csv_cell(value: object) -> object:
    """Safe, and with its carriage returns as line feeds: the csv module quotes a cell
    holding a line feed, not one holding a lone CR, which would cut the row in two."""
    value = spreadsheet_safe(value)
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


EXCEL_HEADERS = (
    "N°",
    "Titre",
    "Média",
    "Source",
    "Type de source",
    "Publiée le",
    "Trouvée le",
    "Statut",
    "Urgent",
    "Forme trouvée",
    "Règle",
    "Score",
    "Extrait",
    "Lien",
    "Aussi vu sur",
    "N° du résumé",
)


def mentions_excel(mentions: Sequence[MentionRecord], zone: ZoneInfo) -> bytes:
    """``--format excel``: what a French-Canadian Excel opens by double-click: UTF-8
    with a BOM, ``;`` between cells, French headers, oui/non, local dates
    (2026-11-28 14:05, which Excel reads as a date), every text on one line and safe."""

    def when(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXCEL_HEADERS)
    for m in mentions:
        cells: list[object] = [
            m.id,
            one_line(m.title),
            one_line(m.outlet or ""),
            m.source,
            m.source_type,
            when(m.published_at),
            when(m.found_at),
            m.status,
            "oui" if m.urgent else "non",
            one_line(m.matched),
            m.rule,
            m.score,
            one_line(m.snippet),
            one_line(m.url),
            ", ".join(m.also_seen),
            m.digest_id if m.digest_id is not None else "",
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")


def write_bytes(data: bytes) -> None:
    """Exact bytes on stdout (a BOM, CRLF), whatever the locale's encoding."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    buffer.write(data)
    buffer.flush()


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise UsageError(f"statut inconnu « {status} » (statuts : {', '.join(STATUSES)})")


def cmd_mentions(args: argparse.Namespace) -> int:
    if args.status:
        check_status(args.status)
    config = read_config(args)
    since = parse_since(args.since, config.digest.zone) if args.since else None
    store = MentionStore(open_database(config.storage.url))
    mentions = store.mentions(since=since, status=args.status)
    rows = [mention_json(m) for m in mentions]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(mentions_csv(rows))
    elif args.format == "excel":
        write_bytes(mentions_excel(mentions, config.digest.zone))
    else:
        if not mentions:
            print("Aucune mention enregistrée pour ces critères.")
            return EXIT_OK
        table = [
            [
                str(m.id),
                _local(m.found_at, config),
                ("URGENT " if m.urgent else "") + m.status,
                _clip(m.source, 24),
                _clip(m.outlet or "", 24),
                _clip(m.matched, 30),
                _clip(m.title, 60),
            ]
            for m in mentions
        ]
        headers = ["N°", "Trouvée le", "Statut", "Source", "Média", "Forme trouvée", "Titre"]
        print(_table(headers, table))
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    config = read_config(args)
    sessions = open_database(config.storage.url)
    store = MentionStore(sessions)
    if args.coverage:
        return _print_coverage(args, config, store)
    records = store.sources()
    now = utc_now()
    rows = [source_json(source, records.get(source.name), now) for source in config.sources]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    table = []
    for source in config.sources:
        record = records.get(source.name)
        failures = record.consecutive_failures if record else 0
        if not source.enabled:
            state = "désactivée"
        elif record is None or record.last_attempt_at is None:
            state = "jamais visitée"
        elif is_stale(source, record, now):
            state = "muette ?"
        else:
            state = (
                "EN PANNE" if failures else ("ok (avertissement)" if record.last_warning else "ok")
            )
        table.append(
            [
                _clip(source.name, 30),
                source.type,
                state,
                _local(record.last_success_at if record else None, config),
                _next_visit_text(source, record, now, config),
                str(failures),
                _clip((record.last_error or record.last_warning or "") if record else "", 50),
                str(record.items_seen if record else 0),
                str(record.items_rejected if record else 0),
                str(record.mentions_found if record else 0),
            ]
        )
    headers = [
        "Source",
        "Type",
        "État",
        "Dernier succès",
        "Prochaine visite",
        "Échecs",
        "Dernière erreur",
        "Éléments",
        "Rejetés",
        "Mentions",
    ]
    print(_table(headers, table))
    rejected = [
        record
        for source in config.sources
        if (record := records.get(source.name)) is not None and record.items_rejected
    ]
    if rejected:
        print("\nÉléments rejetés (illisibles ou invalides, laissés de côté) :")
        for record in rejected:
            why = _clip(record.last_rejection or "", 80)
            print(
                f"  {_clip(record.name, 40)} : {record.items_rejected} élément(s) rejeté(s)"
                + (f" — dernier motif : {why}" if why else "")
            )
    failing = sum(1 for r in rows if r["consecutive_failures"])
    print(f"\n{len(rows) - failing} source(s) sur {len(rows)} fonctionnent.")
    problem = check_writable(sessions)  # what a daemon would be failing on right now
    if problem is not None:
        print(
            f"BASE DE DONNÉES : écriture impossible, rien de nouveau n'est enregistré — {problem}"
        )
    return EXIT_OK


def source_json(source: SourceConfig, record: SourceRecord | None, now: datetime) -> dict[str, Any]:
    """One source in ``veille sources --format json``."""
    return {
        "name": source.name,
        "type": source.type,
        "enabled": source.enabled,
        "last_success_at": _iso(record.last_success_at) if record else None,
        "last_attempt_at": _iso(record.last_attempt_at) if record else None,
        "failing_since": _iso(record.failing_since) if record else None,
        "consecutive_failures": record.consecutive_failures if record else 0,
        "last_error": record.last_error if record else None,
        "items": record.items_seen if record else 0,
        "mentions": record.mentions_found if record else 0,
        "last_warning": record.last_warning if record else None,
        "next_attempt_at": _iso(record.next_attempt_at) if record else None,
        "next_visit_at": _iso(next_visit(source, record)) if source.enabled else None,
        "last_new_item_at": _iso(record.last_new_item_at) if record else None,
        "stale": is_stale(source, record, now),
        "items_rejected": record.items_rejected if record else 0,
        "last_rejection": record.last_rejection if record else None,
    }


def _next_visit_text(
    source: SourceConfig, record: SourceRecord | None, now: datetime, config: Config
) -> str:
    """When ``veille run`` will visit ``source`` (back-off and Retry-After included)."""
    if not source.enabled:
        return "—"
    due = next_visit(source, record)
    if due is None or due <= now:
        return "au prochain cycle"
    return _until(due, config)


def _print_coverage(args: argparse.Namespace, config: Config, store: MentionStore) -> int:
    """What each source is worth: mentions it found, and mentions only it found."""
    since = parse_since(args.since, config.digest.zone) if args.since else None
    found = store.coverage(since)
    counts = [(s, *found.get(s.name, (0, 0))) for s in config.sources]
    if args.format == "json":
        rows = [
            {"name": s.name, "type": s.type, "mentions": total, "only": alone}
            for s, total, alone in counts
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    period = f"depuis {args.since}" if args.since else "depuis le début"
    print(
        f"Couverture {period} : mentions trouvées par chaque source, et celles que seule "
        "cette source a trouvées."
    )
    table = [[_clip(s.name, 40), s.type, str(total), str(alone)] for s, total, alone in counts]
    print(_table(["Source", "Type", "Mentions", "Seule à les trouver"], table))
    return EXIT_OK


def _match_json(identifier: object, result: MatchResult) -> str:
    return json.dumps(
        {
            "id": identifier,
            "matched": result.matched,
            "score": result.score,
            "spans": [{"start": s.start, "end": s.end, "text": s.text} for s in result.spans],
        },
        ensure_ascii=False,
    )


def cmd_match(args: argparse.Namespace) -> int:
    if bool(args.text) == bool(args.file):
        raise UsageError("donnez soit un TEXTE, soit --file F.jsonl")
    config = read_config(args)
    matcher = build_matcher(config)
    if args.file:
        return _match_file(matcher, Path(args.file))
    result = matcher.explain(args.text)
    if not result.matched:
        print("Aucune mention.")
        if result.near_miss:
            print(f"Candidat le plus proche : {result.near_miss}.")
        return EXIT_OK
    print(f"Mention trouvée (score {result.score}).")
    for span in result.spans:
        print(
            f"  « {' '.join(span.text.split())} » [{span.start}:{span.end}] — règle : {span.rule}, "
            f"forme : {span.form}, score {span.score}"
        )
    return EXIT_OK


def _match_file(matcher: BrandMatcher, path: Path) -> int:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: lecture impossible ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
                if not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise UsageError(
                    f"{path}: ligne {number} : objet JSON avec « id » et « text » attendu"
                ) from None
            print(_match_json(row.get("id"), matcher.match(text)), flush=False)
    return EXIT_OK


def cmd_rescan(args: argparse.Namespace) -> int:
    config = read_config(args)
    since = parse_since(args.since, config.digest.zone) if args.since else None
    app = build_app(config)
    lock = wait_for_lock(config)
    if lock is None:
        return EXIT_SOURCES_FAILED
    with lock:
        report = rescan(store=app.store, item_matcher=app.item_matcher, now=utc_now(), since=since)
    print(
        f"{report.items} élément(s) analysé(s) de nouveau : {report.new_mentions} nouvelle(s) "
        f"mention(s) (dans le prochain résumé), {report.excluded} mention(s) marquée(s) "
        f"« exclu », {report.restored} rétablie(s)."
    )
    return EXIT_OK


def cmd_triage(args: argparse.Namespace) -> int:
    check_status(args.status)
    wrong = [value for value in args.ids if not value.isdigit()]
    if wrong:
        raise UsageError(f"numéro de mention invalide « {wrong[0]} » (voir veille mentions)")
    config = read_config(args)
    store = MentionStore(open_database(config.storage.url))
    ids = sorted({int(value) for value in args.ids})
    missing = store.set_status(ids, args.status)
    if missing:
        raise UsageError(
            f"mention(s) introuvable(s) : {', '.join(map(str, missing))} "
            "(rien n'a été changé ; voir veille mentions)"
        )
    print(f"{len(ids)} mention(s) marquée(s) « {args.status} ».")
    if args.status == STATUS_EXCLUDED:
        print("Une mention exclue n'entre dans aucun résumé et rescan ne la rétablit pas.")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    target = folder / "config.yaml"
    if target.exists():
        raise UsageError(f"{target} existe déjà : rien n'a été écrit")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        starter = resources.files("veille").joinpath("starter_config.yaml")
        target.write_text(starter.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{target}: écriture impossible ({exc.strerror})") from None
    print(f"{target} écrit. Adaptez-le, puis vérifiez : veille --config {target} check")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The offline tour, into a workspace that stays (``--dir``, reset at each demo)."""
    workdir = Path(args.dir)
    reset = prepare_demo_folder(workdir)
    outbox = Path(args.outbox).resolve() if args.outbox else None
    with serve_demo_data() as (base, samples):
        print(f"Démo de veille : sources d'exemple servies sur {base} (hors ligne).")
        path = write_demo_config(samples, base=base, workdir=workdir, outbox=outbox)
        config = load_config(path, source_types=options_models())
        outbox = config.outbox_dir.resolve()
        before = set(outbox.glob("*.eml")) if outbox.exists() else set()
        app = build_app(config)
        report = app.run(force_all=True)
        items = sum(o.items for o in report.outcomes)
        print(
            f"Cycle terminé : {len(report.outcomes)} sources visitées, "
            f"{len(report.failed_sources)} en panne (exprès), {items} éléments lus, "
            f"{report.new_mentions} mentions trouvées."
        )
        mentions = app.store.mentions()
        for mention in mentions:
            flag = "URGENT " if mention.urgent else ""
            title = _clip(mention.title, 100)
            print(f"  - {flag}« {one_line(mention.matched)} » ({mention.rule}) — {title}")
    written = sorted(set(outbox.glob("*.eml")) - before)
    print(f"\n{len(written)} courriel(s) écrit(s) dans {outbox} :")
    for email_file in written:
        print(f"  {email_file}  ({_clip(_subject_of(email_file), 120)})")
    print("\nOuvrez ces fichiers .eml avec votre logiciel de courriel (Outlook, Thunderbird…).")
    shown = shlex.quote(str(path))
    state = "remis à neuf (démo précédente effacée)" if reset else "créé"
    print(
        f"\nDossier de la démo {state} : {workdir}{os.sep} garde config.yaml, la base veille.db"
        f"{' et ' + DEMO_OUTBOX + '/' if args.outbox is None else ''}. "
        "Pour continuer sur cette base :"
    )
    first = mentions[-1].id if mentions else 1
    for command in (
        "mentions",
        "mentions --format excel > mentions.csv",
        f"triage {first} --status traité",
        "rescan",
        "sources",
        'match "Bravo au Cegep Drummondville!"',
    ):
        print(f"  veille --config {shown} {command}")
    print("Relancer veille demo efface cette démo et en refait une neuve dans le même dossier.")
    return EXIT_OK


def _subject_of(path: Path) -> str:
    with path.open("rb") as handle:
        message = BytesParser(policy=default_policy).parse(handle, headersonly=True)
    return str(message["Subject"])


# --- parser -----------------------------------------------------------------------

_ARGPARSE_FR = (
    (r"unrecognized arguments: (.*)", r"argument inconnu : \1"),
    (r"the following arguments are required: (.*)", r"argument obligatoire manquant : \1"),
    (
        r"argument (\S+): invalid choice: (\S+) \(choose from (.*)\)",
        r"choix invalide \2 pour \1 (choix possibles : \3)",
    ),
    (r"argument (\S+): expected one argument", r"l'option \1 attend une valeur"),
    (r"invalid choice: (\S+) \(choose from (.*)\)", r"commande inconnue \1 (commandes : \2)"),
)


class _Parser(argparse.ArgumentParser):
    """argparse in French: help, section titles and errors (as a UsageError, exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "utilisation :", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "utilisation :", 1)

    def error(self, message: str) -> NoReturn:
        for pattern, replacement in _ARGPARSE_FR:
            if re.search(pattern, message):
                message = re.sub(pattern, replacement, message)
                break
        raise UsageError(f"{message} (voir veille --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="veille",
        description="Mécanisme de veille : trouve les mentions de l'établissement sur le Web "
        "et envoie un résumé quotidien par courriel.",
    )
    parser.add_argument(
        "--config", help="fichier de configuration (défaut : ./config.yaml ou $VEILLE_CONFIG)"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="niveau du journal",
    )
    parser.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help="format du journal (json pour journald/ELK)",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"veille {__version__}",
        help="afficher la version et quitter",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=_Parser)
    commands.required = True

    commands.add_parser("check", help="valider la configuration et lister les sources")
    run = commands.add_parser("run", help="un cycle : collecter, trouver, enregistrer, avertir")
    run.add_argument(
        "--all",
        action="store_true",
        help="visiter toutes les sources, même celles qui ne sont pas dues",
    )
    commands.add_parser(
        "daemon", help="tourner en continu : chaque source à son rythme, le résumé à l'heure dite"
    )
    digest = commands.add_parser(
        "digest", help="envoyer maintenant le résumé des mentions pas encore envoyées"
    )
    digest.add_argument(
        "--dry-run", action="store_true", help="afficher le résumé sans l'envoyer ni rien marquer"
    )
    mentions = commands.add_parser("mentions", help="lister les mentions enregistrées")
    mentions.add_argument("--since", help="depuis une date (2026-11-01) ou une durée (7d)")
    mentions.add_argument("--status", help=f"statut ({', '.join(STATUSES)})")
    mentions.add_argument(
        "--format",
        default="table",
        choices=["table", "json", "csv", "excel"],
        help="table (défaut), json, csv, ou excel : CSV pour Excel en français "
        "(point-virgule, en-têtes français, dates locales)",
    )
    sources = commands.add_parser("sources", help="état de chaque source")
    sources.add_argument("--format", default="table", choices=["table", "json"])
    sources.add_argument(
        "--coverage",
        action="store_true",
        help="mentions trouvées par chaque source et celles qu'elle seule a trouvées",
    )
    sources.add_argument("--since", help="avec --coverage : depuis une date ou une durée (30d)")
    match = commands.add_parser("match", help="essayer le détecteur de mentions sur un texte")
    match.add_argument("text", nargs="?", help="le texte à analyser")
    match.add_argument("--file", help="fichier JSONL (un objet par ligne avec id et text)")
    triage = commands.add_parser(
        "triage", help="donner un statut à des mentions (traité, exclu, nouveau)"
    )
    triage.add_argument("ids", nargs="+", metavar="N°", help="numéros des mentions")
    triage.add_argument("--status", required=True, help=f"statut ({', '.join(STATUSES)})")
    again = commands.add_parser(
        "rescan", help="analyser de nouveau les éléments déjà vus (après un changement de brand:)"
    )
    again.add_argument("--since", help="seulement les éléments vus depuis (2026-11-01, 30d)")
    init = commands.add_parser("init", help="écrire un config.yaml de départ, commenté")
    init.add_argument("dir", nargs="?", default=".", help="dossier (défaut : dossier courant)")
    demo = commands.add_parser("demo", help="visite guidée hors ligne avec des sources d'exemple")
    demo.add_argument(
        "--dir",
        default="veille-demo",
        help="dossier de la démo, gardé ensuite : config.yaml, veille.db, outbox/ "
        "(défaut : ./veille-demo ; remis à neuf à chaque démo)",
    )
    demo.add_argument(
        "--outbox", help="dossier où écrire les courriels (défaut : outbox/ dans le dossier --dir)"
    )
    return parser


COMMANDS = {
    "check": cmd_check,
    "run": cmd_run,
    "daemon": cmd_daemon,
    "digest": cmd_digest,
    "mentions": cmd_mentions,
    "sources": cmd_sources,
    "match": cmd_match,
    "rescan": cmd_rescan,
    "triage": cmd_triage,
    "init": cmd_init,
    "demo": cmd_demo,
}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


class _OneLine(logging.Filter):
    """Log messages on one line, without control or bidi characters: a title from the
    web cannot forge a log line or reorder what the admin reads. Tracebacks, added by
    the formatter after the message, keep their lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = one_line(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_OneLine())
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "alembic", "asyncio", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        configure_logging(args.log_level, args.log_format)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a pipe closed early shows here, not in a message at exit
        return code
    except (ConfigError, UsageError) as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"veille : {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except VeilleError as exc:
        print(f"veille : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader of a pipe stopped early (veille mentions | head -1): not an error.
        # Point stdout at /dev/null so that flushing it at exit does not fail again.
        _silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (stdout replaced in-process)
        pass
