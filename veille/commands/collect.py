"""The commands that collect and send: ``run``, ``daemon``, ``digest``, ``rescan``.

Each takes the run lock (the daemon also its own lock) so that two processes on
one store never collect or send the same thing twice.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from storage.lock import daemon_lock_for
from veille.app import acquire, build_app, run_lock, wait_for_lock
from veille.commands.console import config_of, parse_since, until
from veille.config import Config
from veille.errors import EXIT_OK, EXIT_SOURCES_FAILED, EXIT_USAGE, DeliveryError, StorageError
from veille.pipeline import rescan, utc_now
from veille.sanitize import one_line
from veille.scheduler import Daemon, build_scheduler

log = logging.getLogger(__name__)


def cmd_run(args: argparse.Namespace) -> int:
    config = config_of(args)
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
        print(f"  {one_line(wait.name)} : en attente jusqu'à {until(wait.until, config)}{reason}")
    for outcome in report.outcomes:  # what an API counted (YouTube's daily quota…)
        if outcome.usage:
            print(f"  {one_line(outcome.name)} : {one_line(outcome.usage)}")
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
    config = config_of(args)
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
    stopping = threading.Event()  # set by SIGTERM/SIGINT: a cycle then ends quickly

    # A StorageError leaves these jobs: the Daemon logs it on one line, tells the
    # admins once, and the next job tries again.
    def cycle(name: str | None) -> None:
        lock = wait_for_lock(config, seconds=300)
        if lock is None:
            return
        with lock:
            app.run(only=None if name is None else {name}, stopping=stopping)

    def digest() -> None:
        lock = wait_for_lock(config, seconds=300)
        if lock is None:
            return
        with lock:
            try:
                app.notifier.send_digest(utc_now())  # if due
            except DeliveryError as exc:
                log.error("Résumé non envoyé : %s (nouvel essai au prochain cycle)", exc)

    def storage_notice(error: StorageError | None) -> None:
        app.notifier.send_storage_notice(error, utc_now())

    daemon = Daemon(
        lambda run_source, run_digest: build_scheduler(
            config, run_source=run_source, run_digest=run_digest, now=utc_now()
        ),
        cycle=cycle,
        digest=digest,
        on_storage_error=storage_notice,
        stopping=stopping,
    )
    if config.web is None:
        return daemon.run()
    # the workspace in the same process (one systemd unit): served from a thread, stopped
    # when the daemon stops
    from veille.web.server import build_server  # Starlette and uvicorn: only with web:

    server = build_server(app, config.web.host, config.web.port)
    web = threading.Thread(target=server.run, name="poste-de-veille", daemon=True)
    web.start()
    log.info("Poste de veille servi sur http://%s:%d", config.web.host, config.web.port)
    try:
        return daemon.run()
    finally:
        server.should_exit = True
        web.join(timeout=10)


def cmd_digest(args: argparse.Namespace) -> int:
    config = config_of(args)
    app = build_app(config)
    now = utc_now()
    if args.dry_run:
        digest = app.notifier.preview_digest(now)
        print(f"Objet : {digest.subject}\n")
        print(digest.text)
        print("(essai : rien n'a été envoyé ni marqué)")
        return EXIT_OK
    lock = wait_for_lock(config)
    if lock is None:
        return EXIT_SOURCES_FAILED
    with lock:
        try:
            subject = app.notifier.send_digest(now, force=True)
        except DeliveryError as exc:
            print(
                f"Résumé non envoyé : {exc}. Les mentions seront envoyées au prochain essai.",
                file=sys.stderr,
            )
            return EXIT_SOURCES_FAILED
    if subject is None:
        print("Aucune nouvelle mention : rien à envoyer (send_empty: false).")
    else:
        print(f"Résumé envoyé ({app.notifier.mailer.destination}) : {subject}")
    return EXIT_OK


def cmd_rescan(args: argparse.Namespace) -> int:
    config = config_of(args)
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
