"""``veille mentions`` (table, JSON, CSV, Excel) and ``veille triage``."""

from __future__ import annotations

import argparse
import json
import sys

from collectors import REGISTRY
from veille.app import open_store
from veille.commands.console import (
    clip,
    config_of,
    format_table,
    local_time,
    parse_since,
    utc_now,
)
from veille.errors import EXIT_OK, UsageError
from veille.exports import mention_json, mentions_csv, mentions_excel
from veille.statuses import STATUS_EXCLUDED, STATUSES
from veille.users import system_user


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
    if args.source_type is not None and args.source_type not in REGISTRY:
        raise UsageError(
            f"type de source inconnu « {args.source_type} » (types : {', '.join(sorted(REGISTRY))})"
        )
    config = config_of(args)
    since = parse_since(args.since, config.digest.zone) if args.since else None
    store = open_store(config)
    mentions = store.mentions(since=since, status=args.status, source_type=args.source_type)
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
                local_time(m.found_at, config),
                ("URGENT " if m.urgent else "") + m.status,
                clip(m.source, 24),
                clip(m.outlet or "", 24),
                clip(m.matched, 30),
                clip(m.title, 60),
            ]
            for m in mentions
        ]
        headers = ["N°", "Trouvée le", "Statut", "Source", "Média", "Forme trouvée", "Titre"]
        print(format_table(headers, table))
    return EXIT_OK


def cmd_triage(args: argparse.Namespace) -> int:
    check_status(args.status)
    wrong = [value for value in args.ids if not value.isdigit()]
    if wrong:
        raise UsageError(f"numéro de mention invalide « {wrong[0]} » (voir veille mentions)")
    config = config_of(args)
    store = open_store(config)
    ids = sorted({int(value) for value in args.ids})
    missing = store.change(ids, actor=system_user(), now=utc_now(), status=args.status)
    if missing:
        raise UsageError(
            f"mention(s) introuvable(s) : {', '.join(map(str, missing))} "
            "(rien n'a été changé ; voir veille mentions)"
        )
    print(f"{len(ids)} mention(s) marquée(s) « {args.status} ».")
    if args.status == STATUS_EXCLUDED:
        print("Une mention exclue n'entre dans aucun résumé et rescan ne la rétablit pas.")
    return EXIT_OK
