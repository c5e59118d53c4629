"""Mentions as exported: JSON objects, and the CSV a French-Canadian Excel opens by
double-click. Shared by ``veille mentions --format json|excel`` and the workspace
(``/export.json``, ``/export.csv``, the JSON API), so both give the same fields."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from storage.store import MentionRecord
from veille.alerts import propos_label
from veille.sanitize import one_line

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
    "assignee",
    "tags",
    "tone",
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def mention_json(mention: MentionRecord) -> dict[str, Any]:
    """One mention as ``veille mentions --format json`` prints it, plus the workspace's
    fields (assignee, tags, tone)."""
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
        "assignee": mention.assignee,
        "tags": list(mention.tags),
        "tone": mention.tone,
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
        flat = {**row, "also_seen": "; ".join(row["also_seen"]), "tags": "; ".join(row["tags"])}
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
    "Responsable",
    "Étiquettes",
    "Ton",
)


def mentions_excel(mentions: Sequence[MentionRecord], zone: ZoneInfo) -> bytes:
    """What a French-Canadian Excel opens by double-click: UTF-8 with a BOM, ``;``
    between cells, French headers, oui/non, local dates (2026-11-28 14:05, which Excel
    reads as a date), every text on one line and safe."""

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
            m.assignee or "",
            ", ".join(one_line(tag) for tag in m.tags),
            m.tone or "",
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8-sig")
