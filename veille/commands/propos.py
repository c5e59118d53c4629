"""``veille propos``: the propos detector on a text (explained) or a JSONL file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from matchers.propos import ProposDetector, ProposVerdict
from veille.app import build_propos
from veille.commands.console import config_of
from veille.config import Config
from veille.errors import EXIT_OK, UsageError


def detector_of(config: Config) -> tuple[ProposDetector, int]:
    """The detector configured by the ``propos:`` block of config.yaml (built by
    veille.app, like the pipeline's), and the severity from which a verdict is an
    alert."""
    return build_propos(config), config.propos.alert_at  # ConfigError if a word is malformed


def is_alert(verdict: ProposVerdict, alert_at: int) -> bool:
    return verdict.category is not None and verdict.severity >= alert_at


def cmd_propos(args: argparse.Namespace) -> int:
    if bool(args.text) == bool(args.file):
        raise UsageError("donnez soit un TEXTE, soit --file F.jsonl")
    detector, alert_at = detector_of(config_of(args))
    if args.file:
        return _judge_file(detector, alert_at, Path(args.file))
    verdict = detector.judge(args.text)
    if verdict.category is None:
        print("Rien à signaler.")
    else:
        if is_alert(verdict, alert_at):
            heading = "Propos à signaler"
        else:
            heading = f"Propos repéré, sous le seuil d'alerte (propos.alert_at : {alert_at})"
        print(f"{heading} : {verdict.category.value}, gravité {verdict.severity}.")
        print("  Mots : " + ", ".join(f"« {' '.join(w.split())} »" for w in verdict.words))
        print(f"  Raison : {verdict.reason}")
    for note in verdict.notes:
        print(f"  Note : {note}")
    return EXIT_OK


def _judge_file(detector: ProposDetector, alert_at: int, path: Path) -> int:
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
            verdict = detector.judge(text)
            print(
                json.dumps(
                    {
                        "id": row.get("id"),
                        "alert": is_alert(verdict, alert_at),
                        "label": verdict.category.value if verdict.category else None,
                        "severity": verdict.severity,
                        "words": list(verdict.words),
                    },
                    ensure_ascii=False,
                )
            )
    return EXIT_OK
