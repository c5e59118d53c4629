"""The ``veille`` command: parser, logging, and the one place errors become exit statuses.

The commands themselves live in :mod:`veille.commands`, each module imported only
when its command runs, so that ``veille --help`` (and every cron start) does not
pay for SQLAlchemy, httpx and the collectors. Exit statuses are listed in
:mod:`veille.errors` and the README.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from veille import __version__
from veille.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STORAGE,
    EXIT_USAGE,
    ConfigError,
    StorageError,
    UsageError,
    VeilleError,
)
from veille.sanitize import one_line
from veille.statuses import STATUSES

__all__ = ["EXIT_STORAGE", "EXIT_USAGE", "build_parser", "configure_logging", "main"]

Command = Callable[[argparse.Namespace], int]


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
    mentions.add_argument(
        "--source-type",
        help="seulement ce type de source (feed, search, page, account : nos comptes officiels)",
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
        "triage", help="donner un statut à des mentions (nouveau, en cours, traité, exclu)"
    )
    triage.add_argument("ids", nargs="+", metavar="N°", help="numéros des mentions")
    triage.add_argument("--status", required=True, help=f"statut ({', '.join(STATUSES)})")
    again = commands.add_parser(
        "rescan", help="analyser de nouveau les éléments déjà vus (après un changement de brand:)"
    )
    again.add_argument("--since", help="seulement les éléments vus depuis (2026-11-01, 30d)")
    propos = commands.add_parser(
        "propos", help="essayer le détecteur de propos injurieux sur un texte (ou un fichier)"
    )
    propos.add_argument("text", nargs="?", help="le texte à analyser")
    propos.add_argument("--file", help="fichier JSONL (un objet par ligne avec id et text)")
    hide = commands.add_parser(
        "masquer",
        help="masquer un commentaire sur un compte officiel, par l'API de la plateforme",
    )
    hide.add_argument("id", metavar="N°", help="numéro de la mention (voir veille mentions)")
    user = commands.add_parser("user", help="gérer les utilisateurs du poste de veille (web)")
    user.add_argument("action", choices=["add", "list", "remove", "passwd"])
    user.add_argument("email", nargs="?", metavar="COURRIEL")
    user.add_argument("--role", default="lecteur", help="lecteur, éditeur ou admin")
    user.add_argument(
        "--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard"
    )
    user.add_argument("--format", default="table", choices=["table", "json"])
    token = commands.add_parser("token", help="gérer les jetons de l'API JSON")
    token.add_argument("action", choices=["add", "list", "remove"])
    token.add_argument("name", nargs="?", metavar="NOM")
    token.add_argument("--role", default="lecteur", help="lecteur, éditeur ou admin")
    exclusions = commands.add_parser(
        "exclusions", help="sites ignorés (« Ignorer ce site ») : lister, ajouter, retirer"
    )
    exclusions.add_argument("action", nargs="?", default="list", choices=["list", "add", "remove"])
    exclusions.add_argument("site", nargs="?", metavar="SITE")
    exclusions.add_argument("--reason", help="pourquoi ce site est ignoré")
    exclusions.add_argument("--format", default="table", choices=["table", "yaml"])
    web = commands.add_parser("web", help="servir le poste de veille (défaut : 127.0.0.1:8080)")
    web.add_argument("--host", help="adresse d'écoute (défaut : 127.0.0.1, ou web.host)")
    web.add_argument("--port", type=int, help="port (défaut : 8080, ou web.port)")
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


def command_for(name: str) -> Command:
    """The function of command ``name``, importing its module only now."""
    match name:
        case "check":
            from veille.commands.check import cmd_check

            return cmd_check
        case "run":
            from veille.commands.collect import cmd_run

            return cmd_run
        case "daemon":
            from veille.commands.collect import cmd_daemon

            return cmd_daemon
        case "digest":
            from veille.commands.collect import cmd_digest

            return cmd_digest
        case "rescan":
            from veille.commands.collect import cmd_rescan

            return cmd_rescan
        case "mentions":
            from veille.commands.mentions import cmd_mentions

            return cmd_mentions
        case "triage":
            from veille.commands.mentions import cmd_triage

            return cmd_triage
        case "sources":
            from veille.commands.sources import cmd_sources

            return cmd_sources
        case "match":
            from veille.commands.match import cmd_match

            return cmd_match
        case "propos":
            from veille.commands.propos import cmd_propos

            return cmd_propos
        case "masquer":
            from veille.commands.moderation import cmd_masquer

            return cmd_masquer
        case "user":
            from veille.commands.workspace import cmd_user

            return cmd_user
        case "token":
            from veille.commands.workspace import cmd_token

            return cmd_token
        case "exclusions":
            from veille.commands.workspace import cmd_exclusions

            return cmd_exclusions
        case "web":
            from veille.commands.workspace import cmd_web

            return cmd_web
        case "init":
            from veille.commands.setup import cmd_init

            return cmd_init
        case "demo":
            from veille.commands.setup import cmd_demo

            return cmd_demo
    raise UsageError(f"commande inconnue {name} (voir veille --help)")


# --- logging ----------------------------------------------------------------------


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


# --- main -------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        configure_logging(args.log_level, args.log_format)
        code = command_for(args.command)(args)
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
        return EXIT_INTERRUPTED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (stdout replaced in-process)
        pass
