"""``veille mentions`` (table, JSON, CSV, Excel) and ``veille triage``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from collectors import REGISTRY
from storage.store import MentionRecord
from veille.alerts import propos_label
from veille.app import open_store
from veille.commands.console import (
    clip,
    config_of,
    format_table,
    iso,
    local_time,
    parse_since,
    utc_now,
)
from veille.errors import EXIT_OK, UsageError
from veille.sanitize import one_line
from veille.statuses import STATUS_EXCLUDED, STATUSES
from veille.users import system_user

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
    "propos",
    "author",
    "reply_to",
)


def mention_json(mention: MentionRecord) -> dict[str, Any]:
    return {
        "id": mention.id,
        "url": mention.url,
        "title": mention.title,
        "source": mention.source,
        "source_type": mention.source_type,
        "published_at": iso(mention.published_at),
        "found_at": iso(mention.found_at),
        "matched": mention.matched,
        "rule": mention.rule,
        "score": mention.score,
        "snippet": mention.snippet,
        "status": mention.status,
        "urgent": mention.urgent,
        "digest_id": mention.digest_id,
        "also_seen": list(mention.also_seen),
        "outlet": mention.outlet,
        "propos": mention.propos,  # the propos detector's category, or null
        "author": mention.author,  # who wrote a comment on an official account
        "reply_to": mention.reply_to,  # the first words of the post it answers
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
    "Propos",
    "Auteur",
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
            propos_label(m.propos) if m.propos else "",
            one_line(m.author or ""),
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
    if args.source_type is not None and args.source_type not in REGISTRY:
        raise UsageError(
            f"type de source inconnu « {args.source_type} » "
            f"(types : {', '.join(sorted(REGISTRY))})"
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
