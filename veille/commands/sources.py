"""``veille sources``: the state of each source, or what each is worth (``--coverage``)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from storage.db import check_writable, open_database
from storage.store import MentionStore, SourceRecord
from veille.commands.console import (
    clip,
    config_of,
    format_table,
    local_time,
    parse_since,
    until,
    utc_now,
)
from veille.config import Config, SourceConfig
from veille.digest import is_stale, source_state
from veille.errors import EXIT_OK
from veille.exports import iso
from veille.pipeline import next_visit


def cmd_sources(args: argparse.Namespace) -> int:
    config = config_of(args)
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
        table.append(
            [
                clip(source.name, 30),
                source.type,
                source_state(source, record, now),
                local_time(record.last_success_at if record else None, config),
                _next_visit_text(source, record, now, config),
                str(failures),
                clip((record.last_error or record.last_warning or "") if record else "", 50),
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
    print(format_table(headers, table))
    rejected = [
        record
        for source in config.sources
        if (record := records.get(source.name)) is not None and record.items_rejected
    ]
    if rejected:
        print("\nÉléments rejetés (illisibles ou invalides, laissés de côté) :")
        for record in rejected:
            why = clip(record.last_rejection or "", 80)
            print(
                f"  {clip(record.name, 40)} : {record.items_rejected} élément(s) rejeté(s)"
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
        "last_success_at": iso(record.last_success_at) if record else None,
        "last_attempt_at": iso(record.last_attempt_at) if record else None,
        "failing_since": iso(record.failing_since) if record else None,
        "consecutive_failures": record.consecutive_failures if record else 0,
        "last_error": record.last_error if record else None,
        "items": record.items_seen if record else 0,
        "mentions": record.mentions_found if record else 0,
        "last_warning": record.last_warning if record else None,
        "next_attempt_at": iso(record.next_attempt_at) if record else None,
        "next_visit_at": iso(next_visit(source, record)) if source.enabled else None,
        "last_new_item_at": iso(record.last_new_item_at) if record else None,
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
    return until(due, config)


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
    table = [[clip(s.name, 40), s.type, str(total), str(alone)] for s, total, alone in counts]
    print(format_table(["Source", "Type", "Mentions", "Seule à les trouver"], table))
    return EXIT_OK
